"""The index behind the app: loaded (or built) in the background, searched, and changed by uploads and edits."""
from __future__ import annotations

import datetime
import json
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO, Callable

from index.engine import (Document, Engine, canonical_query, Filters, IndexMissing, Metadata, doc_ref, index_dir, ingest, live_version,
                          embedder_for, sidecar_path, writer_lock)
from web import uploads
from web.limits import MAX_FILES
from web.pool import SearchPool
from web.settings import Settings
from web.uploads import UploadError

Progress = Callable[[float, str], None]
EDITABLE = ("type", "title", "subject", "issuer", "province", "date", "date_kind", "signer", "number")


class NotReady(Exception):
    """The index is still being loaded or built."""


class NotFound(Exception):
    """No such document."""


class Service:
    def __init__(self, settings: Settings, embedder=None):
        self.settings = settings
        self.index_dir = index_dir(settings.index_dir)
        self.embedder = embedder
        self.status = {"status": "starting", "progress": 0.0, "message": "starting"}
        self.started = time.perf_counter()
        self._engine: Engine | None = None
        self._checked = 0.0
        self._write = threading.Lock()
        self._reloading = threading.Lock()
        self._queries = threading.BoundedSemaphore(max(1, settings.query_threads))
        self.pool: SearchPool | None = None
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()   # (query, k, filters, mode, accents, version) -> JSON
        self._answers_lock = threading.Lock()
        self._answer_hits = 0

    # ---- start-up -------------------------------------------------------------------------
    def start(self, background: bool = True) -> None:
        if background:
            threading.Thread(target=self._start, name="index-loader", daemon=True).start()
        else:
            self._start()

    def _start(self) -> None:
        try:
            if self.embedder is None:
                self._set("loading", 0.0, "loading the embedding model")
                self.embedder = embedder_for(self.index_dir)
            with writer_lock(self.index_dir):   # uploads and deletes a crash interrupted
                done = uploads.recover(self.settings.upload_dir, self.index_dir, self.source_key)
            for name in done["placed"]:
                print(f"[uploads] recovered '{name}': indexed before the crash, moved into place", file=sys.stderr, flush=True)
            for name in done["removed"]:
                print(f"[uploads] removed '{name}': left by an interrupted upload or delete", file=sys.stderr, flush=True)
            self._set("loading", 0.0, f"loading the index from {self.index_dir}")
            try:
                engine = Engine(self.index_dir, self.embedder)
            except IndexMissing:
                self._set("building", 0.0, f"no index yet: ingesting {', '.join(map(str, self.settings.roots))}")
                print(f"[index] {self.status['message']} into {self.index_dir}", file=sys.stderr, flush=True)
                summary = ingest(self.settings.roots, self.embedder, self.index_dir, progress=self._console_progress)
                print(f"[index] built: {summary.documents} documents, {summary.chunks} chunks in "
                      f"{summary.seconds:.1f} s; {len(summary.errors)} error(s)", file=sys.stderr, flush=True)
                for error in summary.errors:
                    print(f"[index]   {error['path']}: {error['reason']}", file=sys.stderr, flush=True)
                engine = Engine(self.index_dir, self.embedder)
            if self.settings.workers > 0:   # ready once every worker has loaded the index
                self._set("loading", 1.0, f"starting {self.settings.workers} search worker processes")
                self.pool = SearchPool(self.index_dir, self.settings.workers)
                pids = self.pool.start()
                print(f"[app] {len(pids)} search worker processes: {', '.join(map(str, pids))}", file=sys.stderr, flush=True)
            self._engine = engine
            seconds = time.perf_counter() - self.started
            self._set("ok", 1.0, f"ready in {seconds:.1f} s")
            manifest = self._engine.manifest
            print(f"[index] ready: {manifest['documents']} documents, {manifest['chunks']} chunks, "
                  f"model {manifest['model']} ({seconds:.1f} s)", file=sys.stderr, flush=True)
        except Exception as err:   # shown by /healthz and the UI instead of a dead thread
            self._set("error", 0.0, f"{type(err).__name__}: {err}")
            print(f"[index] failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)

    def _set(self, status: str, progress: float, message: str) -> None:
        self.status = {"status": status, "progress": round(progress, 3), "message": message}

    def _console_progress(self, fraction: float, message: str) -> None:
        """Shown by /healthz and the UI; the console has ingest's own progress bar."""
        self._set("building", fraction, message)

    # ---- reading --------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        """The loaded engine, reloaded when another process (python -m ingest) made a new version."""
        engine = self._engine
        if engine is None:
            raise NotReady(self.status["message"])
        now = time.monotonic()
        if now - self._checked > 1.0:
            self._checked = now
            current = live_version(self.index_dir)
            if current and current != engine.version:
                self._reload(current)
        return self._engine

    def _reload(self, version: str | None = None) -> None:
        """Load the live version; requests keep using the old engine until the new one is swapped in."""
        with self._reloading:
            if version and self._engine is not None and self._engine.version == version:
                return   # another request already loaded it
            self._engine = Engine(self.index_dir, self.embedder)

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "smart",
               accent_insensitive: bool = True) -> dict:
        return json.loads(self.search_json(query, k, filters, mode, accent_insensitive))

    def search_json(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "smart",
                    accent_insensitive: bool = True) -> bytes:
        """The response as JSON: from the answer cache, else from a search worker, else searched here."""
        check_text(query, "the question")
        for name in ("province", "type", "doc"):
            check_text(getattr(filters, name, None), name)
        query = canonical_query(query)   # "hoà"/"hòa", NFD/NFC and spacing: one cache entry, one search
        filters = filters.canonical() if filters is not None else None
        engine = self.engine
        key = (query, k, repr(filters), mode, accent_insensitive)
        found = self._cached(key + (engine.version,))
        if found is not None:
            return found
        if self.pool is not None:
            version, data = self.pool.search(query, k, filters, mode, accent_insensitive)
        else:
            with self._queries:
                version, data = engine.version, engine.search(query, k=k, filters=filters, mode=mode,
                                                              accent_insensitive=accent_insensitive).model_dump_json().encode()
        self._remember(key + (version,), data)
        return data

    def _cached(self, key: tuple) -> bytes | None:
        with self._answers_lock:
            data = self._answers.get(key)
            if data is not None:
                self._answers.move_to_end(key)
                self._answer_hits += 1
            return data

    def answer_cache(self) -> dict:
        """How many answers the cache holds and how many requests it has answered since start (for /healthz)."""
        with self._answers_lock:
            return {"entries": len(self._answers), "hits": self._answer_hits}

    def _remember(self, key: tuple, data: bytes) -> None:
        """Keep the answer of one index version; the first answer of a newer version empties the cache."""
        if self.settings.query_cache <= 0:
            return
        with self._answers_lock:
            if self._answers and next(reversed(self._answers))[-1] != key[-1]:
                self._answers.clear()
            self._answers[key] = data
            while len(self._answers) > self.settings.query_cache:
                self._answers.popitem(last=False)

    def provinces(self) -> set[str]:
        """Provinces the indexed documents are about (a follow-up question may name one); none while loading."""
        try:
            docs = self.engine.documents.values()
        except NotReady:
            return set()
        return {d.meta.province for d in docs if d.meta.province}

    def highlighter(self, question: str):
        """text -> spans of the question's words (and their restored or glossary forms) in `text`."""
        return self.engine.highlighter(question)

    def document(self, doc_id: str) -> Document:
        doc = self.engine.documents.get(doc_id)
        if doc is None:
            raise NotFound(f"no document with id '{doc_id}'")
        return doc

    def path_of(self, doc: Document) -> Path | None:
        """The source file of a document ingested from one of our roots, if it is still there."""
        for root in self.settings.roots:
            prefix = f"{root.name}/"
            if doc.source.startswith(prefix):
                path = root / doc.source[len(prefix):]
                if path.is_file():
                    return path
        return None

    def is_upload(self, doc: Document) -> bool:
        path = self.path_of(doc)
        return path is not None and path.resolve().is_relative_to(self.settings.upload_dir)

    def source_key(self, path: Path) -> str:
        for root in self.settings.roots:
            if path.resolve().is_relative_to(root):
                return f"{root.name}/{path.resolve().relative_to(root).as_posix()}"
        raise ValueError(f"{path} is outside the corpus folders")

    def _root_of(self, path: Path) -> Path:
        return next(root for root in self.settings.roots if path.resolve().is_relative_to(root))

    # ---- writing --------------------------------------------------------------------------
    def upload(self, files: list[tuple[str, BinaryIO]], progress: Progress | None = None) -> dict:
        """Store and index uploaded files, all or none. Each is written to a hidden `.incoming-…` file
        and ingested from there under its final source key; only once the index version holding all of
        them is saved are they moved into place (`os.replace`). A crash before the save leaves the index
        as it was and hidden files that start-up recovery deletes; after it, recovery moves them in."""
        self.engine  # noqa: B018 - refuse while not ready
        if not files:
            raise UploadError("no file in the request")
        if len(files) > MAX_FILES:
            raise UploadError(f"more than {MAX_FILES} files in one request", 413)
        folder = self.settings.upload_dir
        max_bytes = int(self.settings.upload_max_mb * 1048576)   # all files of the request together
        with self._write:
            staged: list[tuple[Path, Path]] = []
            saved = False
            try:
                for name, stream in files:
                    tmp, final = uploads.save(stream, name, folder, max_bytes, sum(t.stat().st_size for t, _ in staged))
                    staged.append((tmp, final))
                    if sum(1 for _, f in staged if f == final) > 1:
                        raise UploadError(f"'{final.name}' is in the request twice")
                keys = {self.source_key(final): tmp for tmp, final in staged}
                summary = ingest(sorted({self._root_of(f) for _, f in staged}), self.embedder, self.index_dir,
                                 progress=progress, staged=keys)
                failed = [e for e in summary.errors if e["path"] in keys]
                if failed:   # nothing was saved: staged files go into the index together or not at all
                    raise UploadError("; ".join(f"'{e['path'].rsplit('/', 1)[-1]}' cannot be indexed: {e['reason']}"
                                                for e in failed), 422)
                saved = True
                for tmp, final in staged:
                    os.replace(tmp, final)
            except BaseException:
                if not saved:   # after the save a failed move is left to start-up recovery, which completes it
                    for tmp, _ in staged:
                        tmp.unlink(missing_ok=True)
                raise
            self._reload()
        docs = [self.document(Document.id_for(self.source_key(f))) for _, f in staged]
        return {"documents": [self.describe(d) for d in docs], "summary": summary.to_dict()}

    def delete(self, doc_id: str) -> dict:
        """Remove a document from the index, and its file too if it was uploaded here."""
        with self._write:
            doc = self.document(doc_id)
            path = self.path_of(doc) if self.is_upload(doc) else None
            moved: list[tuple[Path, Path]] = []
            if path is not None:
                for file in (path, sidecar_path(path)):
                    if file.exists():
                        hidden = file.with_name(f".deleting-{os.getpid()}-{file.name}")
                        os.replace(file, hidden)
                        moved.append((hidden, file))
            try:
                summary = ingest([], self.embedder, self.index_dir, remove=[doc_id])
            except BaseException:
                for hidden, file in moved:
                    os.replace(hidden, file)
                raise
            for hidden, _ in moved:
                hidden.unlink(missing_ok=True)
            self._reload()
        return {"removed": doc_id, "file_deleted": bool(moved), "summary": summary.to_dict()}

    def reindex(self, progress: Progress | None = None) -> dict:
        self.engine  # noqa: B018
        with self._write:
            summary = ingest(self.settings.roots, self.embedder, self.index_dir, progress=progress)
            self._reload()
        return summary.to_dict()

    def save_metadata(self, doc_id: str, fields: dict) -> dict:
        """Write corrections to the document's `<file>.meta.json` and re-index it. An empty value
        drops that override (the extracted value comes back)."""
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise ValueError(f"unknown or read-only field(s) {sorted(unknown)}; editable: {', '.join(EDITABLE)}")
        with self._write:
            doc = self.document(doc_id)
            path = self.path_of(doc)
            if path is None:
                raise ValueError(f"the source file of '{doc.source}' is not in the corpus folders; cannot save overrides")
            side = sidecar_path(path)
            before = side.read_text(encoding="utf-8") if side.exists() else None
            data = json.loads(before) if before else {}
            for key, value in fields.items():
                value = clean_value(key, value)
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
            tmp = side.with_name(f".{side.name}.tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, side)
            try:
                summary = ingest([self._root_of(path)], self.embedder, self.index_dir)
                failed = [e for e in summary.errors if e["path"] == doc.source]
                if failed:
                    raise ValueError(failed[0]["reason"])
            except BaseException:
                if before is None:
                    side.unlink(missing_ok=True)
                else:
                    side.write_text(before, encoding="utf-8")
                raise
            if not data:
                side.unlink(missing_ok=True)
            self._reload()
        return {"document": self.describe(self.document(doc_id)), "sidecar": str(side), "overrides": data}

    # ---- shapes ---------------------------------------------------------------------------
    def describe(self, doc: Document) -> dict:
        return dict(doc_ref(doc).model_dump(), meta=doc.meta.to_dict(), chunks=len(doc.chunks), lines=doc.text.count("\n") + 1,
                    uploaded=self.is_upload(doc))


def check_text(value: str | None, what: str) -> None:
    """ValueError for text that is not Unicode text: a lone surrogate, which JSON's "\\ud800" can carry."""
    try:
        (value or "").encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{what} is not valid text: a lone UTF-16 surrogate at character {err.start + 1}") from None


def clean_value(key: str, value) -> str | None:
    if value is None:
        return None
    check_text(str(value), f"'{key}'")
    value = " ".join(str(value).split())
    if not value:
        return None
    if key == "date":
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
        d = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
        if m:
            year, month, day = m.groups()
        elif d:
            day, month, year = d.groups()
        else:
            raise ValueError(f"date '{value}': write it as dd/mm/yyyy or yyyy-mm-dd")
        try:
            value = datetime.date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            raise ValueError(f"date '{value}' is not a real date (day {day}, month {month}, year {year})") from None
    if key == "date_kind" and value not in ("issued", "adopted"):
        raise ValueError("date_kind must be 'issued' or 'adopted'")
    assert key in Metadata.__dataclass_fields__
    return value
