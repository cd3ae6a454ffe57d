"""The REST API against a real server over the corpus index: search, ask, documents, upload, delete, metadata."""
from __future__ import annotations

import csv
import io

import pytest

FOREST = "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%"
CITATION_KEYS = {"doc", "section", "line_start", "line_end", "page", "text", "quote"}


def upload(api, name: str, data: bytes):
    return api.post("/api/documents", files={"file": (name, data, "text/plain")})


NEW_DOC = ("ỦY BAN NHÂN DÂN TỈNH CAO BẰNG\n\nKẾ HOẠCH\n\nVề bảo tồn voọc mũi hếch năm 2024\n\n"
           "1. Chỉ tiêu\n\n- Số cá thể voọc mũi hếch được bảo vệ đạt 125 cá thể.\n").encode()


def test_healthz_reports_the_loaded_index(api):
    health = api.get("/healthz").json()
    assert health["status"] == "ok" and health["documents"] == 5 and health["chunks"] > 100
    assert health["model"]


def test_ask_returns_the_forest_line_with_citations(api):
    out = api.post("/api/ask", json={"question": "che phu rung 2024"}).json()
    assert set(out) >= {"query", "took_ms", "answer", "results"}
    assert FOREST in out["answer"]["text"]
    cites = out["answer"]["citations"]
    assert cites and all(CITATION_KEYS <= set(c) for c in cites)
    assert {c["doc"]["province"] for c in cites} == {"Lạng Sơn"}
    assert all(FOREST in c["text"] and c["line_start"] >= 1 for c in cites)
    others = out["answer"]["other_figures"]
    assert any("37,7%" in o["statement"] and o["doc"]["province"] == "Bắc Giang" for o in others)


def test_ask_says_so_when_nothing_answers(api):
    out = api.post("/api/ask", json={"question": "Giá vé tàu điện ngầm ở Hà Nội năm 2030 là bao nhiêu?"}).json()
    assert out["answer"] is None and out["not_covered"]["provinces"] == ["Hà Nội"] and "Hà Nội" in out["no_answer_reason"]
    assert out["results"] and not any(r["answers"] for r in out["results"])   # the closest passages, marked


def test_search_returns_the_line_with_its_source(api):
    out = api.get("/api/search", params={"q": "tỷ lệ che phủ rừng", "k": 5}).json()
    assert len(out["results"]) == 5
    top = [r for r in out["results"] if FOREST in r["text"]]
    assert top and top[0]["doc"]["title"] and top[0]["section"] and top[0]["highlights"]
    assert top[0]["quote"].startswith("Nghị quyết")


def test_search_filters_and_modes(api):
    only = api.get("/api/search", params={"q": "che phủ rừng", "province": "Bắc Giang"}).json()["results"]
    assert only and {r["doc"]["province"] for r in only} == {"Bắc Giang"}
    phrase = api.get("/api/search", params={"q": "che phu rung", "mode": "phrase"}).json()["results"]
    assert phrase and all("che phủ rừng" in r["text"].lower() for r in phrase)
    strict = api.get("/api/search", params={"q": "che phu rung", "mode": "phrase", "accent_insensitive": False})
    assert strict.json()["results"] == []
    assert api.get("/api/search", params={"q": "x", "mode": "fuzzy"}).status_code == 422
    assert api.get("/api/search", params={"q": "   "}).status_code == 400


def test_search_exports_csv(api):
    response = api.get("/api/search", params={"q": "che phủ rừng", "k": 3, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["rank", "score", "title"] and len(rows) == 4


def test_documents_list_and_text(api):
    docs = api.get("/api/documents").json()
    assert docs["count"] == 5
    first = docs["documents"][0]
    assert first["chunks"] > 0 and {"title", "issuer", "date", "province", "meta"} <= set(first)
    one = api.get(f"/api/documents/{first['id']}").json()
    assert one["id"] == first["id"] and len(one["text"]) > 1000
    assert api.get("/api/documents/nope").status_code == 404


def test_upload_find_edit_delete(api, server):
    response = upload(api, "voọc mũi hếch.txt", NEW_DOC)
    assert response.status_code == 201, response.text
    doc = response.json()["documents"][0]
    assert doc["path"] == "corpus/uploads/voọc mũi hếch.txt" and doc["uploaded"]
    assert response.json()["summary"]["chunks_embedded"] < 10            # incremental: only the new file
    found = api.post("/api/ask", json={"question": "Bao nhiêu cá thể voọc mũi hếch được bảo vệ?"}).json()
    assert "125 cá thể" in found["answer"]["text"] and found["answer"]["citations"][0]["doc"]["id"] == doc["id"]

    edited = api.put(f"/api/documents/{doc['id']}/meta", json={"date": "15/01/2024", "signer": "Nguyễn Văn A"})
    assert edited.status_code == 200, edited.text
    assert (server.uploads / "voọc mũi hếch.txt.meta.json").exists()
    again = api.get(f"/api/documents/{doc['id']}").json()
    assert again["date"] == "2024-01-15" and again["signer"] == "Nguyễn Văn A"
    assert api.put(f"/api/documents/{doc['id']}/meta", json={"date": "hôm qua"}).status_code == 400

    removed = api.delete(f"/api/documents/{doc['id']}")
    assert removed.status_code == 200 and removed.json()["file_deleted"]
    assert not list(server.uploads.iterdir())                            # the file and its sidecar are gone
    gone = api.post("/api/ask", json={"question": "Bao nhiêu cá thể voọc mũi hếch được bảo vệ?"}).json()
    assert all(c["doc"]["id"] != doc["id"] for c in (gone["answer"] or {}).get("citations", []))
    assert all(r["doc"]["id"] != doc["id"] for r in gone["results"])
    assert api.get("/api/documents").json()["count"] == 5


@pytest.mark.parametrize("name", ["../evil.txt", "../../etc/passwd.txt", "a/b.txt", "..\\evil.txt", ".hidden.txt",
                                  "..", "x.meta.json"])
def test_upload_rejects_unsafe_names(api, server, name):
    response = upload(api, name, b"Some text.\n")
    assert response.status_code == 400 and "detail" in response.json()
    assert not (server.folder / "evil.txt").exists() and not (server.corpus / "evil.txt").exists()


def test_upload_rejects_types_sizes_and_unreadable_files(api, server):
    assert upload(api, "virus.exe", b"MZ...").status_code == 415
    assert upload(api, "big.txt", b"a" * (1024 * 1024 + 10)).status_code == 413
    assert upload(api, "empty.txt", b"").status_code == 400
    bad = upload(api, "binary.txt", b"\x00\x01\x02 not text")
    assert bad.status_code == 422 and "binary.txt" in bad.json()["detail"]
    assert not server.uploads.exists() or not list(server.uploads.iterdir())
    assert api.get("/api/documents").json()["count"] == 5


def test_failed_upload_keeps_the_indexed_version(api, server):
    doc = upload(api, "voọc.txt", NEW_DOC).json()["documents"][0]
    try:
        assert upload(api, "voọc.txt", b"\x00\x00 broken").status_code == 422
        assert (server.uploads / "voọc.txt").read_bytes() == NEW_DOC
        still = api.get("/api/search", params={"q": "voọc mũi hếch", "k": 3}).json()["results"]
        assert still and still[0]["doc"]["id"] == doc["id"]
    finally:
        api.delete(f"/api/documents/{doc['id']}")


def test_document_text_is_escaped_in_the_viewer(api):
    data = ("KẾ HOẠCH\n\nVề thử nghiệm <script>alert('x')</script>\n\n"
            "- Nội dung <img src=x onerror=alert(1)> và {{7*7}} ${1+1} không được chạy.\n").encode()
    doc = upload(api, "script.txt", data).json()["documents"][0]
    try:
        page = api.get(f"/view/{doc['id']}", params={"from": 5, "to": 5}).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
        assert '<div class="ln cited" id="L5">' in page
    finally:
        api.delete(f"/api/documents/{doc['id']}")


def test_ui_and_docs_are_served(api):
    assert api.get("/").status_code == 200
    assert api.get("/embed/").status_code == 200
    spec = api.get("/openapi.json").json()
    assert {"/api/search", "/api/ask", "/api/documents", "/api/documents/{doc_id}"} <= set(spec["paths"])
    assert "frame-ancestors 'self'" in api.get("/embed/").headers["content-security-policy"]


def test_openapi_documents_every_field_of_results_answers_and_citations(api):
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    ask = spec["paths"]["/api/ask"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    search = spec["paths"]["/api/search"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ask["$ref"].endswith("/SearchResponse") and search["$ref"].endswith("/SearchResponse")
    assert {"query", "lang", "restored", "took_ms", "answer", "results"} <= set(schemas["SearchResponse"]["properties"])
    assert {"rank", "score", "text", "doc", "section", "line_start", "line_end", "page", "highlights", "also_in",
            "quote"} <= set(schemas["Result"]["properties"])
    assert {"text", "figures", "citations", "other_figures"} <= set(schemas["Answer"]["properties"])
    assert {"doc", "section", "line_start", "line_end", "quote"} <= set(schemas["Citation"]["properties"])
    assert {"id", "title", "type", "issuer", "date", "province", "path", "number", "signer"} <= set(schemas["DocRef"]["properties"])
    assert "statement" in schemas["OtherFigure"]["properties"]
