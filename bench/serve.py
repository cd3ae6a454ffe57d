"""`python -m bench serve`: many concurrent clients on /api/ask against `python app.py`, for several server configurations.

First one query is profiled in this process (where its time goes: query embedding, analysis, retrieval and
ranking, answer decision and results, serialisation; then 1, 2 and 4 threads searching at once, which
shows what the GIL lets threads gain). Then each configuration starts the real app on a free localhost
port over the same index (built once into a temporary folder unless --index-dir holds one), waits for
/healthz, measures one client asking alone, then N clients (asyncio, keep-alive HTTP/1.1; --client httpx
for httpx.AsyncClient) asking back to back for --seconds over a mix of the question sets' questions:
Vietnamese, Vietnamese without diacritics, English. Configurations (--configs, comma-separated):

    one          the app alone, searching in its own process (QUERY_THREADS threads), no answer cache
    tN           the same with QUERY_THREADS=N
    wN           N search worker processes beside the app (WORKERS=N), no answer cache
    ...+cache    the same with the answer cache on (QUERY_CACHE=1024 answers)
    ref:REF      the app as it was at git commit REF (`git archive`; same index, same venv)

Prints a table per stage and, last, one JSON line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import load

ROOT = Path(__file__).resolve().parent.parent
QA_FILES = sorted((ROOT / "bench").glob("qa*.jsonl"))
FORMS = {"vi": "vi", "vi_nodiac": "vi, no diacritics", "en": "en"}


# ---- the questions --------------------------------------------------------------------------------
def question_mix(seed: int = 12) -> list[dict]:
    """Every question of the sets as written (a third each Vietnamese, Vietnamese without diacritics, English),
    plus each Vietnamese one with its diacritics stripped; shuffled."""
    from core.vietnamese import fold

    mix = []
    for path in QA_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            lang = q.get("lang", "vi")
            mix.append({"question": q["question"], "form": FORMS.get(lang, "vi")})
            if lang == "vi":
                mix.append({"question": fold(q["question"]), "form": "vi, no diacritics"})
    random.Random(seed).shuffle(mix)
    return mix


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


# ---- where one query's time goes (in this process) ------------------------------------------------------
class TimedEmbedder:
    """The real embedder, adding up the time spent embedding queries."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_query(self, text: str):
        started = time.perf_counter()
        try:
            return self.inner.embed_query(text)
        finally:
            self.seconds += time.perf_counter() - started


def profile(index_dir: Path, mix: list[dict], n: int, thread_seconds: float) -> dict:
    """Median milliseconds per stage of one /api/ask search over `n` questions, and searches per second
    with 1, 2 and 4 threads."""
    from pydantic import TypeAdapter

    from index.engine import Engine, SearchResponse, load_embedder

    embedder = TimedEmbedder(load_embedder())
    engine = Engine(index_dir, embedder)
    searcher = engine.searcher
    adapter = TypeAdapter(SearchResponse)
    stages: dict[str, list[float]] = {k: [] for k in ("embed", "analyse", "retrieve_rank", "decide_answer_results",
                                                     "engine_total", "json_fastapi", "json_direct")}
    questions = [q["question"] for q in mix[:n]]
    for text in questions[:5]:
        engine.search(text, k=5)   # first-use costs
    for text in questions:
        embedder.seconds = 0.0
        t0 = time.perf_counter()
        parsed = searcher.analyze(text)
        t1 = time.perf_counter()
        searcher.search(text, max(5, engine.config.min_depth), None, "smart", True, parsed)
        t2 = time.perf_counter()
        embed = embedder.seconds
        embedder.seconds = 0.0
        t3 = time.perf_counter()
        response = engine.search(text, k=5)
        t4 = time.perf_counter()
        # FastAPI with response_model and a dict: validate the dict again, dump it to JSON-able data, json.dumps
        json.dumps(adapter.dump_python(adapter.validate_python(response.model_dump()), mode="json"), ensure_ascii=False)
        t5 = time.perf_counter()
        response.model_dump_json()
        t6 = time.perf_counter()
        stages["embed"].append(embed)
        stages["analyse"].append(t1 - t0)
        stages["retrieve_rank"].append(t2 - t1 - embed)
        stages["engine_total"].append(t4 - t3)
        stages["decide_answer_results"].append(max(0.0, (t4 - t3) - (t2 - t0)))
        stages["json_fastapi"].append(t5 - t4)
        stages["json_direct"].append(t6 - t5)
    out = {"questions": len(questions), "median_ms": {k: round(statistics.median(v) * 1000, 2) for k, v in stages.items()}}

    def run_threads(count: int) -> float:
        done = [0] * count
        until = time.perf_counter() + thread_seconds

        def work(i: int) -> None:
            j = i * 37
            while time.perf_counter() < until:
                engine.search(questions[j % len(questions)], k=5)
                j += 1
                done[i] += 1

        threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return round(sum(done) / thread_seconds, 1)

    out["threads_searches_per_s"] = {str(c): run_threads(c) for c in (1, 2, 4)}
    return out


# ---- the app ----------------------------------------------------------------------------------------------
def config_env(name: str) -> dict[str, str]:
    env = {"WORKERS": "0", "QUERY_CACHE": "0"}
    base, _, extra = name.partition("+")
    if base.startswith("w") and base[1:].isdigit():
        env["WORKERS"] = base[1:]
    elif base.startswith("t") and base[1:].isdigit():
        env["QUERY_THREADS"] = base[1:]
    elif base not in ("one",) and not base.startswith("ref:"):
        raise SystemExit(f"unknown configuration '{name}' (one, tN, wN, ...+cache, ref:REF)")
    if extra == "cache":
        env["QUERY_CACHE"] = "1024"
    elif extra:
        raise SystemExit(f"unknown option '+{extra}' in '{name}'")
    return env


def checkout(ref: str, work: Path) -> Path:
    """The project's files at `ref`, exported (git archive) into a folder of its own."""
    folder = work / f"ref-{ref.replace('/', '_')}"
    folder.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return found


def memory_mb(pid: int) -> dict:
    """Resident and proportional (shared pages split between processes) memory of each process of the app."""
    rows = []
    for p in tree(pid):
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:])
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "resource_tracker" in cmd:
            continue
        rows.append({"pid": p, "rss_mb": round(int(fields["Rss"].split()[0]) / 1024),
                     "pss_mb": round(int(fields["Pss"].split()[0]) / 1024)})
    return {"processes": rows, "rss_mb": sum(r["rss_mb"] for r in rows), "pss_mb": sum(r["pss_mb"] for r in rows)}


class App(load.App):
    """`python app.py` of this tree (or of an exported ref) on a free port, with the configuration's environment."""

    def __init__(self, name: str, index_dir: Path, corpus: Path, log: Path, work: Path):
        self.name = name
        root = checkout(name[4:], work) if name.startswith("ref:") else ROOT
        env = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **config_env(name)}
        if (ROOT / "models").is_dir() and "MODELS_DIR" not in os.environ:
            env["MODELS_DIR"] = str(ROOT / "models")
        super().__init__(index_dir, corpus, log, root=root, env=env, label=f"app.py ({name})")


# ---- the clients --------------------------------------------------------------------------------------
async def ask_raw(port: int) -> tuple:
    """A keep-alive HTTP/1.1 connection and a function posting one question on it: (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def ask(question: str, k: int | None = None) -> tuple[int, bytes]:
        body = json.dumps({"question": question, **({"k": k} if k else {})}).encode()
        writer.write(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" not in headers:
            raise ConnectionError("response without Content-Length")
        return int(head[0].split()[1]), await reader.readexactly(int(headers["content-length"]))

    return ask, writer


async def ask_httpx(http) -> tuple:
    async def ask(question: str, k: int | None = None) -> tuple[int, bytes]:
        r = await http.post("/api/ask", json={"question": question, **({"k": k} if k else {})})
        return r.status_code, r.content
    return ask, None


async def prime(port: int, mix: list[dict], clients: int = 8) -> None:
    """Every question of the mix asked once (as an answer cache would hold them after some use)."""
    todo = [q["question"] for q in mix]

    async def client() -> None:
        ask, writer = await ask_raw(port)
        while todo:
            await ask(todo.pop())
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))


async def drive(port: int, mix: list[dict], clients: int, seconds: float, kind: str = "raw",
                repeat: float | None = None, seen: set | None = None) -> dict:
    """`clients` keep-alive clients asking back to back for `seconds`; latency of every answered request.
    kind "raw": a minimal asyncio HTTP/1.1 client (about 0.3 ms of CPU a request here); "httpx": one
    httpx.AsyncClient for all (measured here: over 10 ms of CPU a request at 100 connections, so the
    client, on the same 2 cores, becomes what is measured).
    With `repeat`, that share of requests asks a question of the mix (asked before: an answer cache holds it)
    and the rest a question never asked in this run: a question of the mix with k from 6 to 10 and its final
    punctuation changed, which costs the same search (depth 10) but is a new request to any cache."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    asked: list[tuple] = []
    seen = set() if seen is None else seen
    before = len(seen)
    fresh = iter([(q["question"].rstrip("?. ") + end, k) for end in ("", "?", " ?", ".", "…") for k in range(6, 11)
                  for q in mix])
    fresh_left = [True]
    cpu0 = time.process_time()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as http:
        until = time.perf_counter() + seconds

        async def client(i: int) -> None:
            j = i * 7
            ask, writer = await (ask_raw(port) if kind == "raw" else ask_httpx(http))
            rng = random.Random(i)
            try:
                while time.perf_counter() < until:
                    question, k = mix[j % len(mix)]["question"], None
                    j += 1
                    if repeat is not None and rng.random() >= repeat:
                        question, k = next(fresh, (None, None))
                        if question is None:
                            fresh_left[0] = False
                            question, k = mix[j % len(mix)]["question"], None
                    started = time.perf_counter()
                    try:
                        status, body = await asyncio.wait_for(ask(question, k), 60)
                        if status != 200 or b'"results"' not in body:
                            errors.append(f"HTTP {status}")
                            continue
                    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, httpx.HTTPError) as err:
                        errors.append(type(err).__name__)
                        if writer is not None:   # a new connection after a broken one
                            writer.close()
                            ask, writer = await ask_raw(port)
                        continue
                    latencies.append(time.perf_counter() - started)
                    asked.append((question, k))
                    seen.add((question, k))
            finally:
                if writer is not None:
                    writer.close()

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "client": kind, "seconds": round(elapsed, 1), "requests": len(latencies),
            "errors": len(errors), "error_kinds": sorted(set(errors)), "distinct_questions": len(set(asked)),
            "repeat_share": repeat, "repeated_requests": len(asked) - (len(seen) - before), "fresh_ran_out": not fresh_left[0],
            "client_cpu_ms_per_request": round((time.process_time() - cpu0) * 1000 / max(1, len(latencies)), 2),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(latencies, 50) * 1000, 1),
            "p95_ms": round(pct(latencies, 95) * 1000, 1), "p99_ms": round(pct(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies, default=float("nan")) * 1000, 1)}


def alone(port: int, mix: list[dict], n: int) -> float:
    """Median ms of one client asking alone, `n` different questions."""
    import httpx

    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        for q in mix[-n:]:
            started = time.perf_counter()
            http.post("/api/ask", json={"question": q["question"]}).raise_for_status()
            times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def measure(name: str, index_dir: Path, corpus: Path, mix: list[dict], args, work: Path) -> dict:
    print(f"[{name}] starting app.py ...", file=sys.stderr, flush=True)
    app = App(name, index_dir, corpus, work / "app.log", work)
    try:
        out = {"config": name, "env": config_env(name), "ready_s": round(app.ready_seconds, 1)}
        seen: set = set()   # (question, k) asked of this app so far
        asyncio.run(drive(app.port, mix, min(8, args.clients), args.warmup, seen=seen))   # every process warm
        out["alone_p50_ms"] = alone(app.port, mix, 40)
        if args.repeat is not None:
            asyncio.run(prime(app.port, mix))
            seen |= {(q["question"], None) for q in mix}
        print(f"[{name}] {args.clients} clients for {args.seconds:g} s ...", file=sys.stderr, flush=True)
        out.update(asyncio.run(drive(app.port, mix, args.clients, args.seconds, args.client, args.repeat, seen)))
        out["memory"] = memory_mb(app.proc.pid)
    finally:
        app.stop()
    print(f"[{name}] {out['rps']} req/s, p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, errors {out['errors']}",
          file=sys.stderr, flush=True)
    return out


# ---- report -------------------------------------------------------------------------------------------
def table(runs: list[dict], base: dict) -> str:
    lines = ["| configuration | processes | memory RSS / PSS (MB) | 1 client p50 ms | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | asked before | req/s vs first |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        m = r["memory"]
        lines.append(f"| {r['config']} | {len(m['processes'])} | {m['rss_mb']} / {m['pss_mb']} | {r['alone_p50_ms']} | {r['rps']} | "
                     f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['errors']} | "
                     f"{r['repeated_requests'] / max(1, r['requests']):.0%} | "
                     f"{r['rps'] / base['rps']:.2f}× |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench serve", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before measuring (not counted)")
    parser.add_argument("--configs", default="one,w2,w2+cache", help="comma-separated configurations (see above)")
    parser.add_argument("--index-dir", type=Path, help="index folder (built there if empty; default: a temporary one)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="raw: a minimal asyncio HTTP/1.1 client (default); httpx: httpx.AsyncClient (costs more CPU)")
    parser.add_argument("--repeat", type=float, help="share of requests repeating a question of the mix (each asked once "
                        "before the clients start); the rest ask questions new to the run (default: every client goes round the mix)")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile of one query")
    parser.add_argument("--profile-questions", type=int, default=200)
    parser.add_argument("--thread-seconds", type=float, default=5)
    args = parser.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        config_env(c)

    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(args.corpus, corpus, ignore=shutil.ignore_patterns("uploads"))
        index_dir = args.index_dir or work / "index"
        from index.engine import live_version
        if live_version(index_dir) is None:
            print(f"building the index of {args.corpus} into {index_dir} ...", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index-dir", str(index_dir), "--json"],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1"))
        mix = question_mix()
        out: dict = {"machine": f"{os.cpu_count()} cores", "clients": args.clients, "seconds": args.seconds,
                     "questions": len(mix), "forms": {f: sum(q["form"] == f for q in mix) for f in ("vi", "vi, no diacritics", "en")}}
        if not args.no_profile:
            print("profiling one query in this process ...", file=sys.stderr, flush=True)
            out["profile"] = profile(index_dir, mix, args.profile_questions, args.thread_seconds)
        out["runs"] = [measure(c, index_dir, corpus, mix, args, work) for c in configs]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.clients} clients on POST /api/ask for {args.seconds:g} s each, {out['machine']}; {len(mix)} questions "
          f"({', '.join(f'{v} {k}' for k, v in out['forms'].items())}), asked in turn by every client\n")
    if "profile" in out:
        p = out["profile"]
        print(f"One query in this process (median ms over {p['questions']} questions):\n")
        print("| query embedding | analysis | retrieval + ranking (without the embedding) | decision, answer, results | "
              "engine total | JSON as FastAPI does (dict → validate → json.dumps) | JSON from the model (model_dump_json) |")
        print("|---|---|---|---|---|---|---|")
        m = p["median_ms"]
        print(f"| {m['embed']} | {m['analyse']} | {m['retrieve_rank']} | {m['decide_answer_results']} | {m['engine_total']} | "
              f"{m['json_fastapi']} | {m['json_direct']} |\n")
        t = p["threads_searches_per_s"]
        print(f"Searches per second in one process: 1 thread {t['1']}, 2 threads {t['2']}, 4 threads {t['4']}\n")
    print(table(out["runs"], out["runs"][0]))
    print()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
