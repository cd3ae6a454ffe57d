"""Headless Chromium (Debian's chromium + chromedriver, driven by Selenium): the chat answers with citations, a
confidence in words and [n] links, carries a follow-up, opens the cited document, and switches to English."""
from __future__ import annotations

from tests.web.conftest import ARTIFACTS

IN_VIEW = "var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;"


def ask(browser, wait, question: str, turns: int):
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, "#qa-question textarea").send_keys(question)
    browser.find_element(By.ID, "qa-ask").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#qa-chat .qa-turn")) == turns)
    return browser.find_elements(By.CSS_SELECTOR, "#qa-chat .qa-turn")[-1]


def test_chat_answers_with_citation_and_opens_the_document(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    wait = WebDriverWait(browser, 60)
    browser.get(server.url + "/")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#qa-question textarea")))
    assert "Câu hỏi mẫu" in browser.page_source                      # example questions on the empty screen
    turn = ask(browser, wait, "Tỷ lệ che phủ rừng năm 2024 của Lạng Sơn là bao nhiêu?", 1)
    assert "64,6%" in turn.find_element(By.CSS_SELECTOR, ".qa-answer").text
    assert turn.find_elements(By.CSS_SELECTOR, ".qa-cite .qa-src-title") and turn.find_elements(By.CSS_SELECTOR, "mark.fig")
    assert turn.find_element(By.CSS_SELECTOR, ".qa-confidence").text == "Độ tin cậy: cao"
    assert "điểm" not in turn.text and "Ngày: 06/12/2023" in turn.text
    browser.save_screenshot(str(ARTIFACTS / "browser-chat.png"))

    browser.execute_script("window.scrollTo(0, 0)")
    turn.find_element(By.CSS_SELECTOR, ".qa-ref a[href='#qa-c0-2']").click()      # [2] jumps to its source
    target = browser.find_element(By.ID, "qa-c0-2")
    wait.until(lambda d: d.execute_script("return location.hash") == "#qa-c0-2")
    assert browser.execute_script(IN_VIEW, target) and target.text.startswith("[2]")

    follow = ask(browser, wait, "Còn Bắc Giang thì sao?", 2)                        # a follow-up, read in context
    assert "Hiểu là: Tỷ lệ che phủ rừng năm 2024 của Bắc Giang là bao nhiêu?" in follow.text
    assert "37,7%" in follow.find_element(By.CSS_SELECTOR, ".qa-answer").text
    assert follow.find_element(By.CSS_SELECTOR, "#qa-c1-1").text.count("Bắc Giang") >= 1
    browser.save_screenshot(str(ARTIFACTS / "browser-follow-up.png"))

    first = browser.find_elements(By.CSS_SELECTOR, "#qa-chat .qa-turn")[0]
    cited = [a for a in first.find_elements(By.CSS_SELECTOR, ".qa-cite a.cite-link")
             if "64,6%" in a.find_element(By.XPATH, "./ancestor::li[1]").text]
    browser.execute_script("arguments[0].click()", cited[0])
    frame = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#qa-modal.open iframe")))
    browser.switch_to.frame(frame)
    line = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".ln.cited")))
    assert "64,6%" in line.text and browser.execute_script(IN_VIEW, line)
    browser.switch_to.default_content()
    browser.save_screenshot(str(ARTIFACTS / "browser-viewer.png"))

    browser.find_element(By.CSS_SELECTOR, "#qa-modal .close").click()
    browser.execute_script("window.scrollTo(0, 0)")
    browser.find_element(By.XPATH, "//label[contains(., 'English')]").click()
    wait.until(lambda d: d.find_element(By.ID, "qa-ask").text.strip() == "Ask")
    wait.until(lambda d: "Sources" in d.find_element(By.ID, "qa-chat").text)
    first = browser.find_elements(By.CSS_SELECTOR, "#qa-chat .qa-turn")[0]
    for label in ("Answer (quoted from the document, in Vietnamese)", "Confidence: high", "Type: Resolution (Nghị quyết)",
                  "Issued by: Ban Chấp hành Đảng bộ tỉnh Lạng Sơn", "Date: 06/12/2023", "Province: Lạng Sơn", "line 56",
                  "Cite as (Vietnamese): Nghị quyết về nhiệm vụ năm 2024, của Ban Chấp hành", "Understood as:"):
        assert label in (first.text if label != "Understood as:" else browser.find_element(By.ID, "qa-chat").text), label
    assert "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%." in first.find_element(By.CSS_SELECTOR, ".qa-answer").text
    browser.save_screenshot(str(ARTIFACTS / "browser-english.png"))
