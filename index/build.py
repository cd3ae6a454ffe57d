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
from index.dense import DenseIndex, faiss_id
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


def _embed(embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    from tqdm import tqdm

    out = []
    bar = tqdm(total=len(texts), desc="embedding", unit="chunk", disable=not texts, leave=False)
    for start in range(0, len(texts), BATCH):
        out.append(embedder.embed_passages(texts[start:start + BATCH]))
        bar.update(len(out[-1]))
        if progress:
            progress(min(1.0, (start + BATCH) / len(texts)), f"embedding {min(start + BATCH, len(texts))}/{len(texts)} chunks")
    bar.close()
    return np.vstack(out) if out else np.zeros((0, embedder.dim), dtype=np.float32)


def ingest(paths: list[Path], embedder: Embedder, index_path: str | Path | None = None,
           rebuild: bool = False, remove: list[str] | None = None, progress: Progress | None = None,
           staged: dict[str, Path] | None = None) -> Summary:
    """Bring the index up to date with `paths`. Files that fail are reported in `errors` and the
    rest goes on; a failing file that was indexed before keeps its indexed version.
    `remove` lists document ids to drop explicitly.
    `staged` maps source keys to the file to read for them instead of the one at the key's place (an
    upload not yet moved there; hidden names are fine). It is read as if it were in place: under its
    final name, with the final place's `.meta.json`, so its sha is the one `file_sha` gives once it is
    moved there. Staged files are saved together or not at all: if one fails, the index is not saved."""
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

        docs: dict[str, Document] = {}
        built: set[str] = set()
        seen: set[str] = set()
        for n, (path, source) in enumerate(files):
            doc_id = Document.id_for(source)
            seen.add(doc_id)
            if progress:
                progress(n / max(1, len(files)) * 0.3, f"reading {source}")
            try:
                sha = file_sha(path, _version())
                if doc_id in old_docs and old_docs[doc_id].sha == sha:
                    docs[doc_id] = old_docs[doc_id]
                    summary.unchanged += 1
                    continue
                docs[doc_id] = build_document(path, source, sha)
                built.add(doc_id)
            except (readers.ReadError, ValueError, OSError) as err:
                summary.errors.append({"path": source, "reason": str(err).splitlines()[0] if str(err) else type(err).__name__})
                if doc_id in old_docs:
                    docs[doc_id] = old_docs[doc_id]
                continue
            if doc_id in old_docs:
                summary.updated += 1
            else:
                summary.added += 1

        removals = set(remove or [])
        for doc_id, doc in old_docs.items():
            gone = doc_id not in seen and any(doc.source.startswith(p) for p in prefixes)
            if doc_id in removals or gone:
                docs.pop(doc_id, None)
                summary.removed += 1
            elif doc_id not in docs:
                docs[doc_id] = doc

        refresh = old is not None and old.manifest.get("features") != FEATURES_VERSION
        for doc in docs.values():
            if refresh or doc.id in built:
                doc.chunks = list(doc.chunks)   # a loaded index reads its chunks lazily: change copies held here
                for chunk in doc.chunks:
                    chunk.features = features_of(chunk, doc.meta)
        vectors = _vectors(docs, old, embedder, summary, progress)
        dense = DenseIndex(embedder.dim)
        chunks = [c for d in docs.values() for c in d.chunks]
        dense.add([faiss_id(c.id) for c in chunks], vectors)
        manifest = {"model": embedder.model_id, "backend": embedder.backend, "features": FEATURES_VERSION}
        snapshot = store.Snapshot(manifest, docs, dense)
        staged_failed = any(e["path"] in staged for e in summary.errors)
        if (old is None or refresh or summary.added or summary.updated or summary.removed) and not staged_failed:
            store.save(snapshot, index_path)
    summary.documents, summary.chunks = len(docs), len(chunks)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _vectors(docs: dict[str, Document], old: store.Snapshot | None, embedder: Embedder,
             summary: Summary, progress: Progress | None) -> np.ndarray:
    """A vector for every chunk in order: reused from the old index when the embedded text is
    the same (content hash), embedded once per distinct text otherwise."""
    known: dict[str, int] = {}
    if old is not None:
        known = {content_hash(c.embed_text): faiss_id(c.id) for c in old.chunks}
    chunks = [c for d in docs.values() for c in d.chunks]
    keys = [content_hash(c.embed_text) for c in chunks]
    todo: dict[str, str] = {}
    for key, chunk in zip(keys, chunks):
        if key not in known:
            todo.setdefault(key, chunk.embed_text)
    fresh = dict(zip(todo, _embed(embedder, list(todo.values()), progress)))
    summary.chunks_embedded = len(todo)
    out = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = fresh[key] if key in fresh else old.dense.vector(known[key])
    return out
