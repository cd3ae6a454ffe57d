"""Headless Chromium at 390×844 (a phone): one-line title, a compact language switch, no sideways scrolling, and a
question box that stays on screen above a long answer; in Vietnamese and English, with screenshots."""
from __future__ import annotations

import pytest

from tests.web.conftest import ARTIFACTS

RECT = "var r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];"


@pytest.fixture
def phone(browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("lang, ask, question", [
    ("vi", "Hỏi", "Tỷ lệ che phủ rừng năm 2024 là bao nhiêu?"),
    ("en", "Ask", "What is the 2024 forest cover target?")])
def test_phone_layout(server, phone, lang, ask, question):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    wait = WebDriverWait(phone, 60)
    phone.get(f"{server.url}/?lang={lang}")
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#qa-question textarea")))
    wait.until(lambda d: d.find_element(By.ID, "qa-ask").text.strip() == ask)
    phone.execute_script("window.scrollTo(0, 0)")
    assert phone.execute_script("return [innerWidth, innerHeight]") == [390, 844]
    _, _, width, height = phone.execute_script(RECT, phone.find_element(By.CSS_SELECTOR, "#qa-header h2"))
    assert height < 40 and width > 250                          # the title on one line, not one word per line
    _, top, width, height = phone.execute_script(RECT, phone.find_element(By.ID, "qa-lang"))
    assert height < 90 and width > 300                          # the language switch fills its line, no empty box
    assert top + height < 200                                   # header, subtitle and switch in the first 200 px
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 390
    phone.save_screenshot(str(ARTIFACTS / f"phone-{lang}-start.png"))

    box.send_keys(question)
    phone.find_element(By.ID, "qa-ask").click()
    wait.until(lambda d: "64,6%" in d.find_element(By.ID, "qa-chat").text)
    assert phone.execute_script("return document.documentElement.scrollHeight") > 844 + 400   # a long answer
    phone.execute_script("window.scrollTo(0, 0)")    # the box would be below the screen, after the answer
    _, top, _, height = phone.execute_script(RECT, phone.find_element(By.ID, "qa-ask-row"))
    assert 0 <= top and top + height <= 844 + 1                 # the question box is still on screen
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 390
    phone.save_screenshot(str(ARTIFACTS / f"phone-{lang}-answer.png"))
