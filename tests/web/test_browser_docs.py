"""Headless Chromium, Documents tab: upload and removal say what they did in a sentence, removal asks first; citations
show the document number and date."""
from __future__ import annotations

from tests.web.conftest import ARTIFACTS

DOC = ("HỘI ĐỒNG NHÂN DÂN\nTỈNH CAO BẰNG\n\nSố: 15/NQ-HĐND\n\nCao Bằng, ngày 12 tháng 3 năm 2024\n\nNGHỊ QUYẾT\n\n"
       "Về bảo tồn voọc mũi hếch năm 2024\n\nĐiều 1. Chỉ tiêu\n\n1. Số cá thể voọc mũi hếch được bảo vệ đạt 125 cá thể.\n")
TITLE = "Nghị quyết về bảo tồn voọc mũi hếch năm 2024"


def pick(browser, wait, text: str) -> None:
    """Choose the option holding `text` in the documents dropdown."""
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.CSS_SELECTOR, "#qa-pick input")
    box.click()
    box.send_keys("voọc")
    option = wait.until(lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "[data-testid=dropdown-option]") if text in o.text), None))
    option.click()


def test_upload_then_citation_number_and_date_then_removal_asks_first(server, api, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    (tmp_path / "voọc-15.txt").write_text(DOC, encoding="utf-8")
    wait = WebDriverWait(browser, 60)
    browser.get(server.url + "/")
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#qa-question textarea")))
    docs_tab = browser.find_element(By.XPATH, "//button[@role='tab'][contains(., 'Văn bản')]")
    docs_tab.click()
    browser.find_element(By.CSS_SELECTOR, "#qa-upload input[type=file]").send_keys(str(tmp_path / "voọc-15.txt"))
    wait.until(lambda d: "voọc-15" in d.find_element(By.ID, "qa-upload").text)   # the file is in the box
    browser.find_element(By.ID, "qa-upload-btn").click()
    message = wait.until(lambda d: d.find_element(By.ID, "qa-docs-message").text.strip() or None)
    assert message.startswith(f"Đã tải lên và lập chỉ mục 1 văn bản: {TITLE} (1 mới, 0 cập nhật; ")
    assert message.endswith(" giây).") and "chunks" not in message
    doc_id = next(d["id"] for d in api.get("/api/documents").json()["documents"] if d["title"] == TITLE)
    browser.find_element(By.XPATH, "//button[@role='tab'][contains(., 'Hỏi đáp')]").click()
    box.send_keys("Số cá thể voọc mũi hếch được bảo vệ năm 2024 là bao nhiêu?")
    browser.find_element(By.ID, "qa-ask").click()
    wait.until(lambda d: "125 cá thể" in d.find_element(By.ID, "qa-chat").text)
    head = browser.find_element(By.CSS_SELECTOR, "#qa-c0-1 .qa-cite-head").text
    assert "Số: 15/NQ-HĐND" in head and "Ngày: 12/03/2024" in head

    docs_tab.click()
    pick(browser, wait, TITLE)
    browser.find_element(By.ID, "qa-remove").click()
    alert = wait.until(ec.alert_is_present())
    assert alert.text == "Xoá văn bản đã chọn khỏi chỉ mục?"
    alert.dismiss()                                                   # cancelled: nothing changes
    wait.until(lambda d: api.get(f"/api/documents/{doc_id}").status_code == 200)
    assert (server.uploads / "voọc-15.txt").is_file() and api.get(f"/api/documents/{doc_id}").status_code == 200

    browser.find_element(By.ID, "qa-remove").click()
    wait.until(ec.alert_is_present()).accept()
    message = wait.until(lambda d: d.find_element(By.ID, "qa-docs-message").text.strip().startswith("Đã xoá") and
                         d.find_element(By.ID, "qa-docs-message").text.strip())
    assert message == f"Đã xoá khỏi chỉ mục: {TITLE}. Tệp tải lên cũng đã được xoá."
    assert api.get(f"/api/documents/{doc_id}").status_code == 404 and not (server.uploads / "voọc-15.txt").exists()
    browser.save_screenshot(str(ARTIFACTS / "browser-remove.png"))
