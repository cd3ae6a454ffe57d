"""Headless Chromium on an offline intranet: /docs and /redoc render, and no page requests anything outside the app."""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import ARTIFACTS, INTRANET

IN_PAGE = ("data", "blob", "about", "chrome", "chrome-untrusted", "devtools")   # no network: the page or the browser itself
# Each page, and what shows it has rendered (its scripts ran, so it made every request it makes at start).
PAGES = {"/": "#qa-question textarea", "/embed/?lang=en": "#qa-question textarea",
         "/docs": "#operations-search-ask_api_ask_post .opblock-summary-path[data-path='/api/ask']",
         "/redoc": "[data-section-id$='operation/ask_api_ask_post'] h2", "/view/{doc}?from=3&to=4": ".ln.cited",
         "/login": "form input[name=password]"}


def requested(browser) -> list[str]:
    """URLs the page asked the network for since the last call (Chrome's performance log)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def outside(urls: list[str], host: str) -> list[str]:
    return [u for u in urls if urlsplit(u).scheme not in IN_PAGE and urlsplit(u).hostname != host]


def visit(browser, url: str, ready: str) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    requested(browser)   # drop what earlier pages asked for
    browser.get(url)
    WebDriverWait(browser, 60).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ready)))
    time.sleep(2)        # late requests: fonts, images, lazy chunks
    return requested(browser)


@pytest.mark.parametrize("path", list(PAGES))
def test_no_page_requests_anything_outside_127_0_0_1(server, api, browser, path):
    url = server.url + path.format(doc=api.get("/api/documents").json()["documents"][0]["id"])
    urls = visit(browser, url, PAGES[path])
    assert url in urls   # the log does record the page's requests
    assert outside(urls, "127.0.0.1") == []


def test_docs_and_redoc_render_offline_under_an_intranet_host_name(server, browser):
    """Under a host name that is not localhost Swagger UI would add a validator badge from the Internet."""
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    base = f"http://{INTRANET}:{server.port}"
    urls = visit(browser, base + "/docs", PAGES["/docs"])
    assert len(urls) >= 4 and outside(urls, INTRANET) == []
    ask = browser.find_element(By.ID, "operations-search-ask_api_ask_post")
    assert "POST" in ask.text and "/api/ask" in ask.text
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) >= 9
    browser.save_screenshot(str(ARTIFACTS / "docs-swagger.png"))
    urls = visit(browser, base + "/redoc", PAGES["/redoc"])
    assert outside(urls, INTRANET) == []
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "[data-section-id*='/operation/'] h2")]
    assert {"Ask", "Search", "Upload"} <= set(titles)
    browser.save_screenshot(str(ARTIFACTS / "docs-redoc.png"))
