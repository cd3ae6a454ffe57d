"""Shared fixtures: the real bundled embedding model (e5-small) and one index of corpus/ built once per test session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The engine's behaviour is tested on the bundled model (3x faster than the default EmbeddingGemma, always there);
# tests/index/embed/test_default.py runs the default model end to end, and test_gemma_onnx.py its embeddings.
os.environ.setdefault("EMBED_MODEL", "e5-small")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from index.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder) -> Path:
    """corpus/ ingested with the bundled model (e5-small) into a session-wide index folder."""
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


# Another process that saves the live index as a new version again and again, under the writer lock,
# then prints how many versions it wrote.
_VERSION_WRITER = """
import sys, time
from index import store
root, seconds, pause = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
snapshot = store.load(root); end = time.time() + seconds; n = 0
while time.time() < end:
    with store.writer_lock(root):
        store.save(snapshot, root)
    n += 1
    time.sleep(pause)
print(n)
"""


def version_writer(index: Path, seconds: float, pause: float = 0.0) -> subprocess.Popen:
    """Start writing index versions back to back for `seconds`; `.communicate()` gives the count."""
    return subprocess.Popen([sys.executable, "-c", _VERSION_WRITER, str(index), str(seconds), str(pause)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
