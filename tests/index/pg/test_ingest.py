"""Ingest into PostgreSQL: incremental by content hash, one transaction per document, seen by other processes at once."""
from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest

from index.engine import Document, Engine, IndexMissing, ModelMismatch, ingest, live_version
from index.pg import schema, store
from tests.conftest import ROOT
from tests.index.conftest import DOCUMENTS

STATISTICS = {
    "terms": "select term, df from terms where df > 0",
    "words": "select word, n from words",
    "syllables": "select token, n from syllables",
    "syllable_pairs": "select a, b, n from syllable_pairs",
    "scopes": "select scope, n from scopes",
    "vectors": "select hash from vectors",
    "state": "select chunks, tokens from state",
    "documents": "select id, sha, chunks from documents",
    "postings": "select t.term, count(*), sum(p.tf) from postings p join terms t on t.id = p.term_id group by t.term",
    "literal": "select t.term, count(*) from chunks c cross join unnest(c.literal) k join terms t on t.id = k group by t.term",
}


def statistics(url: str) -> dict[str, set]:
    with psycopg.connect(url) as conn:
        return {name: set(conn.execute(sql).fetchall()) for name, sql in STATISTICS.items()}


def test_an_unchanged_folder_embeds_nothing_and_a_changed_line_one_chunk(folder, pg_url, embedder):
    first = ingest([folder], embedder, pg_url)
    assert (first.added, first.errors) == (3, []) and first.chunks_embedded == first.chunks > 0
    again = ingest([folder], embedder, pg_url)
    assert (again.unchanged, again.added, again.updated, again.chunks_embedded) == (3, 0, 0, 0)
    path = folder / "bac-giang.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("37,7%", "38,0%"), encoding="utf-8")
    changed = ingest([folder], embedder, pg_url)
    assert (changed.updated, changed.unchanged, changed.chunks_embedded) == (1, 2, 1)
    hits = Engine(pg_url, embedder).search("\"che phủ rừng\"", mode="phrase").results
    assert any("38,0%" in r.text for r in hits) and not any("37,7%" in r.text for r in hits)


def test_changes_leave_the_index_a_fresh_ingest_would_make(folder, pg_url, pg_server, embedder, tmp_path):
    """Upserts and deletes by content hash keep every statistic (BM25 document frequencies and lengths, coverage
    IDF, vocabulary, scopes) and no vector that no chunk uses: the same tables as ingesting the result afresh."""
    from tests.index.pg.conftest import new_database

    ingest([folder], embedder, pg_url)
    (folder / "bac-giang.txt").unlink()
    path = folder / "hoi-dong.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("95%", "97%").replace("Trồng rừng", "Trồng mới rừng"),
                    encoding="utf-8")
    (folder / "ha-giang.txt").write_text(DOCUMENTS["bac-giang.txt"].replace("BẮC GIANG", "HÀ GIANG")
                                         .replace("Bắc Giang", "Hà Giang"), encoding="utf-8")
    summary = ingest([folder], embedder, pg_url)
    assert (summary.removed, summary.updated, summary.added, summary.unchanged) == (1, 1, 1, 1)
    fresh = new_database(pg_server)
    ingest([folder], embedder, fresh)
    assert statistics(pg_url) == statistics(fresh)


def test_remove_by_document_id(folder, pg_url, embedder):
    ingest([folder], embedder, pg_url)
    engine = Engine(pg_url, embedder)
    doc_id = next(d.id for d in engine.documents.values() if d.source.endswith("bac-giang.txt"))
    summary = ingest([], embedder, pg_url, remove=[doc_id])
    assert (summary.removed, summary.documents) == (1, 2)
    assert doc_id not in engine.documents   # the same engine: the next read sees the new version
    assert all(r.doc.id != doc_id for r in engine.search("khách du lịch 3.000 nghìn lượt").results)


def test_an_interrupted_document_write_leaves_its_previous_version(folder, pg_url, embedder, monkeypatch):
    ingest([folder], embedder, pg_url)
    before = statistics(pg_url)
    version = live_version(pg_url)
    for name in ("bac-giang.txt", "lang-son.txt"):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace("2024", "2025"), encoding="utf-8")
    written = []
    apply = store._apply

    def crash_on_the_second(cur, counts, sign):   # after its chunks and postings were inserted, before commit
        if sign > 0:
            written.append(1)
            if len(written) == 2:
                raise KeyboardInterrupt
        apply(cur, counts, sign)

    monkeypatch.setattr(store, "_apply", crash_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], embedder, pg_url)
    monkeypatch.setattr(store, "_apply", apply)
    after = statistics(pg_url)
    first, second = sorted(DOCUMENTS)[0], sorted(DOCUMENTS)[1]   # files are read in name order: bac-giang, hoi-dong, lang-son
    assert (first, second) == ("bac-giang.txt", "hoi-dong.txt")
    changed = {d for d in after["documents"] - before["documents"]}
    assert len(changed) == 1   # bac-giang committed; lang-son's transaction rolled back: its previous version stays
    lang_son = next(row for row in before["documents"] if row[0] == Document.id_for("hand/lang-son.txt"))
    assert lang_son in after["documents"]
    assert live_version(pg_url) != version
    summary = ingest([folder], embedder, pg_url)   # the next ingest finishes the work
    assert (summary.updated, summary.unchanged) == (1, 2)


def test_another_process_sees_a_new_document_without_restart(folder, pg_url, embedder, tmp_path):
    ingest([folder], embedder, pg_url)
    engine = Engine(pg_url, embedder)
    version = engine.version
    more = tmp_path / "more"
    more.mkdir()
    (more / "cao-bang.txt").write_text(DOCUMENTS["bac-giang.txt"].replace("BẮC GIANG", "CAO BẰNG")
                                       .replace("Bắc Giang", "Cao Bằng").replace("37,7%", "55,5%"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ingest", "--index-url", pg_url, str(more)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    response = engine.search("tỷ lệ che phủ rừng Cao Bằng")
    assert response.results[0].doc.province == "Cao Bằng" and "55,5%" in response.results[0].text
    assert engine.version != version and engine.version == live_version(pg_url)


def test_an_index_built_with_another_model_is_refused(folder, pg_url, embedder):
    ingest([folder], embedder, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("update meta set value = 'another/model' where key = 'model'")
    with pytest.raises(ModelMismatch):
        ingest([folder], embedder, pg_url)
    with pytest.raises(ModelMismatch):
        Engine(pg_url, embedder)


def test_schema_version_and_an_empty_database(pg_url, embedder):
    with pytest.raises(IndexMissing, match="python -m ingest"):
        Engine(pg_url, embedder)
    for _ in range(2):   # migrations run once
        with schema.connect(pg_url) as conn:
            assert conn.execute("select array_agg(version order by version) from schema_version").fetchone()[0] == \
                list(range(1, len(schema.MIGRATIONS) + 1))
    assert live_version(pg_url) is None


def test_a_read_replica_serves_search(pg_server, pg_url, embedder, folder):
    """A streaming replica (pg_basebackup -R -X stream) answers as the primary, and follows its changes."""
    import shutil
    import tempfile
    from pathlib import Path

    from index.pg import local

    ingest([folder], embedder, pg_url)
    primary = Engine(pg_url, embedder)
    where = Path(tempfile.mkdtemp(prefix="tra-cuu-replica-"))
    where.chmod(0o755)
    try:
        server = local.replica(pg_server, where)
        replica = server.rsplit("/", 1)[0] + "/" + pg_url.rsplit("/", 1)[1]
        with psycopg.connect(replica) as conn:
            assert conn.execute("select pg_is_in_recovery()").fetchone()[0]
        reader = Engine(replica, embedder)
        question = "tỷ lệ che phủ rừng Lạng Sơn 2024"
        assert reader.search(question).model_dump(exclude={"took_ms"}) == primary.search(question).model_dump(exclude={"took_ms"})
        (folder / "cao-bang.txt").write_text(DOCUMENTS["bac-giang.txt"].replace("BẮC GIANG", "CAO BẰNG")
                                             .replace("Bắc Giang", "Cao Bằng").replace("37,7%", "55,5%"), encoding="utf-8")
        ingest([folder], embedder, pg_url)   # written on the primary
        deadline = time.monotonic() + 30
        while live_version(replica) != live_version(pg_url):
            assert time.monotonic() < deadline, "the replica did not catch up in 30 s"
            time.sleep(0.2)
        hits = reader.search("tỷ lệ che phủ rừng Cao Bằng").results   # the same reader, not restarted
        assert hits[0].doc.province == "Cao Bằng" and "55,5%" in hits[0].text
    finally:
        local.stop(where)
        shutil.rmtree(where, ignore_errors=True)


def test_vectors_are_stored_once_per_content_hash(folder, pg_url, embedder):
    """A copy of a document under another name embeds nothing (its passages' texts have vectors already) and
    shares them; removing one copy keeps the vectors the other still uses."""
    ingest([folder], embedder, pg_url)
    (folder / "copy-of-lang-son.txt").write_text(DOCUMENTS["lang-son.txt"], encoding="utf-8")
    summary = ingest([folder], embedder, pg_url)
    assert (summary.added, summary.chunks_embedded) == (1, 0)
    with psycopg.connect(pg_url) as conn:
        distinct = conn.execute("select count(distinct vector_hash), count(*) from chunks").fetchone()
        assert conn.execute("select count(*) from vectors").fetchone()[0] == distinct[0] < distinct[1]
    (folder / "lang-son.txt").unlink()
    ingest([folder], embedder, pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("select count(*) from chunks c left join vectors v on v.hash = c.vector_hash "
                            "where v.hash is null").fetchone()[0] == 0
        assert conn.execute("select count(*) from vectors").fetchone()[0] == \
            conn.execute("select count(distinct vector_hash) from chunks").fetchone()[0]
