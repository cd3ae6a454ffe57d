"""The PostgreSQL index answers as the embedded FAISS + BM25 index does: same passages, same order, same answers."""
from __future__ import annotations

import json

import psycopg
import pytest

from index.engine import Filters, index_dir
from index.pg.search import filter_sql
from tests.conftest import ROOT

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "bench" / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
SAMPLE = QUESTIONS[::4]


def shape(response) -> dict:
    """What must be equal: every field but the timing and the scores (fusion scores differ in the last digits
    where the two indexes order equal BM25 scores differently: numpy's argsort is not stable, SQL orders by position)."""
    out = response.model_dump()
    out.pop("took_ms")
    for result in out["results"]:
        result.pop("score")
        result.pop("dense")
    out.pop("answer_probability")
    return out


@pytest.mark.parametrize("question", SAMPLE)
def test_the_same_results_as_the_embedded_index(engine, pg_engine, question):
    folder, pg = engine.search(question), pg_engine.search(question)
    assert shape(pg) == shape(folder)
    assert [r.score for r in pg.results] == pytest.approx([r.score for r in folder.results], abs=2e-3)
    assert [r.dense for r in pg.results] == pytest.approx([r.dense for r in folder.results], abs=2e-4)
    if folder.answer_probability is not None:
        assert pg.answer_probability == pytest.approx(folder.answer_probability, abs=0.02)


@pytest.mark.parametrize("query, mode", [("\"che phủ rừng\"", "phrase"), ("che phu rung", "phrase"), ("43-NQ/TW", "number"),
                                         ("Điều 2", "phrase"), ("64,6%", "smart"), ("\"3 an\" là gì", "smart")])
def test_phrase_and_number_modes_match(engine, pg_engine, query, mode):
    folder, pg = engine.search(query, mode=mode), pg_engine.search(query, mode=mode)
    assert pg.results, query
    assert shape(pg) == shape(folder)


FILTERS = [Filters(province="Lạng Sơn"), Filters(province="lang son"), Filters(province="Bắc Giang"), Filters(type="nghị quyết"),
           Filters(year=2024), Filters(year=2020), Filters(type="Kế hoạch", year=2023), Filters(province="Hà Giang")]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_filters_in_sql_accept_the_documents_filters_accept(pg_engine, filters):
    where, params = filter_sql(filters)
    with psycopg.connect(pg_engine.snapshot.url) as conn:
        found = {r[0] for r in conn.execute(f"select id from documents where {where}", params)}
    assert found == {d.id for d in pg_engine.documents.values() if filters.accepts(d)}


@pytest.mark.parametrize("filters", FILTERS[:6], ids=str)
def test_filtered_search_matches_and_stays_inside_the_filter(engine, pg_engine, filters):
    question = "chỉ tiêu tỷ lệ che phủ rừng năm 2024"
    folder, pg = engine.search(question, filters=filters), pg_engine.search(question, filters=filters)
    assert shape(pg) == shape(folder)
    assert all(filters.accepts(pg_engine.documents[r.doc.id]) for r in pg.results)


def test_a_document_left_out_is_left_out(engine, pg_engine):
    top = pg_engine.search("tỷ lệ che phủ rừng Lạng Sơn 2024").results[0].doc.id
    filters = Filters(not_docs=frozenset({top}))
    pg = pg_engine.search("tỷ lệ che phủ rừng Lạng Sơn 2024", filters=filters)
    assert top not in {r.doc.id for r in pg.results}
    assert shape(pg) == shape(engine.search("tỷ lệ che phủ rừng Lạng Sơn 2024", filters=filters))


def test_documents_and_their_chunks_read_from_the_database(engine, pg_engine):
    assert list(pg_engine.documents) == list(engine.documents)
    for doc_id, doc in engine.documents.items():
        mine = pg_engine.documents[doc_id]
        assert (mine.sha, mine.text, mine.meta, len(mine.chunks)) == (doc.sha, doc.text, doc.meta, len(doc.chunks))
        assert [c.id for c in mine.chunks] == [c.id for c in doc.chunks]
        assert mine.chunks[-1].features == doc.chunks[-1].features


def test_index_url_selects_postgresql(monkeypatch, tmp_path):
    monkeypatch.setenv("INDEX_URL", "postgresql://reader@db.example/index")
    monkeypatch.setenv("INDEX_DIR", str(tmp_path))
    assert index_dir() == "postgresql://reader@db.example/index"
    assert index_dir(tmp_path / "other") == tmp_path / "other"   # --index-dir still wins
    monkeypatch.delenv("INDEX_URL")
    assert index_dir() == tmp_path


def test_the_cli_searches_postgresql_with_index_url(pg_corpus, pg_engine):
    import subprocess
    import sys

    question = "Mục tiêu tăng trưởng GRDP của tỉnh Lạng Sơn năm 2024 là bao nhiêu?"
    done = subprocess.run([sys.executable, "-m", "index", "search", "--index-url", pg_corpus, "--json", question],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected = pg_engine.search(question).model_dump(mode="json")
    printed.pop("took_ms"), expected.pop("took_ms")
    assert printed == expected
