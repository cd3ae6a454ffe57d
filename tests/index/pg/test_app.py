"""The app over PostgreSQL (`python app.py --index-url URL`, real servers on the hand-made documents and uploads): the same JSON as the engine, uploads, two servers on one database."""
from __future__ import annotations

import pytest

from index.engine import Engine, ingest
from tests.index.pg.conftest import hand_folder, new_database
from tests.web.conftest import Server
from tests.web.test_api import NEW_DOC, upload

QUESTION = "Bao nhiêu cá thể voọc mũi hếch được bảo vệ?"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, pg_server, embedder):
    """Two app processes over one database, each with its own corpus folder holding the same three documents."""
    url = new_database(pg_server)
    started = []
    for name in ("pg-app-a", "pg-app-b"):
        folder = tmp_path_factory.mktemp(name)
        hand_folder(folder / "corpus")
        if not started:
            ingest([folder / "corpus"], embedder, url)
        started.append(Server(folder, folder / "unused-index", {"UPLOAD_MAX_MB": "1"}, ("--index-url", url)))
    yield url, started
    for server in started:
        server.stop()


def test_search_and_ask_answer_as_the_engine(servers, embedder):
    url, (a, _) = servers
    pg_engine = Engine(url, embedder)
    with a.client() as api:
        health = api.get("/healthz").json()
        assert health["version"].startswith("pg") and health["chunks"] == pg_engine.manifest["chunks"]
        for question in ("tỷ lệ che phủ rừng Lạng Sơn 2024", "Ai ký nghị quyết của Tỉnh ủy Lạng Sơn?"):
            got = api.post("/api/ask", json={"question": question}).json()
            expected = pg_engine.search(question, k=5).model_dump(mode="json")
            got.pop("took_ms"), expected.pop("took_ms")
            assert got == expected
        phrase = api.get("/api/search", params={"q": "\"che phủ rừng\"", "mode": "phrase", "province": "Lạng Sơn"}).json()
        assert phrase["results"] and all(r["doc"]["province"] == "Lạng Sơn" and "che phủ rừng" in r["text"].lower()
                                         for r in phrase["results"])


def test_an_upload_to_one_server_is_found_by_the_other_then_deleted(servers):
    _, (a, b) = servers
    with a.client() as api_a, b.client() as api_b:
        response = upload(api_a, "voọc mũi hếch.txt", NEW_DOC)
        assert response.status_code == 201, response.text
        doc = response.json()["documents"][0]
        assert response.json()["summary"]["chunks_embedded"] < 10
        found = api_b.post("/api/ask", json={"question": QUESTION}).json()   # the other process, never restarted
        assert "125 cá thể" in found["answer"]["text"] and found["answer"]["citations"][0]["doc"]["id"] == doc["id"]
        assert api_b.get(f"/api/documents/{doc['id']}").status_code == 200
        removed = api_a.delete(f"/api/documents/{doc['id']}")
        assert removed.status_code == 200 and removed.json()["file_deleted"]
        gone = api_b.post("/api/ask", json={"question": QUESTION}).json()
        assert all(r["doc"]["id"] != doc["id"] for r in gone["results"])
        assert api_b.get("/api/documents").json()["count"] == 3
