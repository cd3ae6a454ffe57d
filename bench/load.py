"""`python -m bench load`: start-up time of `python app.py` (cold: no index; warm) and 20 clients on /api/ask for 60 s.

Everything runs on loopback against one server process started here, over a private copy of corpus/
and a fresh index folder (the project's own index is not touched).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QA_FILE = ROOT / "bench" / "qa.jsonl"
MAX_CLIENTS, MAX_SECONDS, START_TIMEOUT = 64, 300, 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in QA_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def get(port: int, path: str, timeout: float = 5) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


class App:
    """`python app.py` (of `root`, this tree by default) on a free port, with `env` added to the environment;
    `listening_seconds` / `ready_seconds` from process start to the first answer / the first 200 on /healthz."""

    def __init__(self, index_dir: Path, corpus: Path, log: Path, root: Path = ROOT, env: dict | None = None,
                 label: str = "app.py"):
        self.port = free_port()
        env = dict(os.environ, INDEX_DIR=str(index_dir), CORPUS_DIR=str(corpus), LOG_LEVEL="warning", **(env or {}))
        started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, str(root / "app.py"), "--host", "127.0.0.1", "--port", str(self.port)],
                                     cwd=root, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        self.listening_seconds = None
        while time.perf_counter() - started < START_TIMEOUT:
            if self.proc.poll() is not None:
                raise SystemExit(f"{label} exited with {self.proc.returncode}; see {log}")
            try:
                status = get(self.port, "/healthz")
                self.listening_seconds = self.listening_seconds or time.perf_counter() - started
                if status == 200:
                    self.ready_seconds = time.perf_counter() - started
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{label} not ready after {START_TIMEOUT} s; see {log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def client(port: int, texts: list[str], offset: int, until: float, latencies: list[float], errors: list[str]) -> None:
    """One client: POST /api/ask back to back over a keep-alive connection until `until`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = offset
    while time.perf_counter() < until:
        body = json.dumps({"question": texts[n % len(texts)]}).encode()
        n += 1
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or b'"results"' not in data:
                errors.append(f"HTTP {response.status}")
                continue
        except (OSError, http.client.HTTPException) as err:
            errors.append(type(err).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append(time.perf_counter() - started)
    conn.close()


def load(port: int, clients: int, seconds: float) -> dict:
    texts = questions()
    for text in texts[:5]:                                   # warm the model and caches
        client(port, [text], 0, time.perf_counter() + 0.001, [], [])
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    until = started + seconds
    threads = [threading.Thread(target=client, args=(port, texts, i * 7, until, latencies, errors)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1) if ordered else float("nan")

    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(latencies), "errors": len(errors),
            "error_kinds": sorted(set(errors)), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": pct(100)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold start (reuse --index-dir if given)")
    parser.add_argument("--index-dir", type=Path, help="index folder to use (default: a fresh temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    clients = max(1, min(args.clients, MAX_CLIENTS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    log = work / "app.log"
    try:
        corpus = work / "corpus"
        shutil.copytree(args.corpus, corpus, ignore=shutil.ignore_patterns("uploads"))
        index_dir = args.index_dir or work / "index"
        out: dict = {"machine": f"{os.cpu_count()} cores", "corpus": str(args.corpus)}
        if not args.no_cold:
            shutil.rmtree(index_dir, ignore_errors=True)
            print("cold start (no index: app.py ingests the corpus) ...", file=sys.stderr, flush=True)
            app = App(index_dir, corpus, log)
            out["cold_start_s"] = round(app.ready_seconds, 2)
            out["cold_listening_s"] = round(app.listening_seconds, 2)
            app.stop()
        print("warm start ...", file=sys.stderr, flush=True)
        app = App(index_dir, corpus, log)
        out["warm_start_s"] = round(app.ready_seconds, 2)
        out["warm_listening_s"] = round(app.listening_seconds, 2)
        try:
            print(f"load: {clients} clients on /api/ask for {seconds:g} s ...", file=sys.stderr, flush=True)
            out["load"] = load(app.port, clients, seconds)
        finally:
            app.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    lo = out["load"]
    print(f"start-up (process start -> /healthz 200): cold {out.get('cold_start_s', '-')} s "
          f"(listening after {out.get('cold_listening_s', '-')} s), warm {out['warm_start_s']} s")
    print(f"/api/ask, {lo['clients']} clients, {lo['seconds']} s: {lo['requests']} requests, {lo['rps']} req/s, "
          f"p50 {lo['p50_ms']} ms, p95 {lo['p95_ms']} ms, p99 {lo['p99_ms']} ms, max {lo['max_ms']} ms, "
          f"errors {lo['errors']}{' ' + str(lo['error_kinds']) if lo['errors'] else ''}")


if __name__ == "__main__":
    main()
