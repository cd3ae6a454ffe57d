"""`python -m bench timing`: cold and unchanged ingest of corpus/, warm query latency, in one process."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.retrieval import QA_FILE, load_qa
from index.embed import load_embedder
from index.engine import Engine
from index.build import ingest

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench timing", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="cold ingests to take the median of")
    parser.add_argument("--model")
    parser.add_argument("--backend")
    args = parser.parse_args(argv)

    embedder = load_embedder(args.model, args.backend)
    embedder.embed_passages(["khởi động"])  # load the model before timing
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.repeat):
            index = Path(tmp) / f"cold{n}"
            cold.append(ingest([ROOT / "corpus"], embedder, index).seconds)
        for _ in range(5):
            summary = ingest([ROOT / "corpus"], embedder, index)
            assert summary.chunks_embedded == 0
            warm.append(summary.seconds)

        engine = Engine(index, embedder)
        questions = [q["question"] for q in load_qa(QA_FILE)]
        for q in questions[:3]:
            engine.search(q)
        engine_ms, baseline_ms, by_lang = [], [], {}
        for _ in range(3):
            for q in questions:
                start = time.perf_counter()
                lang = engine.search(q).lang
                engine_ms.append((time.perf_counter() - start) * 1000)
                by_lang.setdefault(lang, []).append(engine_ms[-1])
                start = time.perf_counter()
                engine.snapshot.dense.search(embedder.embed_query(q), 10)   # baseline: embed + flat FAISS
                baseline_ms.append((time.perf_counter() - start) * 1000)

    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"model: {embedder.model_id} via {embedder.backend}; {summary.chunks} chunks")
    print("| measure | median | p95 | note |\n|---|---|---|---|")
    print(f"| cold ingest of corpus/ | {cold_s:.1f} s | | {args.repeat} runs: {', '.join(f'{c:.1f}' for c in cold)} s |")
    print(f"| unchanged re-ingest | {warm_s * 1000:.0f} ms | | {warm_s / cold_s:.2%} of cold, 0 chunks embedded |")
    print(f"| query, engine (hybrid + answer) | {statistics.median(engine_ms):.1f} ms | {percentile(engine_ms, 95):.1f} ms "
          f"| {len(engine_ms)} queries |")
    for lang, ms in sorted(by_lang.items()):
        print(f"| query, engine, {lang} questions | {statistics.median(ms):.1f} ms | {percentile(ms, 95):.1f} ms "
              f"| {len(ms)} queries |")
    print(f"| query, baseline (embed + flat FAISS) | {statistics.median(baseline_ms):.1f} ms "
          f"| {percentile(baseline_ms, 95):.1f} ms | engine/baseline p50 = "
          f"{statistics.median(engine_ms) / statistics.median(baseline_ms):.2f} |")


if __name__ == "__main__":
    main()
