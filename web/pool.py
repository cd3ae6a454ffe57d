"""Search worker processes: each loads the model and memory-maps the live index, and answers queries as JSON bytes.

The app process keeps the HTTP server, the Gradio UI (its queue and sessions live in one process) and
every write; a query is handed to a worker, which runs the engine's Python outside the app's GIL. A worker
reads the index's `CURRENT` pointer before each query, so a version saved by an upload in the app (or by
`python -m ingest`) is what the next query searches.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from index.engine import Engine, Filters, embedder_for, live_version

_engine: Engine | None = None
_index_dir: str | None = None   # an index folder, or a postgresql:// URL
WARM_QUERY = "Tỷ lệ che phủ rừng năm 2024 là bao nhiêu?"


def _init(index_dir: str) -> None:
    """In each worker: one model and one engine over the live version; one warm query (first-use costs)."""
    global _engine, _index_dir
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    threading.Thread(target=_exit_with, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    _index_dir = index_dir
    _engine = Engine(_index_dir, embedder_for(_index_dir))   # the app's choice: $EMBED_MODEL, else the index's model
    _engine.search(WARM_QUERY, k=5)


def _exit_with(parent: int) -> None:
    """A worker whose app process died (kill -9 included) exits too instead of waiting forever for work."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _current() -> Engine:
    global _engine
    live = live_version(_index_dir)
    if live and live != _engine.version:
        _engine = Engine(_index_dir, _engine.embedder)
    return _engine


def _search(query: str, k: int, filters: Filters | None, mode: str, accent_insensitive: bool) -> tuple[str, bytes]:
    engine = _current()
    response = engine.search(query, k=k, filters=filters, mode=mode, accent_insensitive=accent_insensitive)
    return engine.version, response.model_dump_json().encode()


def _pid(pause: float) -> int:
    time.sleep(pause)   # long enough for another worker that is ready to take the next one
    return os.getpid()


class SearchPool:
    """`workers` processes answering `search(...) -> (version, JSON bytes)`; a pool broken by a dead worker
    is replaced once and the query retried."""

    def __init__(self, index_dir: Path | str, workers: int):
        self.index_dir, self.workers = index_dir, workers
        self._lock = threading.Lock()
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init, initargs=(str(self.index_dir),))

    def start(self, timeout: float = 600) -> list[int]:
        """Start every worker and wait until each has loaded the index (each answered a task); their process ids."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < self.workers and time.monotonic() < deadline:
            seen |= {f.result() for f in [self._pool.submit(_pid, 0.05) for _ in range(self.workers)]}
        return sorted(seen)

    def search(self, query: str, k: int, filters: Filters | None, mode: str, accent_insensitive: bool) -> tuple[str, bytes]:
        pool = self._pool
        try:
            return pool.submit(_search, query, k, filters, mode, accent_insensitive).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new()
            return self._pool.submit(_search, query, k, filters, mode, accent_insensitive).result()

    def pids(self) -> list[int]:
        return sorted(p.pid for p in (self._pool._processes or {}).values())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
