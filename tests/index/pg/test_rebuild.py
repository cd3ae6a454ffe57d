"""--rebuild into PostgreSQL: built beside the live index and swapped in at once; killed midway, the old index serves."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from index.engine import Engine, ingest, live_version
from index.pg import schema
from tests.conftest import CORPUS, ROOT
from tests.index.conftest import DOCUMENTS

QUESTION = "tỷ lệ che phủ rừng năm 2024"


def rebuilt_documents(url: str) -> int | None:
    """Documents the rebuild in progress has committed so far, None before it made its tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select to_regclass(%s)", (f"{schema.REBUILD}.documents",)).fetchone()[0] is None:
            return None
        return conn.execute(f"select count(*) from {schema.REBUILD}.documents").fetchone()[0]


def dims(url: str) -> set[int]:
    """The dimensions of the stored vectors, and the one the column is typed with (HNSW needs one)."""
    with psycopg.connect(url) as conn:
        stored = {r[0] for r in conn.execute("select distinct vector_dims(embedding) from vectors")}
        typed = conn.execute("select atttypmod from pg_attribute where attrelid = 'vectors'::regclass "
                             "and attname = 'embedding'").fetchone()[0]
    return stored | {typed}


def answer_of(engine: Engine) -> dict:
    return engine.search(QUESTION).model_dump(exclude={"took_ms"})


def passages(response: dict) -> list[tuple[str, str]]:
    return [(r["doc"]["id"], r["text"]) for r in response["results"]]


def test_a_rebuild_killed_midway_leaves_the_old_index_serving(folder, pg_url, embedder):
    ingest([folder], embedder, pg_url)
    engine = Engine(pg_url, embedder)
    before, version = answer_of(engine), live_version(pg_url)
    assert before["results"] and len(engine.documents) == 3
    rebuild = subprocess.Popen([sys.executable, "-m", "ingest", "--index-url", pg_url, "--rebuild", str(folder), str(CORPUS)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 300
        while not rebuilt_documents(pg_url):   # midway: some documents of the new index written, not all
            assert rebuild.poll() is None, f"the rebuild ended before it was killed: {rebuild.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "the rebuild wrote no document in 300 s"
            time.sleep(0.05)
        assert answer_of(engine) == before and live_version(pg_url) == version   # readers still see the whole old index
    finally:
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait()
    assert rebuilt_documents(pg_url) < 3 + len(list(CORPUS.glob("*.txt")))
    assert live_version(pg_url) == version
    assert answer_of(engine) == before and answer_of(Engine(pg_url, embedder)) == before
    summary = ingest([folder], embedder, pg_url, rebuild=True)   # the next rebuild starts afresh and finishes
    assert (summary.added, summary.documents, summary.errors) == (3, 3, [])
    assert rebuilt_documents(pg_url) is None and live_version(pg_url) != version
    assert passages(answer_of(engine)) == passages(before)   # the same files and model: the same passages again


def test_searches_running_during_swaps_never_fail(folder, pg_url, embedder, tmp_path):
    """Rebuilds alternate between two folders while another thread searches in a loop: every search succeeds,
    and finds passages (an empty or half-written index would give none or fail)."""
    bigger = tmp_path / "bigger"
    bigger.mkdir()
    for name in DOCUMENTS:
        (bigger / name).write_text((folder / name).read_text(encoding="utf-8"), encoding="utf-8")
    (bigger / "cao-bang.txt").write_text(DOCUMENTS["bac-giang.txt"].replace("BẮC GIANG", "CAO BẰNG")
                                         .replace("Bắc Giang", "Cao Bằng").replace("37,7%", "55,5%"), encoding="utf-8")
    ingest([folder], embedder, pg_url)
    engine = Engine(pg_url, embedder)
    stop, errors, seen = threading.Event(), [], []

    def search_in_a_loop():
        while not stop.is_set():
            try:
                response = engine.search(QUESTION)
                provinces = {r.doc.province for r in response.results}
                seen.append((engine.version, len(response.results), "Cao Bằng" in provinces))
            except Exception as err:   # noqa: BLE001 - the test reports any failure
                errors.append(f"{type(err).__name__}: {err}")

    reader = threading.Thread(target=search_in_a_loop)
    reader.start()
    try:
        for n in range(6):
            ingest([bigger if n % 2 == 0 else folder], embedder, pg_url, rebuild=True)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert len({version for version, *_ in seen}) >= 3, "the searches did not span the swaps"
    assert all(results > 0 for _, results, _ in seen)
    assert any(cao_bang for _, _, cao_bang in seen)   # the four-document index served too
    assert "Cao Bằng" not in {r.doc.province for r in engine.search(QUESTION).results}   # the last rebuild: three documents


def test_a_rebuild_with_a_model_of_another_dimension(folder, pg_url, embedder):
    from index.embed import load_embedder
    from index.embed.models import FETCH_HINT, verified_folder
    from index.embed.verify import ModelUnavailable

    try:
        verified_folder()
    except ModelUnavailable as err:
        pytest.skip(f"EmbeddingGemma not available ({err}); `{FETCH_HINT}` puts it in the cache")
    ingest([folder], embedder, pg_url)
    assert dims(pg_url) == {embedder.dim} == {384}
    gemma = load_embedder("embeddinggemma-300m@256")
    summary = ingest([folder], gemma, pg_url, rebuild=True)
    assert (summary.added, summary.chunks_embedded, summary.errors) == (3, summary.chunks, [])
    engine = Engine(pg_url, gemma)
    assert engine.manifest["model"] == gemma.model_id and dims(pg_url) == {256}
    response = engine.search(QUESTION)
    assert any("64,6%" in r.text for r in response.results)
    ingest([folder], embedder, pg_url, rebuild=True)   # and back
    assert dims(pg_url) == {384} and Engine(pg_url, embedder).search(QUESTION).results
