"""The index on disk: versioned folders swapped in atomically, so an interrupted write never breaks the last good index.

    INDEX_DIR/CURRENT          name of the live version (replaced with os.replace)
    INDEX_DIR/v<timestamp>/    manifest.json, documents.json, chunks.jsonl, dense.faiss
    INDEX_DIR/v<timestamp>/search/   what search derives from all chunks (BM25, posting lists, vocabulary,
                               IDF, passage keys, scopes, signatures), written here so a load rebuilds nothing
    INDEX_DIR/v<timestamp>/SUPERSEDED   written when a newer version went live; its mtime starts the grace period

A version that is no longer live is kept for GRACE_SECONDS after it was superseded, so a process that
read CURRENT just before the switch can still open it; later saves remove it.
"""
from __future__ import annotations

import json
import mmap
import os
import pickle
import shutil
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from core.document import Chunk, Document, Features, Metadata, content_hash
from core.locks import exclusive
from core.text import passage_key
from index.dense import DenseIndex, faiss_id
from index.lexical import LexicalIndex, Postings
from index.query import Vocabulary
from index.rerank import literal_text
from index.retrieve import coverage_idf, lexical_texts

SCHEMA_VERSION = 2   # 2: chunks carry their features (index/features.py)
SEARCH_FORMAT = 2    # of search/: saved in another format, it is derived again from the chunks at load
# How long a superseded version stays on disk. A load reads a version's files in well under a second
# at corpus size (a few seconds at 100k passages). `python -m bench faults` loads in a loop for 20 s
# while another process writes versions back to back: 0 of 895 loads failed with this grace, 36 of
# 738 with none (BENCHMARKS.md).
GRACE_SECONDS = float(os.environ.get("INDEX_GRACE_SECONDS") or 120)
LOAD_ATTEMPTS = 3             # a load that finds its version gone re-reads CURRENT and tries again
DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".index"


class IndexMissing(Exception):
    """No index has been built in this folder yet."""


class ModelMismatch(Exception):
    """The index was built with another embedding model than the one asked to search it."""


def index_dir(path: str | Path | None = None) -> Path:
    """--index-dir, else $INDEX_DIR, else .index/ in the project folder."""
    return Path(path or os.environ.get("INDEX_DIR") or DEFAULT_DIR)


class ChunkTable(Sequence):
    """The chunks of a loaded index, read from chunks.jsonl (memory-mapped) when one is asked for: a
    search touches a few hundred of them, so a million are never all parsed. Recently read ones are cached."""

    CACHE = 10_000

    def __init__(self, path: Path, offsets: np.ndarray, faiss_ids: np.ndarray):
        with open(path, "rb") as f:
            self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if offsets[-1] else b""
        self.offsets, self.faiss_ids = offsets, faiss_ids
        self._cache: dict[int, Chunk] = {}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        chunk = self._cache.get(i)
        if chunk is None:
            if len(self._cache) >= self.CACHE:
                self._cache.clear()
            start, end = int(self.offsets[i]), int(self.offsets[i + 1])
            chunk = self._cache[i] = Chunk(**json.loads(self._data[start:end]))
        return chunk

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def view(self, start: int, end: int) -> "ChunkRange":
        return ChunkRange(self, start, end)


class ChunkRange(Sequence):
    """A document's chunks: positions start..end of a ChunkTable."""

    def __init__(self, table: ChunkTable, start: int, end: int):
        self.table, self.start, self.end = table, start, end

    def __len__(self) -> int:
        return self.end - self.start

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.table[self.start + j] for j in range(*i.indices(len(self)))]
        return self.table[self.start + range(len(self))[i]]


@dataclass
class SearchData:
    """What search derives from all chunks at once; see `derive`."""

    lexical: LexicalIndex
    postings: Postings
    vocab: Vocabulary
    idf: dict[str, float]
    keys: np.ndarray           # per chunk: a hash of its passage key (the same passage in several documents)
    known_scopes: set[str]     # provinces and years some passage is about
    signatures: dict[str, int]  # document id -> position of its signature chunk
    doc_ids: list[str]         # per chunk: its document's id
    doc_ranges: dict[str, tuple[int, int]]   # document id -> positions start..end of its chunks

    def positions(self, doc_ids: set[str]) -> list[int]:
        """The positions of the chunks of these documents, in order."""
        ranges = sorted(self.doc_ranges[d] for d in doc_ids if d in self.doc_ranges)
        return [i for start, end in ranges for i in range(start, end)]

    def save(self, folder: Path) -> None:
        self.lexical.save(folder / "bm25")
        self.postings.save(folder / "postings")
        np.save(folder / "keys.npy", self.keys)
        with open(folder / "derived.pickle", "wb") as f:
            pickle.dump({"format": SEARCH_FORMAT, "vocab": self.vocab, "idf": self.idf, "known_scopes": self.known_scopes,
                         "signatures": self.signatures, "doc_ids": self.doc_ids, "doc_ranges": self.doc_ranges},
                        f, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, folder: Path) -> "SearchData | None":
        """The search data saved in `folder`; None if it was saved in another format (derive it again)."""
        with open(folder / "derived.pickle", "rb") as f:
            rest = pickle.load(f)   # written by `save` in this index folder, like every other file here
        if rest.pop("format", None) != SEARCH_FORMAT:
            return None
        return cls(LexicalIndex.load(folder / "bm25"), Postings.load(folder / "postings"),
                   keys=np.load(folder / "keys.npy", mmap_mode="r"), **rest)


def derive(chunks: list[Chunk]) -> SearchData:
    """BM25, literal posting lists, the vocabulary for diacritic restoration, coverage IDF, passage
    keys, known scopes and signature chunks, computed from all chunks (when an index is saved)."""
    signatures: dict[str, int] = {}
    doc_ids = [c.doc_id for c in chunks]
    doc_ranges: dict[str, tuple[int, int]] = {}
    for i, c in enumerate(chunks):
        if "signer" in c.features.kinds:
            signatures.setdefault(c.doc_id, i)
        start = doc_ranges.get(c.doc_id, (i, i))[0]
        doc_ranges[c.doc_id] = (start, i + 1)
    keys = np.fromiter((int(content_hash(passage_key(c.text), size=15), 16) for c in chunks), dtype=np.int64, count=len(chunks))
    return SearchData(lexical=LexicalIndex(lexical_texts(chunks)), postings=Postings.build(literal_text(c) for c in chunks),
                      vocab=Vocabulary([c.text for c in chunks] + [" ".join(c.section) for c in chunks]),
                      idf=coverage_idf(chunks), keys=keys, known_scopes={s for c in chunks for s in c.features.scope},
                      signatures=signatures, doc_ids=doc_ids, doc_ranges=doc_ranges)


class Snapshot:
    """One consistent version of the index: documents, chunks and their vectors, and what search derives
    from them (read from `folder` when the snapshot was loaded from one, else computed on first use)."""

    def __init__(self, manifest: dict, documents: dict[str, Document], dense: DenseIndex, folder: Path | None = None,
                 chunks: Sequence[Chunk] | None = None):
        self.manifest = manifest
        self.documents = documents
        self.dense = dense
        self.chunks: Sequence[Chunk] = chunks if chunks is not None else [c for d in documents.values() for c in d.chunks]
        self.folder = folder
        self._search: SearchData | None = None

    @property
    def by_faiss_id(self) -> dict[int, int]:
        return {faiss_id(c.id): i for i, c in enumerate(self.chunks)}

    @property
    def search(self) -> SearchData:
        if self._search is None:
            saved = self.folder / "search" if self.folder else None
            loaded = SearchData.load(saved) if saved and (saved / "derived.pickle").exists() else None
            self._search = loaded or derive(self.chunks)
        return self._search

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
            "meta": doc.meta.to_dict(), "chunks": len(doc.chunks)}


def _chunk_to_json(chunk: Chunk) -> dict:
    """What dataclasses.asdict gives, without its deep copy (a third of the time of writing a million chunks)."""
    out = {f.name: getattr(chunk, f.name) for f in fields(Chunk)}
    out["features"] = {f.name: getattr(chunk.features, f.name) for f in fields(Features)}
    return out


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def load(path: str | Path | None = None) -> Snapshot:
    """The live version of the index; IndexMissing if none was built."""
    root = index_dir(path)
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        name = current(root)
        try:
            return _load_version(root, name)
        except (OSError, RuntimeError):   # FAISS reports a missing file as RuntimeError
            if (root / name).is_dir() or attempt == LOAD_ATTEMPTS:
                raise
            # the version was superseded and removed between reading CURRENT and opening it: read CURRENT again
    raise AssertionError("unreachable")


def current(root: Path) -> str:
    """The name of the live version in `root`; IndexMissing if there is none."""
    try:
        return (root / "CURRENT").read_text().strip()
    except FileNotFoundError:
        raise IndexMissing(f"no index in {root}: build it with `python -m ingest` (corpus/ by default)") from None


def _load_version(root: Path, name: str) -> Snapshot:
    folder = root / name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("schema") != SCHEMA_VERSION:
        raise IndexMissing(f"index in {root} has schema {manifest.get('schema')}, expected {SCHEMA_VERSION}: re-ingest")
    documents: dict[str, Document] = {}
    saved = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
    for d in saved:
        documents[d["id"]] = Document(id=d["id"], source=d["source"], sha=d["sha"], text=d["text"],
                                      meta=Metadata(**d["meta"]), pages=d["pages"])
    table = None
    if (folder / "search" / "offsets.npy").exists():
        table = ChunkTable(folder / "chunks.jsonl", np.load(folder / "search" / "offsets.npy", mmap_mode="r"),
                           np.load(folder / "search" / "faiss_ids.npy", mmap_mode="r"))
        start = 0
        for d in saved:
            documents[d["id"]].chunks = table.view(start, start + d["chunks"])
            start += d["chunks"]
    else:   # written before chunk offsets were saved: parse every chunk
        with open(folder / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                chunk = Chunk(**json.loads(line))
                documents[chunk.doc_id].chunks.append(chunk)
    return Snapshot(manifest, documents, DenseIndex.load(folder / "dense.faiss"), folder, table)


def save(snapshot: Snapshot, path: str | Path | None = None) -> Path:
    """Write a new version and make it live in one atomic step; the one it replaces is marked
    superseded, and versions superseded more than GRACE_SECONDS ago are deleted."""
    root = index_dir(path)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.time_ns()}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    manifest = dict(snapshot.manifest, schema=SCHEMA_VERSION, version=name,
                    documents=len(snapshot.documents), chunks=len(snapshot.chunks), dim=snapshot.dense.dim)
    _write_json(tmp / "manifest.json", manifest)
    _write_json(tmp / "documents.json", [_document_to_json(d) for d in snapshot.documents.values()])
    offsets = np.zeros(len(snapshot.chunks) + 1, dtype=np.int64)
    with open(tmp / "chunks.jsonl", "wb") as f:
        for i, chunk in enumerate(snapshot.chunks):
            line = (json.dumps(_chunk_to_json(chunk), ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            offsets[i + 1] = offsets[i] + len(line)
    snapshot.dense.save(tmp / "dense.faiss")
    (tmp / "search").mkdir()
    snapshot.search.save(tmp / "search")
    np.save(tmp / "search" / "offsets.npy", offsets)
    np.save(tmp / "search" / "faiss_ids.npy", np.fromiter((faiss_id(c.id) for c in snapshot.chunks), dtype=np.int64,
                                                          count=len(snapshot.chunks)))
    for file in tmp.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())
    tmp.rename(root / name)
    try:
        previous = current(root)
    except IndexMissing:
        previous = None
    pointer = root / ".CURRENT.tmp"
    pointer.write_text(name)
    os.replace(pointer, root / "CURRENT")
    if previous and (root / previous).is_dir():
        (root / previous / "SUPERSEDED").touch()
    snapshot.manifest, snapshot.folder = manifest, root / name
    prune(root, keep=name)
    return root / name


def prune(root: Path, keep: str, now: float | None = None) -> list[str]:
    """Delete what no reader can still be opening: versions superseded over GRACE_SECONDS ago,
    versions that never went live and unfinished writes (called under the writer lock)."""
    now = time.time() if now is None else now
    removed = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name == keep or not folder.name.startswith(("v", ".tmp-")):
            continue
        marker = folder / "SUPERSEDED"
        if marker.exists() and now - marker.stat().st_mtime < GRACE_SECONDS:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


@contextmanager
def writer_lock(path: str | Path | None = None):
    """One writer at a time per index folder (ingest, app uploads); readers never wait."""
    with exclusive(index_dir(path) / ".lock"):
        yield
