"""The index on disk: versioned folders swapped in atomically, so an interrupted write never breaks the last good index.

    INDEX_DIR/CURRENT          name of the live version (replaced with os.replace)
    INDEX_DIR/v<timestamp>/    manifest.json, documents.json, chunks.jsonl, dense.faiss
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from index.dense import DenseIndex, faiss_id
from ingest.document import Chunk, Document, Metadata

SCHEMA_VERSION = 1
DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".index"


class IndexMissing(Exception):
    """No index has been built in this folder yet."""


class ModelMismatch(Exception):
    """The index was built with another embedding model than the one asked to search it."""


def index_dir(path: str | Path | None = None) -> Path:
    """--index-dir, else $INDEX_DIR, else .index/ in the project folder."""
    return Path(path or os.environ.get("INDEX_DIR") or DEFAULT_DIR)


class Snapshot:
    """One consistent version of the index: documents, chunks and their vectors."""

    def __init__(self, manifest: dict, documents: dict[str, Document], dense: DenseIndex):
        self.manifest = manifest
        self.documents = documents
        self.dense = dense
        self.chunks: list[Chunk] = [c for d in documents.values() for c in d.chunks]
        self.by_faiss_id = {faiss_id(c.id): i for i, c in enumerate(self.chunks)}

    @property
    def model_id(self) -> str:
        return self.manifest["model"]

    def check_model(self, model_id: str) -> None:
        if model_id != self.model_id:
            raise ModelMismatch(
                f"this index was built with '{self.model_id}' but the search model is '{model_id}'; "
                f"re-ingest with the new model (python -m ingest --model {model_id}) or search with '{self.model_id}'"
            )


def _document_to_json(doc: Document) -> dict:
    return {"id": doc.id, "source": doc.source, "sha": doc.sha, "text": doc.text, "pages": doc.pages,
            "meta": doc.meta.to_dict()}


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def load(path: str | Path | None = None) -> Snapshot:
    """The live version of the index; IndexMissing if none was built."""
    root = index_dir(path)
    current = root / "CURRENT"
    if not current.exists():
        raise IndexMissing(f"no index in {root}: build it with `python -m ingest` (corpus/ by default)")
    folder = root / current.read_text().strip()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("schema") != SCHEMA_VERSION:
        raise IndexMissing(f"index in {root} has schema {manifest.get('schema')}, expected {SCHEMA_VERSION}: re-ingest")
    documents: dict[str, Document] = {}
    for d in json.loads((folder / "documents.json").read_text(encoding="utf-8")):
        documents[d["id"]] = Document(id=d["id"], source=d["source"], sha=d["sha"], text=d["text"],
                                      meta=Metadata(**d["meta"]), pages=d["pages"])
    with open(folder / "chunks.jsonl", encoding="utf-8") as f:
        for line in f:
            chunk = Chunk(**json.loads(line))
            documents[chunk.doc_id].chunks.append(chunk)
    return Snapshot(manifest, documents, DenseIndex.load(folder / "dense.faiss"))


def save(snapshot: Snapshot, path: str | Path | None = None) -> Path:
    """Write a new version and make it live in one atomic step; older versions are then deleted."""
    root = index_dir(path)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.time_ns()}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    manifest = dict(snapshot.manifest, schema=SCHEMA_VERSION, version=name,
                    documents=len(snapshot.documents), chunks=len(snapshot.chunks), dim=snapshot.dense.dim)
    _write_json(tmp / "manifest.json", manifest)
    _write_json(tmp / "documents.json", [_document_to_json(d) for d in snapshot.documents.values()])
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
        for chunk in snapshot.chunks:
            f.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    snapshot.dense.save(tmp / "dense.faiss")
    for file in tmp.iterdir():
        with open(file, "rb") as fh:
            os.fsync(fh.fileno())
    tmp.rename(root / name)
    pointer = root / ".CURRENT.tmp"
    pointer.write_text(name)
    os.replace(pointer, root / "CURRENT")
    snapshot.manifest = manifest
    for old in root.iterdir():
        if old.is_dir() and old.name != name and (old.name.startswith("v") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return root / name


@contextmanager
def writer_lock(path: str | Path | None = None):
    """One writer at a time per index folder (ingest, app uploads); readers never wait."""
    root = index_dir(path)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
