"""The answer cache over a real server: one entry per question however its Vietnamese was typed; filters typed in NFD."""
from __future__ import annotations

import unicodedata

QUESTION = "Chỉ tiêu văn hóa xã hội năm 2024 là gì?"
RETYPED = unicodedata.normalize("NFD", "  Chỉ tiêu  văn hoá xã hội\tnăm 2024   là gì? ")   # NFD, "hoà" placement, spaces


def cache(api) -> dict:
    return api.get("/healthz").json()["answer_cache"]


def test_two_spellings_are_one_cache_entry_and_one_answer(api):
    assert RETYPED != QUESTION
    first = api.post("/api/ask", json={"question": QUESTION})
    assert first.status_code == 200
    after_first = cache(api)
    second = api.post("/api/ask", json={"question": RETYPED})
    after_second = cache(api)
    assert second.content == first.content   # the cached bytes: the same JSON, took_ms included
    assert after_second["entries"] == after_first["entries"]
    assert after_second["hits"] == after_first["hits"] + 1
    assert first.json()["query"] == QUESTION


def test_search_by_another_spelling_is_a_cache_hit_too(api):
    params = {"q": "công trình thủy lợi", "province": "Lạng Sơn"}
    first = api.get("/api/search", params=params)
    before = cache(api)
    second = api.get("/api/search", params={"q": "công  trình thuỷ lợi", "province": unicodedata.normalize("NFD", "Lạng Sơn")})
    assert second.content == first.content and cache(api)["hits"] == before["hits"] + 1


def test_a_province_filter_typed_in_nfd_finds_that_provinces_documents(api):
    province = unicodedata.normalize("NFD", "Lạng Sơn")
    assert province != "Lạng Sơn"
    results = api.get("/api/search", params={"q": "tỷ lệ che phủ rừng", "province": province}).json()["results"]
    assert results and {r["doc"]["province"] for r in results} == {"Lạng Sơn"}


def test_a_type_filter_typed_in_nfd_finds_documents_of_that_type(api):
    types = {d["type"] for d in api.get("/api/documents").json()["documents"] if d["type"]}
    kind = next(t for t in sorted(types) if unicodedata.normalize("NFD", t) != t)
    results = api.get("/api/search", params={"q": "chỉ tiêu năm 2024", "type": unicodedata.normalize("NFD", kind)}).json()["results"]
    assert results and {r["doc"]["type"] for r in results} == {kind}
