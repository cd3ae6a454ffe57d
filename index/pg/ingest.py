"""Bring the PostgreSQL index up to date with files and folders, one transaction per document (staged uploads: one for all);
--rebuild builds a new index beside the live one and swaps it in at the end."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
import tempfile
import time
from pathlib import Path

from core.document import Chunk, Document, Metadata, content_hash
from index import build
from index.build import Progress, Summary
from index.embed.base import Embedder
from index.features import FEATURES_VERSION, features_of
from index.pg import schema, store
from index.store import ModelMismatch


def ingest(paths: list[Path], embedder: Embedder, url: str, rebuild: bool = False, remove: list[str] | None = None,
           progress: Progress | None = None, staged: dict[str, Path] | None = None) -> Summary:
    """index/build.py's ingest, same arguments and summary, into the database at `url`. Each changed document is
    written in one transaction (as soon as it is embedded: a long ingest that is interrupted keeps what it
    finished, and the document it was writing stays as it was); staged files all in one, or none if one fails.
    `rebuild` writes a new index in the schema schema.REBUILD while the live one keeps serving, and swaps it in
    in one transaction at the end: a rebuild that fails or is killed leaves the old index as it was."""
    started = time.perf_counter()
    summary = Summary()
    staged = staged or {}
    with schema.connect(url, autocommit=True) as conn, store.writer(conn), tempfile.TemporaryDirectory(prefix="ingest-staged-") as shadow:
        manifest = {"model": embedder.model_id, "backend": embedder.backend, "features": FEATURES_VERSION}
        if rebuild:   # a new index beside the live one, swapped in at the end (schema.swap_in)
            schema.start_rebuild(conn)
        with conn.transaction():
            old_model = conn.execute("select value from meta where key = 'model'").fetchone()
            if old_model and old_model[0] != embedder.model_id and not rebuild:
                raise ModelMismatch(f"this index was built with '{old_model[0]}' but the search model is "
                                    f"'{embedder.model_id}'; re-ingest with --rebuild or search with '{old_model[0]}'")
            refresh = conn.execute("select value from meta where key = 'features'").fetchone()
            refresh = refresh is not None and int(refresh[0]) != FEATURES_VERSION
            store.set_model(conn, manifest, embedder.dim)
        old = {id_: (sha, source) for id_, sha, source in conn.execute("select id, sha, source from documents")}
        files, prefixes, summary.errors = build.collect(paths)
        files = _stage(staged, paths, files, summary, Path(shadow))

        seen: set[str] = set()
        together: list[Document] = []   # staged uploads: written in one transaction at the end
        for n, (path, source) in enumerate(files):
            doc_id = Document.id_for(source)
            seen.add(doc_id)
            if progress:
                progress(n / max(1, len(files)), f"reading {source}")
            try:
                sha = build.file_sha(path, build._version())
                if doc_id in old and old[doc_id][0] == sha and not refresh:
                    summary.unchanged += 1
                    continue
                doc = build.build_document(path, source, sha)
            except (build.readers.ReadError, ValueError, OSError) as err:
                summary.errors.append({"path": source, "reason": str(err).splitlines()[0] if str(err) else type(err).__name__})
                continue
            for chunk in doc.chunks:
                chunk.features = features_of(chunk, doc.meta)
            if source in staged:
                together.append(doc)
            else:
                _write(conn, [doc], embedder, summary)
            if doc_id in old:
                summary.updated += 1
            else:
                summary.added += 1
        if together and not any(e["path"] in staged for e in summary.errors):
            _write(conn, together, embedder, summary)

        for doc_id, (_, source) in old.items():
            gone = doc_id not in seen and any(source.startswith(p) for p in prefixes)
            if doc_id in set(remove or []) or gone:
                with conn.transaction():
                    summary.removed += store.delete_document(conn, doc_id)
            elif refresh and doc_id not in seen:
                _refresh(conn, doc_id)
        summary.documents, summary.chunks = conn.execute(
            "select (select count(*) from documents), chunks from state").fetchone()
        if rebuild:
            schema.swap_in(conn)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _write(conn, docs: list[Document], embedder: Embedder, summary: Summary) -> None:
    """Embed what the index has no vector for (by content hash of the embedded text), then write the documents in one transaction."""
    texts = {content_hash(c.embed_text): c.embed_text for d in docs for c in d.chunks}
    todo = {h: t for h, t in texts.items() if h not in store.known_vectors(conn, list(texts))}
    vectors = {}
    items = list(todo.items())
    for start in range(0, len(items), build.BATCH):
        batch = items[start:start + build.BATCH]
        vectors.update(zip([h for h, _ in batch], embedder.embed_passages([t for _, t in batch])))
    summary.chunks_embedded += len(todo)
    with conn.transaction():
        for doc in docs:
            store.write_document(conn, doc, {h: vectors[h] for h in {content_hash(c.embed_text) for c in doc.chunks}
                                             if h in vectors})


def _refresh(conn, doc_id: str) -> None:
    """Features computed again for a document whose file is not among those ingested (the features version changed)."""
    with conn.transaction():
        row = conn.execute("select id, source, sha, text, meta, pages from documents where id = %s", (doc_id,)).fetchone()
        doc = Document(id=row[0], source=row[1], sha=row[2], text=row[3], meta=Metadata(**row[4]), pages=row[5])
        doc.chunks = [Chunk(**c) for (c,) in conn.execute("select chunk from chunks where doc_id = %s order by ord", (doc_id,))]
        for chunk in doc.chunks:
            chunk.features = features_of(chunk, doc.meta)
        store.write_document(conn, doc, {})


def _stage(staged: dict[str, Path], paths: list[Path], files: list[tuple[Path, str]], summary: Summary,
           shadow: Path) -> list[tuple[Path, str]]:
    """Staged files read as if they were in place (index/build.py does the same): a copy under the final
    name, beside the final place's sidecar."""
    for n, (source, path) in enumerate(staged.items()):
        root = next((Path(p) for p in paths if Path(p).is_dir() and source.startswith(f"{Path(p).resolve().name}/")), None)
        if root is None:
            raise ValueError(f"staged source '{source}' is not under any of the folders ingested")
        place = root / source.split("/", 1)[1]
        if path.resolve().is_relative_to(root.resolve()):
            hidden = f"{root.resolve().name}/{path.resolve().relative_to(root.resolve()).as_posix()}"
            summary.errors = [e for e in summary.errors if e["path"] != hidden]
        copy = shadow / str(n) / place.name
        copy.parent.mkdir()
        shutil.copyfile(path, copy)
        if build.sidecar_path(place).exists():
            shutil.copyfile(build.sidecar_path(place), build.sidecar_path(copy))
        files = [(p, key) for p, key in files if key != source] + [(copy, source)]
    return files


@contextmanager
def writer_lock(url: str):
    """Hold the database's writer lock (the one ingest takes) for the duration."""
    with schema.connect(url, autocommit=True) as conn, store.writer(conn):
        yield
