"""Headless Chromium: a question nothing answers says why and still shows the closest passages with their real province."""
from __future__ import annotations

from tests.web.conftest import ARTIFACTS
from tests.web.test_browser import ask


def test_a_province_no_document_is_about_is_said_and_the_closest_passages_are_shown(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    wait = WebDriverWait(browser, 60)
    browser.get(server.url + "/")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#qa-question textarea")))
    turn = ask(browser, wait, "Tỷ lệ che phủ rừng của Hà Giang năm 2024 là bao nhiêu?", 1)
    assert turn.find_element(By.CSS_SELECTOR, ".qa-notcovered").text == \
        "Không có văn bản nào của Hà Giang trong các văn bản hiện có."
    assert not turn.find_elements(By.CSS_SELECTOR, ".qa-answer")                 # no other province's figure as the answer
    assert "Không tìm thấy câu trả lời" in turn.find_element(By.CSS_SELECTOR, ".qa-noanswer").text
    closest = turn.find_elements(By.CSS_SELECTOR, ".qa-closest .qa-cite")
    assert closest and "không trả lời trực tiếp" in turn.find_element(By.CSS_SELECTOR, ".qa-h-closest").text
    provinces = [c.find_element(By.CSS_SELECTOR, ".qa-province").text for c in closest]
    assert provinces and all(p in ("Tỉnh: Lạng Sơn", "Tỉnh: Bắc Giang") for p in provinces)
    assert any("che phủ rừng" in c.find_element(By.CSS_SELECTOR, ".qa-passage").text for c in closest)
    browser.save_screenshot(str(ARTIFACTS / "browser-no-answer.png"))
