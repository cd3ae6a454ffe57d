"""`python -m bench faults`: kill -9 during ingest and upload, loads racing saves, hostile files; prints what survived.

Everything runs here, on private copies of corpus/ in a temporary folder, against processes started
here (`python -m ingest`, `python app.py` on a loopback port). Each part prints a Markdown table. The
last one reads costly PDFs alone in the reader's sandbox, twice in the same run: with the PDF checks
raised out of the way and the sandbox's former fixed limits (1,024 MB, 60 s a file: before), and
with the defaults (after).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.hostile import HOSTILE, broken_zlib_pdf, form_drawn_pdf, large_text_pdf, text_drawing_pdf
from bench.load import App

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
UPLOAD = ROOT / "corpus" / "001_1a7c978e25c4247f.txt"


def ingest_cmd(corpus: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "ingest", str(corpus), "--json", "--index-dir", str(index)]


def index_state(index: Path) -> tuple[bool, int, bool, str]:
    """(loads, documents, every chunk has a vector, version) of the live index, read in a fresh process."""
    code = ("import json,sys; from index import store; s = store.load(sys.argv[1]); "
            "print(json.dumps([len(s.documents), len(s.chunks), len(s.dense), s.manifest['version']]))")
    out = subprocess.run([sys.executable, "-c", code, str(index)], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if out.returncode:
        return False, 0, False, ""
    docs, chunks, vectors, version = json.loads(out.stdout)
    return True, docs, chunks == vectors > 0, version


def kill_during_ingest(work: Path, rounds: int, rng: random.Random) -> list[str]:
    """Change one file, start an ingest, kill -9 it at a random moment; the index must load, whole."""
    corpus, index = work / "corpus", work / "index"
    subprocess.run(ingest_cmd(corpus, index), cwd=ROOT, env=ENV, check=True, capture_output=True)
    expected = len(list(corpus.glob("*.txt")))
    target = corpus / "000_40b5a0639ebd00a3.txt"

    def change(n: int) -> None:
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"\nDòng thêm {n}: chỉ tiêu thử nghiệm {n} ha.\n")

    change(-1)
    started = time.perf_counter()
    subprocess.run(ingest_cmd(corpus, index), cwd=ROOT, env=ENV, check=True, capture_output=True)
    duration = time.perf_counter() - started   # an ingest of one changed file, start to exit
    intact = after_switch = 0
    for n in range(rounds):
        change(n)
        before = index_state(index)[3]
        proc = subprocess.Popen(ingest_cmd(corpus, index), cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.6, 1.05) * duration)   # mostly while it reads, embeds and saves
        proc.kill()
        proc.wait()
        ok, docs, chunks, version = index_state(index)
        intact += ok and docs == expected and chunks
        after_switch += ok and version != before
    subprocess.run(ingest_cmd(corpus, index), cwd=ROOT, env=ENV, check=True, capture_output=True)
    return [f"| kill -9 during `python -m ingest` (a changed file each round) | {rounds} | {intact} | "
            f"index loaded with all {expected} documents and a vector per chunk after each kill; "
            f"{after_switch} kills came after the new version went live |"]


def upload_state(server_dir: Path, name: str, index: Path) -> tuple[bool, bool, list[str]]:
    """(indexed, file in uploads/, hidden leftovers) for an uploaded file name."""
    uploads = server_dir / "corpus" / "uploads"
    ok, _, _, _ = index_state(index)
    code = ("import sys; from index import store; s = store.load(sys.argv[1]); "
            "print(any(d.source.endswith('/' + sys.argv[2]) for d in s.documents.values()))")
    out = subprocess.run([sys.executable, "-c", code, str(index), name], cwd=ROOT, env=ENV, capture_output=True, text=True)
    indexed = ok and out.stdout.strip() == "True"
    leftovers = sorted(p.name for p in uploads.glob(".*")) if uploads.exists() else []
    return indexed, (uploads / name).exists(), leftovers


def kill_during_upload(work: Path, rounds: int, rng: random.Random) -> list[str]:
    """Upload a document and kill -9 the app at a random moment; after a restart the document is
    either indexed with its file in uploads/, or absent with no file, and no hidden file remains."""
    corpus, index, log = work / "corpus", work / "index", work / "app.log"
    consistent = indexed_count = 0
    for n in range(rounds):
        app = App(index, corpus, log)
        name = f"tai-len-{n}.txt"
        body = UPLOAD.read_bytes() + f"\nDòng riêng của lần tải {n}.\n".encode()

        def send():
            try:
                httpx.post(f"http://127.0.0.1:{app.port}/api/documents", files={"file": (name, body, "text/plain")},
                           timeout=60)
            except httpx.HTTPError:
                pass

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(rng.uniform(0.0, 1.5))
        app.proc.kill()
        app.proc.wait()
        sender.join()
        App(index, corpus, log).stop()   # a restart runs the recovery
        indexed, on_disk, leftovers = upload_state(work, name, index)
        consistent += indexed == on_disk and not leftovers
        indexed_count += indexed
    return [f"| kill -9 of `app.py` during `POST /api/documents` | {rounds} | {consistent} | after a restart the "
            f"upload was indexed with its file ({indexed_count}) or gone with no file, no hidden leftovers |"]


def load_race(work: Path, seconds: float, grace: str) -> tuple[int, int, int]:
    """Loads in this process while another process writes versions back to back: (loads, failed, versions)."""
    index = work / "index"
    env = dict(ENV, INDEX_GRACE_SECONDS=grace)
    code = ("import sys,time; from index import store; s = store.load(sys.argv[1]); n = 0; end = time.time() + float(sys.argv[2])\n"
            "while time.time() < end: store.save(s, sys.argv[1]); n += 1\nprint(n)")
    writer = subprocess.Popen([sys.executable, "-c", code, str(index), str(seconds)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    reader = ("import sys,time; from index import store; ok = bad = 0; end = time.time() + float(sys.argv[2])\n"
              "while time.time() < end:\n    try: store.load(sys.argv[1]); ok += 1\n    except Exception: bad += 1\n"
              "print(ok + bad, bad)")
    out = subprocess.run([sys.executable, "-c", reader, str(index), str(seconds)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    versions = int(writer.communicate()[0].strip() or 0)
    loads, failed = map(int, out.stdout.split())
    return loads, failed, versions


def hostile_inputs(work: Path) -> list[str]:
    """Each hostile file next to a good one through `python -m ingest --json`: time, peak memory, reason."""
    rows = []
    for n, (name, build) in enumerate({"none (the good file alone: baseline)": None, **HOSTILE}.items()):
        folder = work / f"hostile-{n}"
        folder.mkdir()
        shutil.copy(ROOT / "corpus" / "000_40b5a0639ebd00a3.txt", folder / "good.txt")
        path = build(folder) if build else folder / "good.txt"
        started = time.perf_counter()
        proc = subprocess.Popen(ingest_cmd(folder, work / f"index-{n}"), cwd=ROOT, env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        summary = json.loads(out)
        reasons = [e["reason"] for e in summary["errors"]]
        rows.append(f"| {name} ({path.stat().st_size / 1e6:.1f} MB) | {seconds:.1f} | {usage.ru_maxrss / 1024:.0f} | "
                    f"{summary['added']} | {'; '.join(reasons) or 'none'} |")
    return rows


# Reads one file through the sandbox in a fresh process: [seconds, peak address space of the worker in
# MB (what INGEST_MAX_READ_MB limits: /proc VmPeak, or looks every 20 ms when the worker was killed), result].
READ_ALONE = """
import json, sys, threading, time
from pathlib import Path
from ingest import sandbox
from ingest.readers import ReadError
peak = 0
def watch():
    global peak
    while True:
        worker = sandbox._worker
        if worker:
            peak = max(peak, sandbox._address_space(worker.process.pid))
        time.sleep(0.02)
threading.Thread(target=watch, daemon=True).start()
started = time.perf_counter()
try:
    result = f"{len(sandbox.read_isolated(Path(sys.argv[1])).text):,} characters read"
    status = open(f"/proc/{sandbox._worker.process.pid}/status").read()
    peak = max(peak, int(status.split("VmPeak:")[1].split()[0]) * 1024)
except ReadError as err:
    result = str(err)
print(json.dumps([time.perf_counter() - started, peak / 2**20, result]))
"""
BEFORE = {"INGEST_MAX_PDF_PAGE_CONTENT_KB": "100000", "INGEST_MAX_PDF_PAGE_CHARS": "100000000",
          "INGEST_MAX_PDF_BROKEN_STREAM_KB": "100000", "INGEST_MAX_READ_MB": "1024",
          "INGEST_MAX_READ_SECONDS": "60", "INGEST_MAX_READ_PAGE_SECONDS": "0"}
COSTLY_PDFS = {
    "page of 1 MB of text-drawing commands": lambda: text_drawing_pdf(1),
    "page of 460 KB of text-drawing commands (~196,000 characters)": lambda: text_drawing_pdf(0.45),
    "16 MB of zlib data cut short": lambda: broken_zlib_pdf(16),
    "page drawing a 100-character form 1,000 times": lambda: form_drawn_pdf(1000),
    "legitimate: 250,000 characters (Civil Code-sized)": lambda: large_text_pdf(250_000),
    "legitimate: 700,000 characters": lambda: large_text_pdf(700_000),
}


def reading_alone(work: Path) -> list[str]:
    """Each costly PDF read alone in the sandbox, before (checks raised, 1,024 MB, 60 s) and after (defaults)."""
    rows = []
    for n, (name, build) in enumerate(COSTLY_PDFS.items()):
        path = work / f"costly-{n}.pdf"
        path.write_bytes(build())
        cells = []
        for env in (BEFORE, {}):
            out = subprocess.run([sys.executable, "-c", READ_ALONE, str(path)], cwd=ROOT, env=dict(ENV, **env),
                                 capture_output=True, text=True, check=True)
            seconds, peak, result = json.loads(out.stdout)
            cells += [f"{seconds:.1f}", f"{peak:.0f}", result]
        rows.append(f"| {name} ({path.stat().st_size / 1e6:.1f} MB) | " + " | ".join(cells) + " |")
    return rows


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench faults", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="kill -9 rounds for ingest (uploads: half)")
    parser.add_argument("--race-seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    try:
        shutil.copytree(ROOT / "corpus", work / "corpus", ignore=shutil.ignore_patterns("uploads"))
        print("| fault | rounds | survived | what was checked |\n|---|---|---|---|")
        for row in kill_during_ingest(work, args.rounds, rng) + kill_during_upload(work, max(1, args.rounds // 2), rng):
            print(row, flush=True)
        print("\n| load/save race | loads | failed loads | versions written |\n|---|---|---|---|")
        for grace in (os.environ.get("INDEX_GRACE_SECONDS") or "120", "0"):
            loads, failed, versions = load_race(work, args.race_seconds, grace)
            print(f"| INDEX_GRACE_SECONDS={grace} | {loads} | {failed} | {versions} |", flush=True)
        print("\n| hostile file (beside a good one) | seconds | peak MB | good files added | reason given |\n"
              "|---|---|---|---|---|")
        for row in hostile_inputs(work):
            print(row, flush=True)
        print(f"\n(peak MB: the ingest process's maximum resident set, the embedding model included; "
              f"max RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
        print("\n| PDF read alone in the sandbox | before: s | before: peak MB | before: result | after: s | "
              "after: peak MB | after: result |\n|---|---|---|---|---|---|---|")
        for row in reading_alone(work):
            print(row, flush=True)
        print("\n(peak MB: the reader process's address space, what INGEST_MAX_READ_MB limits; before: the PDF "
              "page and broken-stream checks raised out of the way, INGEST_MAX_READ_MB=1024, a fixed 60 s a file)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
