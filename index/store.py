"""The index on disk: versioned folders swapped in atomically, so an interrupted write never breaks the last good index.

    INDEX_DIR/CURRENT          name of the live version (replaced with os.replace)
    INDEX_DIR/v<timestamp>/    manifest.json, documents.json, chunks.jsonl, dense.faiss (+ dense.ivf when large)
    INDEX_DIR/v<timestamp>/search/   what search derives from all chunks (BM25, posting lists, vocabulary,
                               IDF, passage keys, scopes, signatures), chunk offsets and the documents'
                               catalogue (documents.json without their texts), written here so a load rebuilds nothing
    INDEX_DIR/v<timestamp>/SUPERSEDED   written when a newer version went live; its mtime starts the grace period

A version is written document by document (`Writer`): chunks, vectors and the search data's compact
per-passage arrays go to disk as they come, so writing a million passages holds none of them in memory.

A version that is no longer live is kept for GRACE_SECONDS after it was superseded, so a process that
read CURRENT just before the switch can still open it; later saves remove it.
"""
from __future__ import annotations

import json
import mmap
import os
import pickle
import shutil
import sys
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from core.document import Chunk, Document, Features, Metadata, content_hash
from core.locks import exclusive
from core.text import passage_key
from index.dense import DenseIndex, faiss_id
from index.lexical import LexicalBuilder, LexicalIndex, Postings, PostingsBuilder
from index.query import Vocabulary, count_syllables
from index.rerank import literal_text
from index.retrieve import lexical_texts

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


_AFTER_TEXT = b', "line_start": '   # in a saved chunk line, what follows its doc_id, text and section


class ChunkTable(Sequence):
    """The chunks of a loaded index, read from chunks.jsonl (memory-mapped) when one is asked for: a
    search touches a few hundred of them, so a million are never all parsed. Recently read ones are cached."""

    CACHE = 10_000

    def __init__(self, path: Path, offsets: np.ndarray, faiss_ids: np.ndarray):
        with open(path, "rb") as f:
            self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if offsets[-1] else b""
        self.offsets, self.faiss_ids = np.asarray(offsets), faiss_ids   # a plain view: numpy.memmap reads one element slowly
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

    def literal_parts(self, positions: list[int]) -> list[tuple[list[str], str]]:
        """(section, text) of these chunks, read without parsing the rest of their lines (their features
        are most of a line): what the literal filter checks, on a thousand candidates at once."""
        out = []
        for i in positions:
            chunk = self._cache.get(i)
            if chunk is None:
                line = self._data[int(self.offsets[i]):int(self.offsets[i + 1])]
                cut = line.find(_AFTER_TEXT)   # keys come in Chunk's field order; a quote inside a string is escaped
                saved = json.loads(line[:cut] + b"}") if cut > 0 else json.loads(line)
                out.append((saved["section"], saved["text"]))
            else:
                out.append((chunk.section, chunk.text))
        return out

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

    def save(self, folder: Path, arrays: bool = True) -> None:
        """Write into `folder`; without `arrays`, BM25 and posting lists are already there (written as built)."""
        if arrays:
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


def derive(chunks) -> SearchData:
    """BM25, literal posting lists, the vocabulary for diacritic restoration, coverage IDF, passage
    keys, known scopes and signature chunks, computed from all chunks (when an index is saved)."""
    built = SearchBuilder()
    for chunk in chunks:
        built.add(chunk)
    return built.finish()


class SearchBuilder:
    """What `derive` computes, gathered passage by passage: per passage only compact arrays (token ids,
    posting keys, a key hash) and counts are kept; `finish` writes the rest."""

    def __init__(self):
        self.lexical, self.postings = LexicalBuilder(), PostingsBuilder()
        self.texts, self.sections = (Counter(), Counter()), (Counter(), Counter())   # vocabulary: texts first, then headings
        self.df: Counter[str] = Counter()
        self.keys = array("q")
        self.scopes: set[str] = set()
        self.signatures: dict[str, int] = {}
        self.doc_ids: list[str] = []
        self.doc_ranges: dict[str, tuple[int, int]] = {}

    def add(self, chunk: Chunk) -> None:
        i, doc_id = len(self.doc_ids), sys.intern(chunk.doc_id)
        if "signer" in chunk.features.kinds:
            self.signatures.setdefault(doc_id, i)
        self.doc_ranges[doc_id] = (self.doc_ranges.get(doc_id, (i, i))[0], i + 1)
        self.doc_ids.append(doc_id)
        self.keys.append(int(content_hash(passage_key(chunk.text), size=15), 16))
        self.lexical.add(lexical_texts([chunk])[0])
        self.postings.add(literal_text(chunk))
        count_syllables(chunk.text, *self.texts)
        count_syllables(" ".join(chunk.section), *self.sections)
        self.df.update(set(chunk.features.words))
        self.df.update(set(chunk.features.words_exact))
        self.scopes.update(chunk.features.scope)

    def finish(self, folder: Path | None = None) -> SearchData:
        """The search data (saved into `folder`, its large arrays written there directly, when given)."""
        unigrams, bigrams = self.texts
        unigrams.update(self.sections[0])   # as if every text were counted, then every heading
        bigrams.update(self.sections[1])
        n = len(self.doc_ids)
        data = SearchData(lexical=self.lexical.finish(folder / "bm25" if folder else None),
                          postings=self.postings.finish(folder / "postings" if folder else None),
                          vocab=Vocabulary([], counts=(unigrams, bigrams)),
                          idf={w: float(np.log(1 + max(1, n) / d)) for w, d in self.df.items()},
                          keys=np.frombuffer(self.keys, dtype=np.int64), known_scopes=self.scopes,
                          signatures=self.signatures, doc_ids=self.doc_ids, doc_ranges=self.doc_ranges)
        if folder is not None:
            data.save(folder, arrays=False)
        return data


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


_UNREAD = object()


class StoredDocument(Document):
    """A document of a loaded index: its text and pages are read from documents.json (memory-mapped) when
    first asked for, so loading an index of ten thousand documents parses their metadata only."""

    def __init__(self, data, start: int, end: int, **values):
        self._where = (data, start, end)
        super().__init__(text=_UNREAD, pages=_UNREAD, **values)

    def _read(self) -> None:
        data, start, end = self._where
        saved = json.loads(data[start:end])
        self._text, self._pages = saved["text"], saved["pages"]

    @property
    def text(self) -> str:
        if self._text is _UNREAD:
            self._read()
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value

    @property
    def pages(self) -> list[int] | None:
        if self._pages is _UNREAD:
            self._read()
        return self._pages

    @pages.setter
    def pages(self, value) -> None:
        self._pages = value

    def __reduce__(self):   # pickled as the plain document it stands for
        return Document, (self.id, self.source, self.sha, self.text, self.meta, self.pages, list(self.chunks))


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


def manifest(root: Path) -> dict:
    """The live version's manifest (model, backend, dimension, counts, schema); IndexMissing if there is none."""
    return _read_manifest(root / current(root))


def _read_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _mapped(path: Path):
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else b""


def _load_version(root: Path, name: str) -> Snapshot:
    folder = root / name
    manifest = _read_manifest(folder)
    if manifest.get("schema") != SCHEMA_VERSION:
        raise IndexMissing(f"index in {root} has schema {manifest.get('schema')}, expected {SCHEMA_VERSION}: re-ingest")
    documents: dict[str, Document] = {}
    catalogue = folder / "search" / "documents.json"
    if catalogue.exists():   # the documents' metadata; texts read from documents.json when asked for
        saved = json.loads(catalogue.read_text(encoding="utf-8"))
        data = _mapped(folder / "documents.json")
        for d in saved:
            documents[d["id"]] = StoredDocument(data, *d["at"], id=d["id"], source=d["source"], sha=d["sha"],
                                                meta=Metadata(**d["meta"]))
    else:
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


class Writer:
    """A new version written document by document: chunks, documents and vectors are appended to its files
    as they come and the search data keeps compact per-passage arrays, so memory does not hold the passages.
    `commit` derives what search needs, writes the dense index and makes the version live in one atomic
    step; leaving a `with` block without committing (or `abort`) removes it and the live version stays."""

    def __init__(self, manifest: dict, dim: int, path: str | Path | None = None):
        self.root = index_dir(path)
        self.root.mkdir(parents=True, exist_ok=True)
        self.name = f"v{time.time_ns()}"
        self.tmp = self.root / f".tmp-{self.name}"
        self.tmp.mkdir()
        (self.tmp / "search").mkdir()
        self.manifest, self.dim = manifest, dim
        self._chunks = open(self.tmp / "chunks.jsonl", "wb")
        self._documents = open(self.tmp / "documents.json", "wb")
        self._documents.write(b"[")
        self._vectors = open(self.tmp / "vectors.f32", "wb+")
        self.offsets, self.faiss_ids = array("q", [0]), array("q")
        self.catalogue: list[dict] = []
        self.search = SearchBuilder()
        self.done = False

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        if not self.done:
            self.abort()

    @property
    def chunks(self) -> int:
        return len(self.faiss_ids)

    def add(self, doc: Document, vectors: np.ndarray) -> None:
        """Append a document, its chunks (a list or a loaded index's range) and their vectors, in order."""
        chunks = doc.chunks
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors for {doc.source}")
        record = _document_to_json(doc)
        line = json.dumps(record, ensure_ascii=False).encode("utf-8")
        if self.catalogue:
            self._documents.write(b", ")
        at = self._documents.tell()
        self._documents.write(line)
        del record["text"], record["pages"]
        self.catalogue.append(dict(record, at=[at, at + len(line)]))
        for chunk in chunks:
            line = (json.dumps(_chunk_to_json(chunk), ensure_ascii=False) + "\n").encode("utf-8")
            self._chunks.write(line)
            self.offsets.append(self.offsets[-1] + len(line))
            self.faiss_ids.append(faiss_id(chunk.id))
            self.search.add(chunk)
        self._vectors.write(vectors.tobytes())

    def vector(self, row: int) -> np.ndarray:
        """The vector written for the chunk at `row`."""
        self._vectors.flush()
        size = self.dim * 4
        return np.frombuffer(os.pread(self._vectors.fileno(), size, row * size), dtype=np.float32)

    def commit(self) -> Path:
        """Derive the search data, write the dense index, make the version live; the new version's folder."""
        self._documents.write(b"]")
        for f in (self._chunks, self._documents, self._vectors):
            f.close()
        n, search = self.chunks, self.tmp / "search"
        np.save(search / "offsets.npy", np.frombuffer(self.offsets, dtype=np.int64))
        np.save(search / "faiss_ids.npy", np.frombuffer(self.faiss_ids, dtype=np.int64))
        _write_json(search / "documents.json", self.catalogue)
        self.search.finish(search)
        self.search = None   # its arrays are written: free them before the dense index is built
        vectors = np.memmap(self.tmp / "vectors.f32", dtype=np.float32, mode="r", shape=(n, self.dim)) if n \
            else np.zeros((0, self.dim), dtype=np.float32)
        dense = DenseIndex(self.dim)
        dense.add(np.frombuffer(self.faiss_ids, dtype=np.int64), vectors)
        del vectors
        (self.tmp / "vectors.f32").unlink()
        dense.save(self.tmp / "dense.faiss")
        del dense
        manifest = dict(self.manifest, schema=SCHEMA_VERSION, version=self.name, documents=len(self.catalogue),
                        chunks=n, dim=self.dim)
        _write_json(self.tmp / "manifest.json", manifest)
        for file in self.tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as fh:
                    os.fsync(fh.fileno())
        self.tmp.rename(self.root / self.name)
        self.done = True
        try:
            previous = current(self.root)
        except IndexMissing:
            previous = None
        pointer = self.root / ".CURRENT.tmp"
        pointer.write_text(self.name)
        os.replace(pointer, self.root / "CURRENT")
        if previous and (self.root / previous).is_dir():
            (self.root / previous / "SUPERSEDED").touch()
        self.manifest = manifest
        prune(self.root, keep=self.name)
        return self.root / self.name

    def abort(self) -> None:
        """Remove what was written; the live version stays."""
        for f in (self._chunks, self._documents, self._vectors):
            f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.done = True


def vectors_of(dense: DenseIndex, chunks) -> np.ndarray:
    """The vectors of these chunks, in order, from a dense index holding them."""
    ids = [faiss_id(c.id) for c in chunks]
    return np.vstack([dense.vector(i) for i in ids]) if ids else np.zeros((0, dense.dim), dtype=np.float32)


def save(snapshot: Snapshot, path: str | Path | None = None) -> Path:
    """Write a new version and make it live in one atomic step; the one it replaces is marked
    superseded, and versions superseded more than GRACE_SECONDS ago are deleted."""
    with Writer(snapshot.manifest, snapshot.dense.dim, path) as writer:
        for doc in snapshot.documents.values():
            writer.add(doc, vectors_of(snapshot.dense, doc.chunks))
        folder = writer.commit()
    snapshot.manifest, snapshot.folder = writer.manifest, folder
    return folder


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
