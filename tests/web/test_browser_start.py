"""First start in headless Chromium: `python app.py --index-dir EMPTY --corpus C` builds the index while the page shows
how far it got (a sentence and a rising progress bar); a question asked meanwhile says so; then the chat answers."""
from __future__ import annotations

import re
import shutil
import time

import httpx

from tests.web.conftest import ARTIFACTS, ROOT, START_TIMEOUT, Server

BUILDING = "Lần khởi động đầu: đang lập chỉ mục các văn bản, xong"


def listening(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(server.url + "/healthz", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server did not start listening")


def test_first_start_shows_the_build_in_the_page(tmp_path_factory, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("first-start")
    shutil.copytree(ROOT / "corpus", folder / "corpus")
    server = Server(folder, folder / "index", {}, wait=False,
                    args=("--index-dir", str(folder / "index"), "--corpus", str(folder / "corpus")))
    try:
        listening(server)
        wait = WebDriverWait(browser, START_TIMEOUT)
        browser.get(server.url + "/")
        status = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#qa-start .qa-status")))
        wait.until(lambda d: BUILDING in status.text)
        assert httpx.get(server.url + "/healthz").status_code == 503
        browser.find_element(By.CSS_SELECTOR, "#qa-question textarea").send_keys("che phu rung 2024")
        browser.find_element(By.ID, "qa-ask").click()
        wait.until(lambda d: BUILDING in d.find_element(By.ID, "qa-chat").text)    # asked too early: says why
        browser.save_screenshot(str(ARTIFACTS / "first-start.png"))

        seen = []
        while True:   # the bar's value and the sentence, read in one look (the page updates them every second)
            value, text = browser.execute_script(
                "const s = document.getElementById('qa-start'); const bar = s.querySelector('progress');"
                "return [bar ? bar.value : null, s.innerText];")
            if value is None:
                break
            seen.append(int(value))
            assert re.search(rf"{BUILDING} {seen[-1]}%", text), (seen[-1], text)
            time.sleep(1)
        assert seen and seen == sorted(seen) and seen[-1] > seen[0], seen      # it rose, never went back
        assert not browser.find_element(By.ID, "qa-start").is_displayed()
        assert httpx.get(server.url + "/healthz").json()["documents"] == 5

        browser.find_element(By.CSS_SELECTOR, "#qa-question textarea").send_keys("che phu rung 2024")
        browser.find_element(By.ID, "qa-ask").click()
        wait.until(lambda d: "64,6%" in d.find_element(By.ID, "qa-chat").text)
    finally:
        server.stop()
