"""`python app.py --workers 2`: concurrent questions answered by search worker processes, as one engine answers them;
an upload seen by every worker at once, through the answer cache; workers that go when the app is killed."""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.web.conftest import start

QUESTIONS = ["Tỷ lệ che phủ rừng năm 2024 là bao nhiêu?", "ty le ho ngheo lang son 2024", "Who signed the Lạng Sơn Party resolution on 2024 tasks?",
             "Mục tiêu tăng trưởng GRDP của tỉnh Lạng Sơn năm 2024 là bao nhiêu?", "thu ngân sách nhà nước Bắc Giang",
             "Giá vé tàu điện ngầm ở Hà Nội năm 2030 là bao nhiêu?"]
VOOC = ("ỦY BAN NHÂN DÂN TỈNH CAO BẰNG\n\nKẾ HOẠCH\n\nVề bảo tồn voọc mũi hếch năm 2024\n\n"
        "1. Chỉ tiêu\n\n- Số cá thể voọc mũi hếch được bảo vệ đạt 125 cá thể.\n").encode()


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus_index):
    srv = start(tmp_path_factory, corpus_index, "web-workers", {"WORKERS": "2", "QUERY_CACHE": "64"})
    yield srv
    srv.stop()


def workers_of(pid: int) -> list[int]:
    """The app's search worker processes (spawned multiprocessing children, not its resource tracker)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmd:
                found.append(int(child))
    return sorted(found)


def same(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "took_ms"}


def test_concurrent_questions_get_the_answers_one_engine_gives(served, engine):
    assert len(workers_of(served.proc.pid)) == 2
    asked = QUESTIONS * 4
    with served.client() as api, ThreadPoolExecutor(len(asked)) as pool:
        responses = list(pool.map(lambda q: api.post("/api/ask", json={"question": q}), asked))
    assert [r.status_code for r in responses] == [200] * len(asked)
    for question, response in zip(asked, responses):
        assert same(response.json()) == same(engine.search(question, k=5).model_dump(mode="json")), question
    forest = responses[0].json()
    assert "64,6%" in forest["answer"]["text"]


def test_a_query_a_worker_cannot_search_is_a_400_with_its_reason(served):
    with served.client() as api:
        bad = api.post("/api/ask", json={"question": "???"})
        assert bad.status_code == 400 and "no letters or digits" in bad.json()["detail"]
        number = api.get("/api/search", params={"q": "che phu rung", "mode": "number"})
        assert number.status_code == 400 and "document number" in number.json()["detail"]


def test_an_upload_is_searched_by_every_worker_at_once(served):
    question = "Bao nhiêu cá thể voọc mũi hếch được bảo vệ?"
    with served.client() as api:
        before = api.post("/api/ask", json={"question": question}).json()
        assert before["answer"] is None or "125" not in before["answer"]["text"]   # and now in the answer cache
        response = api.post("/api/documents", files={"file": ("voọc.txt", VOOC, "text/plain")})
        assert response.status_code == 201, response.text
        doc = response.json()["documents"][0]
        try:
            with ThreadPoolExecutor(8) as pool:   # more questions than workers: each worker answers some
                after = list(pool.map(lambda _: api.post("/api/ask", json={"question": question}).json(), range(8)))
            assert all("125 cá thể" in a["answer"]["text"] and a["answer"]["citations"][0]["doc"]["id"] == doc["id"]
                       for a in after)
        finally:
            assert api.delete(f"/api/documents/{doc['id']}").status_code == 200
        gone = api.post("/api/ask", json={"question": question}).json()
        assert all(r["doc"]["id"] != doc["id"] for r in gone["results"])


def test_workers_exit_when_the_app_is_killed(served):
    workers = workers_of(served.proc.pid)
    assert workers
    os.kill(served.proc.pid, signal.SIGKILL)
    served.proc.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and
                                               Path(f"/proc/{w}/stat").read_text().split()[2] != "Z" for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and Path(f"/proc/{w}/stat").read_text().split()[2] != "Z"]
