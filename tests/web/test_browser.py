"""Headless Chromium (Debian's chromium + chromedriver, driven by Selenium) asks the forest question in the chat."""
from __future__ import annotations

from tests.web.conftest import ARTIFACTS


def test_chat_answers_with_citation_and_opens_the_document(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    wait = WebDriverWait(browser, 60)
    browser.get(server.url + "/")
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#qa-question textarea")))
    assert "Câu hỏi mẫu" in browser.page_source                      # example questions on the empty screen
    box.send_keys("Tỷ lệ che phủ rừng năm 2024 của Lạng Sơn là bao nhiêu?")
    browser.find_element(By.ID, "qa-ask").click()
    wait.until(lambda d: "64,6%" in d.find_element(By.ID, "qa-chat").text)
    chat = browser.find_element(By.ID, "qa-chat")
    assert chat.find_elements(By.CSS_SELECTOR, ".qa-cite .qa-src-title")
    assert chat.find_elements(By.CSS_SELECTOR, "mark.fig")
    browser.save_screenshot(str(ARTIFACTS / "browser-chat.png"))

    cited = [a for a in chat.find_elements(By.CSS_SELECTOR, ".qa-cite a.cite-link")
             if "64,6%" in a.find_element(By.XPATH, "./ancestor::li[1]").text]
    cited[0].click()
    frame = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#qa-modal.open iframe")))
    browser.switch_to.frame(frame)
    line = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".ln.cited")))
    assert "64,6%" in line.text
    assert browser.execute_script("var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;", line)
    browser.switch_to.default_content()
    browser.save_screenshot(str(ARTIFACTS / "browser-viewer.png"))

    browser.find_element(By.CSS_SELECTOR, "#qa-modal .close").click()
    browser.find_element(By.XPATH, "//label[contains(., 'English')]").click()
    wait.until(lambda d: d.find_element(By.ID, "qa-ask").text.strip() == "Ask")
    wait.until(lambda d: "Sources" in d.find_element(By.ID, "qa-chat").text)
