"""Bring an index up to date with files and folders: documents from ingest/, features, vectors (embedding only new text), one atomic save."""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np

from core.document import Document, content_hash
from index import store
from index.dense import faiss_id
from index.embed.base import Embedder
from index.features import FEATURES_VERSION, features_of
from ingest import readers
from ingest.metadata import sidecar_path
from ingest.pipeline import build_document, collect, file_sha, pipeline_version

BATCH = 32

Progress = Callable[[float, str], None]


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    documents: int = 0
    chunks: int = 0
    errors: list[dict] = field(default_factory=list)   # {"path": ..., "reason": one line}

    def to_dict(self) -> dict:
        return asdict(self)


@cache
def _version() -> str:
    """The ingest code's version, hashed once per process (not at import)."""
    return pipeline_version()


def source_sha(path: Path, place: Path | None = None) -> str:
    """The content hash ingest gives the file at `path` once it stands at `place` (with the sidecar there)."""
    return file_sha(path, _version(), sidecar_path(place or path))


class _Stream:
    """Documents written to the new version in order, as they come; the new texts among their chunks are
    embedded FLUSH at a time (each distinct text once), the others reuse a vector: of the old index when
    the embedded text is the same (content hash), or one embedded earlier in this ingest. Memory holds
    the documents of one batch, not the index."""

    FLUSH = 256          # new texts gathered before they are embedded
    QUEUE = 4096         # chunks waiting at most (embedded with what is gathered when reached)

    def __init__(self, writer: store.Writer, old: store.Snapshot | None, embedder: Embedder, summary: Summary):
        self.writer, self.old, self.embedder, self.summary = writer, old, embedder, summary
        self.queue: list[tuple[Document, list]] = []   # (document, per chunk: its vector or its content hash)
        self.queued = 0
        self.todo: dict[str, str] = {}                  # content hash -> text to embed
        self.rows: dict[str, int] = {}                  # content hash -> row written with its vector in this ingest
        self._known: dict[str, int] | None = None

    @property
    def known(self) -> dict[str, int]:
        """Content hash of each old chunk's embedded text -> its FAISS id (read at the first new document)."""
        if self._known is None:
            self._known = {} if self.old is None else {content_hash(c.embed_text): faiss_id(c.id) for c in self.old.chunks}
        return self._known

    def keep(self, doc: Document) -> None:
        """An old document as it was indexed: its vectors are the old index's."""
        self._queue(doc, list(store.vectors_of(self.old.dense, doc.chunks)))

    def add(self, doc: Document) -> None:
        """A document read now: vectors reused or embedded."""
        keys = [content_hash(c.embed_text) for c in doc.chunks]
        for key, chunk in zip(keys, doc.chunks):
            if key not in self.rows and key not in self.known:
                self.todo.setdefault(key, chunk.embed_text)
        self._queue(doc, keys)

    def _queue(self, doc: Document, vectors: list) -> None:
        self.queue.append((doc, vectors))
        self.queued += len(vectors)
        if not self.todo or len(self.todo) >= self.FLUSH or self.queued >= self.QUEUE:
            self.flush()

    def flush(self) -> None:
        texts = list(self.todo.values())
        fresh = dict(zip(self.todo, (v for start in range(0, len(texts), BATCH)
                                     for v in self.embedder.embed_passages(texts[start:start + BATCH]))))
        self.summary.chunks_embedded += len(fresh)
        for doc, items in self.queue:
            vectors = []
            for row, item in enumerate(items, start=self.writer.chunks):
                if not isinstance(item, str):
                    vectors.append(item)
                elif item in fresh:   # kept until the flush ends: the same text may come again in this document
                    vectors.append(fresh[item])
                    self.rows.setdefault(item, row)
                elif item in self.rows:
                    vectors.append(self.writer.vector(self.rows[item]))
                else:
                    vectors.append(self.old.dense.vector(self.known[item]))
            self.writer.add(doc, np.array(vectors, dtype=np.float32).reshape(-1, self.embedder.dim))
        self.queue, self.queued, self.todo = [], 0, {}


def ingest(paths: list[Path], embedder: Embedder, index_path: str | Path | None = None,
           rebuild: bool = False, remove: list[str] | None = None, progress: Progress | None = None,
           staged: dict[str, Path] | None = None) -> Summary:
    """Bring the index up to date with `paths`. Files that fail are reported in `errors` and the
    rest goes on; a failing file that was indexed before keeps its indexed version.
    `remove` lists document ids to drop explicitly.
    `staged` maps source keys to the file to read for them instead of the one at the key's place (an
    upload not yet moved there; hidden names are fine). It is read as if it were in place: under its
    final name, with the final place's `.meta.json`, so its sha is the one `file_sha` gives once it is
    moved there. Staged files are saved together or not at all: if one fails, the index is not saved.
    The new version is written document by document as files are read (store.Writer): memory holds a
    batch of documents, not the index; nothing is written when no file changed."""
    started = time.perf_counter()
    summary = Summary()
    staged = staged or {}
    with store.writer_lock(index_path), tempfile.TemporaryDirectory(prefix="ingest-staged-") as shadow:
        try:
            old = None if rebuild else store.load(index_path)
        except store.IndexMissing:
            old = None
        if old is not None:
            old.check_model(embedder.model_id)
        old_docs = dict(old.documents) if old else {}
        files, prefixes, summary.errors = collect(paths)
        for n, (source, path) in enumerate(staged.items()):
            root = next((Path(p) for p in paths if Path(p).is_dir() and source.startswith(f"{Path(p).resolve().name}/")), None)
            if root is None:
                raise ValueError(f"staged source '{source}' is not under any of the folders ingested")
            place = root / source.split("/", 1)[1]
            if path.resolve().is_relative_to(root.resolve()):   # collect() skips it as hidden; staged, it is read
                hidden = f"{root.resolve().name}/{path.resolve().relative_to(root.resolve()).as_posix()}"
                summary.errors = [e for e in summary.errors if e["path"] != hidden]
            copy = Path(shadow, str(n), place.name)
            copy.parent.mkdir()
            shutil.copyfile(path, copy)
            if sidecar_path(place).exists():
                shutil.copyfile(sidecar_path(place), sidecar_path(copy))
            files = [(p, key) for p, key in files if key != source] + [(copy, source)]

        def failed(source: str, err: Exception) -> None:
            summary.errors.append({"path": source, "reason": str(err).splitlines()[0] if str(err) else type(err).__name__})

        plan: list[tuple[Path, str, str, str | None]] = []   # (path, source, document id, sha; None: unreadable)
        for path, source in files:
            try:
                sha = file_sha(path, _version())
            except (readers.ReadError, ValueError, OSError) as err:
                failed(source, err)
                sha = None
            plan.append((path, source, Document.id_for(source), sha))
        seen = {doc_id for _, _, doc_id, _ in plan}
        removals = {doc_id for doc_id, doc in old_docs.items() if doc_id in set(remove or [])
                    or (doc_id not in seen and any(doc.source.startswith(p) for p in prefixes))}
        summary.removed = len(removals)
        refresh = old is not None and old.manifest.get("features") != FEATURES_VERSION
        same = {doc_id for _, _, doc_id, sha in plan if doc_id in old_docs and old_docs[doc_id].sha == sha}
        if old is not None and not refresh and not removals and all(sha is None or doc_id in same for _, _, doc_id, sha in plan):
            summary.unchanged = len(same)   # nothing to write
            summary.documents, summary.chunks = len(old_docs), len(old.chunks)
            summary.seconds = round(time.perf_counter() - started, 3)
            return summary

        from tqdm import tqdm

        manifest = {"model": embedder.model_id, "backend": embedder.backend, "features": FEATURES_VERSION}
        bar = tqdm(total=len(plan), desc="ingesting", unit="file", disable=len(plan) < 2, leave=False)
        with store.Writer(manifest, embedder.dim, index_path) as writer, bar:
            stream = _Stream(writer, old, embedder, summary)
            written: set[str] = set()

            def keep(doc: Document) -> None:
                if refresh:
                    doc.chunks = _with_features(doc)
                stream.keep(doc)
                written.add(doc.id)

            for n, (path, source, doc_id, sha) in enumerate(plan):
                bar.update(n > 0)
                if progress:
                    progress(n / max(1, len(plan)), f"reading {source}")
                if doc_id in removals or doc_id in written:
                    continue
                if doc_id in same:
                    summary.unchanged += 1
                    keep(old_docs[doc_id])
                    continue
                try:
                    if sha is None:
                        raise _Unreadable
                    doc = build_document(path, source, sha)
                except _Unreadable:
                    doc = None
                except (readers.ReadError, ValueError, OSError) as err:
                    failed(source, err)
                    doc = None
                if doc is None:   # a failing file that was indexed before keeps its indexed version
                    if doc_id in old_docs:
                        keep(old_docs[doc_id])
                    continue
                if doc_id in old_docs:
                    summary.updated += 1
                else:
                    summary.added += 1
                doc.chunks = _with_features(doc)
                stream.add(doc)
                written.add(doc_id)
            for doc_id, doc in old_docs.items():
                if doc_id not in removals and doc_id not in written:
                    keep(doc)
            stream.flush()
            staged_failed = any(e["path"] in staged for e in summary.errors)
            if (old is None or refresh or summary.added or summary.updated or summary.removed) and not staged_failed:
                writer.commit()
            summary.documents, summary.chunks = len(writer.catalogue), writer.chunks
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


class _Unreadable(Exception):
    """A file whose hash could not be read (already reported)."""


def _with_features(doc: Document) -> list:
    """The document's chunks with their features computed (copies of a loaded index's lazily read chunks)."""
    chunks = list(doc.chunks)
    for chunk in chunks:
        chunk.features = features_of(chunk, doc.meta)
    return chunks
