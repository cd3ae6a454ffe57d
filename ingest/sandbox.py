"""Read a file in a child process limited in memory (INGEST_MAX_READ_MB) and time (INGEST_MAX_READ_SECONDS, more per page).

The explicit limits (ingest/limits.py) stop what can be measured before it is expanded; this is the
backstop for the rest (pdfminer's cost per character, its repair of broken zlib data, streams the
scan cannot inflate, trafilatura or Tesseract pathologies). A child that runs out of memory or time
becomes a ReadError naming the limit, and the ingest goes on with the next file.

Mechanism: one worker, `python -m ingest.sandbox HARD_MB`, started with subprocess and reused for the
files that follow; one JSON line per message on its stdin and stdout.
- subprocess, not fork: the parent may be the web server, multi-threaded with ONNX Runtime and FAISS
  loaded; a plain fork copies one thread and whatever locks the others held, and an address-space
  limit in it would count the server's memory. subprocess execs a fresh interpreter at once (no
  preexec_fn, unsafe with threads), which imports only the readers (~15 MB, not the CLI's ~500 MB).
- not multiprocessing "spawn"/"forkserver": their children import the parent's __main__ again (for
  app.py, the whole web app) and pickle what they exchange; a JSON line is explicit and checkable.
- one worker for many files: the interpreter and a reader's libraries load once (pdfplumber and
  pypdfium2 take 0.25 s warm), so an isolated read of a small .txt costs 0.1-0.3 ms more than a
  direct one (0.04 ms), and starting the worker ~0.1 s once. The worker is replaced after any
  failure (time, memory, crash) and after a minute unused, and it exits by itself after two idle
  minutes (or within a second of its parent's end), so a server keeps no reader process between uploads.
- memory: while it waits, the parent looks at the worker's address space every 0.1 s and kills it
  past MAX_READ_MB. RLIMIT_AS alone is not enough: Python that runs out of memory among millions of
  small objects (pdfminer's characters) often cannot even raise MemoryError and aborts (measured:
  SIGABRT, SIGSEGV), so the parent's look is what gives the reason. The worker also sets RLIMIT_AS a
  quarter above the limit on itself, the hard stop for a spike between two looks (an allocation past
  it fails: MemoryError, or a crash reported as possibly that); Tesseract, its child, inherits that
  limit (its own, not shared). Address space rather than resident memory or RLIMIT_DATA: measured,
  the readers' libraries reserve no large ranges (17 MB for the text reader, ~60 MB with pdfplumber
  and pypdfium2, ~130 MB after a page rendered at 300 dpi), so it is close to real use, and it also
  counts mapped files and stacks.
- time: the parent waits for the answer until the deadline, then kills the worker. The deadline grows
  with the work the file turns out to hold, as the worker reports it: each PDF page started adds
  INGEST_MAX_READ_PAGE_SECONDS, each page sent to OCR (legitimately slow) INGEST_MAX_OCR_PAGE_SECONDS.
  A page that never ends gets its own allowance and what the pages before it left, not the whole
  document's.
"""
from __future__ import annotations

import atexit
import json
import os
import queue
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from ingest import limits, readers
from ingest.readers import Extracted, ReadError

ROOT = Path(__file__).resolve().parent.parent
LOOK_SECONDS = 0.1          # how often the parent looks at the worker's memory
HARD_LIMIT = 1.25           # the worker's RLIMIT_AS, times MAX_READ_MB
REUSE_SECONDS = 60          # a worker unused for longer is replaced rather than reused ...
IDLE_EXIT_SECONDS = 120     # ... before it exits by itself, so it is never asked to read as it exits

_lock = threading.Lock()    # one read at a time through the one worker
_worker: _Worker | None = None


def read_isolated(path: Path) -> Extracted:
    """readers.read(path) in the worker process; ReadError with a one-line reason for anything
    unusable, also when reading needs more than MAX_READ_MB or takes more than MAX_READ_SECONDS."""
    global _worker
    with _lock:
        if _worker is not None and not _worker.reusable():
            _worker.close()
            _worker = None
        if _worker is None:
            _worker = _Worker(limits.MAX_READ_MB.value)
        try:
            return _worker.read(path)
        except _Failed as failed:
            _worker.kill()
            _worker = None
            raise ReadError(str(failed)) from None


def stop() -> None:
    """Stop the worker, if any (at exit; a test that changes MAX_READ_MB gets a new one anyway)."""
    global _worker
    with _lock:
        if _worker is not None:
            _worker.close()
            _worker = None


atexit.register(stop)


class _Failed(Exception):
    """The worker ran out of time or memory or died: it must be replaced. The message is the reason."""


class _Worker:
    """The parent's side of one worker process."""

    def __init__(self, max_mb: int):
        self.max_mb = max_mb
        hard_mb = int(max_mb * HARD_LIMIT)
        self.process = subprocess.Popen([sys.executable, "-m", "ingest.sandbox", str(hard_mb)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.used = time.monotonic()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        """Move the worker's stdout lines to the queue, then None once it has closed it."""
        for line in self.process.stdout:
            self.lines.put(line)
        self.process.stdout.close()
        self.lines.put(None)

    def reusable(self) -> bool:
        return (self.process.poll() is None and self.max_mb == limits.MAX_READ_MB.value
                and time.monotonic() - self.used < REUSE_SECONDS)

    def read(self, path: Path) -> Extracted:
        try:
            self.process.stdin.write(json.dumps({"path": str(path.absolute())}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            raise _Failed(self._died()) from None
        seconds = limits.MAX_READ_SECONDS.value
        deadline = time.monotonic() + seconds
        pages = ocr_pages = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise _Failed(_took_too_long(seconds, pages, ocr_pages))
            if _address_space(self.process.pid) > self.max_mb * limits.MB:
                raise _Failed(_needed_too_much(self.max_mb))
            try:
                line = self.lines.get(timeout=min(LOOK_SECONDS, deadline - now))
            except queue.Empty:
                continue
            if line is None:
                raise _Failed(self._died())
            message = json.loads(line)
            if "page" in message:
                pages += 1
                deadline += limits.MAX_READ_PAGE_SECONDS.value
                continue
            if "ocr_page" in message:
                ocr_pages += 1
                deadline += limits.MAX_OCR_PAGE_SECONDS.value
                continue
            self.used = time.monotonic()
            if "out_of_memory" in message:
                raise _Failed(_needed_too_much(self.max_mb))
            if "error" in message:
                raise ReadError(message["error"])
            return Extracted(**message["extracted"])

    def _died(self) -> str:
        code = self.process.wait()
        how = (signal.strsignal(-code) or f"signal {-code}") if code < 0 else f"exit code {code}"
        return f"the reader crashed ({how}); it may have needed over {self.max_mb:,} MB ({limits.MAX_READ_MB.env})"

    def close(self) -> None:
        """Close the worker's stdin, so that it exits, and wait for it (a worker is never left a zombie)."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.process.stdin.close()


def _address_space(pid: int) -> int:
    """Bytes of a process's address space (what RLIMIT_AS limits); 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _took_too_long(seconds: int, pages: int, ocr_pages: int) -> str:
    """The reason, with the time allowed in parts: "reading took over 23 s: 20 s (ENV) and 1 s for each
    of 3 pages (ENV)"."""
    parts = [f"{seconds:,} s ({limits.MAX_READ_SECONDS.env})"]
    total = seconds
    for count, limit, what in ((pages, limits.MAX_READ_PAGE_SECONDS, "pages"),
                               (ocr_pages, limits.MAX_OCR_PAGE_SECONDS, "pages sent to OCR")):
        if count and limit.value:
            parts.append(f"{limit.value:,} s for each of {count:,} {what} ({limit.env})")
            total += count * limit.value
    if len(parts) == 1:
        return f"reading took over {seconds:,} s ({limits.MAX_READ_SECONDS.env})"
    return f"reading took over {total:,} s: " + " and ".join(parts)


def _needed_too_much(max_mb: int) -> str:
    return f"reading needed over {max_mb:,} MB ({limits.MAX_READ_MB.env})"


# ---------------------------------------------------------------- the worker process

def serve(hard_mb: int) -> None:
    """Read the files named on stdin, one JSON line each, and answer each on stdout with one JSON
    line: {"extracted": ...}, {"error": reason} or {"out_of_memory": true} (then exit), preceded by
    {"page": true} for each PDF page started and {"ocr_page": true} for each page sent to OCR. Exit at
    the end of stdin or after IDLE_EXIT_SECONDS."""
    resource.setrlimit(resource.RLIMIT_AS, (hard_mb * limits.MB, hard_mb * limits.MB))
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C stops the parent, which then closes stdin
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)   # anything a library prints goes to stderr, not into the answers

    def send(message: dict) -> None:
        answers.write(json.dumps(message).encode() + b"\n")
        answers.flush()

    readers.page_started = lambda: send({"page": True})
    readers.ocr_page_started = lambda: send({"ocr_page": True})
    while select.select([sys.stdin], [], [], IDLE_EXIT_SECONDS)[0]:
        request = sys.stdin.buffer.readline()
        if not request:
            return
        try:
            extracted = readers.read(Path(json.loads(request)["path"]))
            # checked here too (build_document checks it again) so that no over-long text is sent
            limits.MAX_CHARS.check(len(extracted.text), "document too long")
            send({"extracted": asdict(extracted)})
        except Exception as err:
            if _out_of_memory(err):
                send({"out_of_memory": True})
                return
            send({"error": _one_line(err)})


def _exit_when_orphaned(parent: int) -> None:
    """End the worker within a second of its parent's end (killed in the middle of a read, its time
    limit is gone; between reads, the end of stdin ends the worker anyway)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _out_of_memory(err: BaseException) -> bool:
    """Whether a MemoryError caused `err` (readers turn exceptions into a ReadError; the cause stays)."""
    while err is not None:
        if isinstance(err, MemoryError):
            return True
        err = err.__cause__ or err.__context__
    return False


def _one_line(err: Exception) -> str:
    if isinstance(err, ReadError):
        return str(err)
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


if __name__ == "__main__":
    serve(int(sys.argv[1]))
