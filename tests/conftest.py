"""Shared fixtures: the real default embedding model and one index of corpus/ built once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from index.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder) -> Path:
    """corpus/ ingested with the default model into a session-wide index folder."""
    from index.build import ingest

    path = tmp_path_factory.mktemp("corpus-index")
    summary = ingest([CORPUS], embedder, path)
    assert summary.added == len(list(CORPUS.glob("*.txt"))) and not summary.errors
    return path


@pytest.fixture(scope="session")
def engine(corpus_index, embedder):
    from index.engine import Engine

    return Engine(corpus_index, embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of corpus/ that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
