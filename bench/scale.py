"""`python -m bench scale`: load time, resident memory and query latency of indexes of 10k, 100k, 1M passages.

How the corpus is made. Embedding a million passages on this machine would take days, so each size is
built from the real documents of corpus/ (read, cleaned and chunked by ingest as usual), copied as
"variants": in each copy the province is another of the 63 (name, upper-case name, metadata), years
are shifted, figures scaled and document numbers renumbered (as another province's archive reads).
Every copy gets its own document id, chunk ids, features and BM25 tokens, so the index holds N
distinct passages with the vocabulary of real government documents.
Vectors: the real model embeds the original passages and a random sample of variant passages
(`--sample`); every other variant passage takes its original's vector plus Gaussian noise, scaled so
that its mean cosine to the original equals the one measured on the real sample, then renormalised.
The index is written as ingest writes one (index/store.py Writer, document by document): variants are
made a window at a time on both cores, so a build holds a window of passages, not the corpus, and its
peak memory (build_peak_mb) is what the writer needs.

Why the timings mean what they claim. Exact FAISS search costs N x dim whatever the values; BM25
cost grows with the posting lists of the query's tokens, and a templated corpus repeats its words,
so its posting lists are as long as or longer than a real archive's of that size (its vocabulary, on
the other hand, is smaller: the vocabulary-sized structures are an underestimate, said in BENCHMARKS.md).
Phrase and document-number candidates come from the same posting lists. Approximate indexes (HNSW)
depend on the geometry of the vectors: perturbed copies are tighter clusters than real passages, so
their recall is measured here against exact search on these very vectors.

Each size is measured in a fresh Python process (`subprocess`, not a fork): its load time is from
opening the index folder to a searcher ready for the first query, and its resident memory is that
process's own VmRSS / VmHWM from /proc/self/status, model included (reported apart as rss_model_mb), after
all timed queries (before the recall check, whose exact searches read every vector); rss_file_mb is the part that is pages of memory-mapped index files (page cache, shared by every
process that maps them, reclaimable), rss_anon_mb the process's own.
Query times: smart queries are the questions of bench/qa.jsonl; smart_ms is the search time beyond
the query embedding (embed_ms, timed inside the same call); phrase queries are word sequences drawn from
the passages, number queries document numbers of the generated documents, filtered queries the smart
questions restricted to one province.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCALE_DIR = ROOT / ".index-scale"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUERIES = 40   # per kind


# ---------------------------------------------------------------- making the corpus

_YEAR = re.compile(r"(?<!\d)(20[0-4]\d)(?!\d)")
_DOC_NUMBER = re.compile(r"(?<![\w/-])(\d{1,4})(?=(?:/\d{4})?[-/][A-ZĐ][A-ZĐa-z]*(?:[-/][A-ZĐa-z]+)*)")
_FIGURE = re.compile(r"(?<![\d/.,-])(\d{1,3}(?:\.\d{3})+|\d{2,4})(?![\d/-])")


def vary(text: str, variant: int, province: str, new_province: str) -> str:
    """`text` as another province's archive would read it: its province, years, figures and document numbers changed."""
    if not text:
        return text
    shift = variant % 7 - 3
    if province and new_province != province:
        text = text.replace(province, new_province).replace(province.upper(), new_province.upper())
    text = _DOC_NUMBER.sub(lambda m: str((int(m.group(1)) + 7 * variant) % 997 + 1), text)

    def figure(m: re.Match) -> str:
        raw = m.group(1)
        if _YEAR.fullmatch(raw):
            return str(int(raw) + shift)
        value = int(raw.replace(".", "")) * (100 + variant % 23) // 100
        return f"{value:,}".replace(",", ".") if "." in raw else str(value)

    return _FIGURE.sub(figure, text)


def new_province(doc, variant: int, provinces: list[str]) -> str:
    """The province a variant of `doc` is about."""
    old = doc.meta.province or ""
    return provinces[(provinces.index(old) + variant) % len(provinces)] if old in provinces else provinces[variant % len(provinces)]


def variant_documents(base: list, variant: int, provinces: list[str]) -> list:
    """Copies of the base documents for `variant` (variant 0 is the base itself), chunk features recomputed."""
    from core.document import Chunk, Document
    from index.features import features_of

    if variant == 0:
        return base
    out = []
    for doc in base:
        old, new = doc.meta.province or "", new_province(doc, variant, provinces)
        v = lambda s: vary(s, variant, old, new) if s else s   # noqa: E731
        source = f"scale/{variant}/{doc.source}"
        meta = replace(doc.meta, province=new, title=v(doc.meta.title), issuer=v(doc.meta.issuer),
                       subject=v(doc.meta.subject), number=v(doc.meta.number),
                       date=str(int(doc.meta.date[:4]) + variant % 7 - 3) + doc.meta.date[4:] if doc.meta.date else None)
        copy = Document(id=Document.id_for(source), source=source, sha=f"{doc.sha}-{variant}", text=v(doc.text),
                        meta=meta, pages=doc.pages)
        for c in doc.chunks:
            chunk = Chunk(doc_id=copy.id, text=v(c.text), section=[v(s) for s in c.section], line_start=c.line_start,
                          line_end=c.line_end, embed_text=v(c.embed_text), page=c.page)
            chunk.features = features_of(chunk, meta)
            copy.chunks.append(chunk)
        out.append(copy)
    return out


_BASE: tuple | None = None   # (base documents, provinces), set before the worker processes fork
WORKERS = 2
WINDOW = 16   # variants made ahead of the writer at most (the rest waits: memory holds a window, not the corpus)


def _variant(variant: int) -> list:
    return variant_documents(*_BASE[:1], variant, _BASE[1])


def _made(pool, base_docs: list, variants: int):
    """The base documents, then each variant's copies in order, made by `pool` at most WINDOW variants ahead."""
    yield base_docs
    ahead: deque = deque()
    for variant in range(1, variants):
        ahead.append(pool.apply_async(_variant, (variant,)))
        if len(ahead) >= WINDOW:
            yield ahead.popleft().get()
    while ahead:
        yield ahead.popleft().get()


def base_snapshot(embedder, root: Path):
    """corpus/ indexed for real (cached in `root`/base, brought up to date when corpus/ changes)."""
    from index import store
    from index.build import ingest

    folder = root / "base"
    ingest([ROOT / "corpus"], embedder, folder)
    return store.load(folder)


def noise_scale(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """(mean cosine of real variant vectors to their originals, the isotropic noise norm giving that cosine)."""
    cosine = float(np.mean([float(a @ b) for a, b in pairs])) if pairs else 0.95
    cosine = min(max(cosine, 0.5), 0.9999)
    return cosine, float(np.sqrt(1 / cosine ** 2 - 1))


def build(size: int, folder: Path, embedder, sample: int, seed: int = 0) -> dict:
    """Write an index of `size` passages into `folder`, streamed: variants are made a window at a time
    (on every core) and written document by document (index/store.py Writer); what was done, as a dict."""
    from index import store
    from ingest.metadata import PROVINCES

    started = time.perf_counter()
    base = base_snapshot(embedder, folder.parent)
    base_docs = list(base.documents.values())
    base_vectors = [store.vectors_of(base.dense, d.chunks) for d in base_docs]
    per_variant = sum(len(d.chunks) for d in base_docs)
    variants = -(-size // per_variant)
    starts = np.cumsum([0] + [len(d.chunks) for d in base_docs])   # row of each base document's first chunk in a variant
    # the variant passages the real model embeds, chosen (and embedded) first: their cosine to the originals sets the noise
    rng = random.Random(seed)
    rows = sorted(rng.sample(range(per_variant, size), min(sample, max(0, size - per_variant))))
    located = [(row // per_variant, int(np.searchsorted(starts, row % per_variant, side="right")) - 1) for row in rows]
    texts = []
    for row, (variant, d) in zip(rows, located):
        doc, chunk = base_docs[d], base_docs[d].chunks[row % per_variant - starts[d]]
        texts.append(vary(chunk.embed_text, variant, doc.meta.province or "", new_province(doc, variant, PROVINCES)))
    embedding = time.perf_counter()
    real = dict(zip(rows, embedder.embed_passages(texts))) if texts else {}
    embedding = time.perf_counter() - embedding
    cosine, sigma = noise_scale([(real[row], base_vectors[d][row % per_variant - starts[d]]) for row, (_, d) in zip(rows, located)])
    noise = np.random.default_rng(seed)
    global _BASE
    _BASE = (base_docs, PROVINCES)
    shutil.rmtree(folder, ignore_errors=True)
    documents, writing = 0, time.perf_counter()
    with store.Writer(dict(base.manifest), embedder.dim, folder) as writer, \
            multiprocessing.get_context("fork").Pool(WORKERS) as pool:   # variants made on both cores
        for variant, copies in enumerate(_made(pool, base_docs, variants)):
            for doc, vectors in zip(copies, base_vectors):
                keep = min(len(doc.chunks), size - writer.chunks)
                if keep <= 0:
                    break
                row0 = writer.chunks
                doc.chunks, vectors = doc.chunks[:keep], vectors[:keep]
                if variant:
                    moved = vectors + noise.standard_normal(vectors.shape).astype(np.float32) * (sigma / np.sqrt(embedder.dim))
                    vectors = moved / np.linalg.norm(moved, axis=1, keepdims=True)
                    for row in range(row0, row0 + keep):
                        if row in real:
                            vectors[row - row0] = real[row]
                writer.add(doc, vectors)
                documents += 1
        writer.commit()
    writing = time.perf_counter() - writing
    # throughput of the writer (variants made, chunks, vectors and search data written) against the model's alone
    return {"passages": writer.chunks, "documents": documents, "embedded_sample": len(real),
            "sample_cosine": round(cosine, 4), "build_s": round(time.perf_counter() - started, 1),
            "build_peak_mb": round(memory_mb()["hwm"]), "write_passages_per_s": round(writer.chunks / writing),
            "model_passages_per_s": round(len(real) / embedding, 1) if real else None}


# ---------------------------------------------------------------- queries

def queries(folder: Path, per_kind: int = QUERIES, seed: int = 0) -> dict[str, list]:
    """Smart questions, phrases from passages, document numbers and (question, province) pairs for one index."""
    from bench.retrieval import QA_FILE, load_qa
    from index import store
    from index.lexical import doc_numbers

    rng = random.Random(seed)
    snapshot = store.load(folder)
    smart = [q["question"] for q in load_qa(QA_FILE) if q["lang"] == "vi"][:per_kind]
    phrases = []
    for c in rng.sample(range(len(snapshot.chunks)), min(len(snapshot.chunks), 20 * per_kind)):
        words = snapshot.chunks[c].text.split()
        if len(words) >= 6 and len(phrases) < per_kind:
            start = rng.randrange(len(words) - 3)
            phrases.append(" ".join(words[start:start + 3]))
    numbers = sorted({n for c in rng.sample(range(len(snapshot.chunks)), min(len(snapshot.chunks), 50 * per_kind))
                      for n in doc_numbers(snapshot.chunks[c].text)})
    numbers = rng.sample(numbers, min(per_kind, len(numbers)))
    provinces = sorted({d.meta.province for d in snapshot.documents.values() if d.meta.province})
    filtered = [(q, rng.choice(provinces)) for q in smart]
    every = [q["question"] for q in load_qa(QA_FILE)]
    return {"smart": smart, "phrase": phrases, "number": numbers, "filtered": filtered, "recall": every}


# ---------------------------------------------------------------- measuring, in a fresh process

def memory_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak (MB), from /proc/self/status."""
    status = Path("/proc/self/status").read_text()
    get = lambda key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) / 1024   # noqa: E731
    return {"rss": get("VmRSS"), "hwm": get("VmHWM"), "anon": get("RssAnon"), "file": get("RssFile")}


class TimedEmbedder:
    """The embedder, recording how long each query embedding took (to subtract it from a search)."""

    def __init__(self, embedder):
        self.inner, self.spent = embedder, 0.0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_query(self, text: str) -> np.ndarray:
        start = time.perf_counter()
        try:
            return self.inner.embed_query(text)
        finally:
            self.spent += time.perf_counter() - start


def percentiles(name: str, values: list[float]) -> dict[str, float]:
    values = values or [float("nan")]
    return {f"{name}_p50_ms": round(float(np.percentile(values, 50)), 2),
            f"{name}_p95_ms": round(float(np.percentile(values, 95)), 2)}


def measure(folder: Path, query_file: Path, model: str | None, backend: str | None) -> dict:
    """Inside the fresh process: load the index, then time each kind of query (embedding apart)."""
    from index import store
    from index.embed import load_embedder
    from index.search import Searcher

    embedder = TimedEmbedder(load_embedder(model, backend))
    embedder.embed_query("khởi động")
    model_mb = memory_mb()["rss"]
    started = time.perf_counter()
    snapshot = store.load(folder)
    searcher = Searcher(snapshot, embedder)
    load_s = time.perf_counter() - started
    loaded_mb = memory_mb()["rss"]
    asked = json.loads(query_file.read_text(encoding="utf-8"))

    times = time_queries(searcher, embedder, asked)
    memory = memory_mb()   # after the queries, before the recall check's exact scans read every vector
    dense = dense_recall(snapshot.dense, [embedder.inner.embed_query(q) for q in asked["recall"]])
    return {"passages": len(snapshot.chunks), "load_s": round(load_s, 2), "rss_mb": round(memory["rss"]),
            "rss_peak_mb": round(memory["hwm"]), "rss_anon_mb": round(memory["anon"]), "rss_file_mb": round(memory["file"]),
            "rss_model_mb": round(model_mb), "rss_loaded_mb": round(loaded_mb),
            **{k: v for kind, ms in times.items() for k, v in percentiles(kind, ms).items()}, **dense}


def time_queries(searcher, embedder, asked: dict) -> dict[str, list[float]]:
    """Milliseconds of each asked query beyond its query embedding, by kind (smart, phrase, number, filtered),
    and of the smart queries' embeddings ("embed"); each search reads one index version (`searcher.reading()`)."""
    from index.search import Filters

    def timed(text: str, **kw) -> tuple[float, float]:
        embedder.spent = 0.0
        start = time.perf_counter()
        with searcher.reading():
            searcher.search(text, **kw)
        total = time.perf_counter() - start
        return (total - embedder.spent) * 1000, embedder.spent * 1000

    for q in asked["smart"][:3]:
        timed(q)   # warm up
    smart, embed = zip(*[timed(q) for q in asked["smart"]])
    return {"embed": list(embed), "smart": list(smart),
            "phrase": [timed(p, mode="phrase")[0] for p in asked["phrase"]],
            "number": [timed(n, mode="number")[0] for n in asked["number"]],
            "filtered": [timed(q, filters=Filters(province=p))[0] for q, p in asked["filtered"]]}


def dense_recall(dense, vectors: list[np.ndarray], k: int = 10) -> dict:
    """Which FAISS index answers unfiltered queries, its recall@k against exact search and both latencies."""
    if getattr(dense, "ann", None) is None:
        return {"dense_index": "flat (exact)", "recall_at_10": 1.0}
    found, ann_ms, exact_ms, truths = [], [], [], []
    for v in vectors:
        start = time.perf_counter()
        approximate = {i for i, _ in dense.search(v, k)}
        ann_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        exact = {i for i, _ in dense.search(v, k, exact=True)}
        exact_ms.append((time.perf_counter() - start) * 1000)
        truths.append(exact)
        found.append(len(approximate & exact) / max(1, len(exact)))
    return {"dense_index": f"IVF{dense.ann.nlist},Flat nprobe={dense_nprobe()}", "recall_at_10": round(float(np.mean(found)), 4),
            **percentiles("dense_ivf", ann_ms), **percentiles("dense_exact", exact_ms), **probes(dense, vectors, truths, k)}


def probes(dense, vectors: list[np.ndarray], exact: list[set], k: int, counts=(32, 48, 64, 96, 128)) -> dict:
    """Recall@k against exact search (`exact`: the ids it found) and p50 latency of the IVF index for other
    numbers of lists probed."""
    import faiss

    out = {}
    for nprobe in counts:
        found, spent = [], []
        for v, truth in zip(vectors, exact):
            start = time.perf_counter()
            _, ids = dense.ann.search(v.reshape(1, -1).astype(np.float32), k, params=faiss.SearchParametersIVF(nprobe=nprobe))
            spent.append((time.perf_counter() - start) * 1000)
            found.append(len(set(ids[0].tolist()) & truth) / max(1, len(truth)))
        out[f"nprobe_{nprobe}"] = {"recall_at_10": round(float(np.mean(found)), 4), "p50_ms": round(float(np.median(spent)), 2)}
    return out


def dense_nprobe() -> int:
    from index.dense import NPROBE

    return NPROBE


def run_size(size: int, args) -> dict:
    from index.embed import load_embedder

    folder = Path(args.dir) / f"n{size}"
    built = {}
    if args.rebuild or not (folder / "CURRENT").exists():
        built = build(size, folder, load_embedder(args.model, args.backend), args.sample)
        print(f"built {size}: {built}", file=sys.stderr, flush=True)
    query_file = folder / "queries.json"
    query_file.write_text(json.dumps(queries(folder, args.per_kind), ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, "-m", "bench.scale", "--child", str(folder), "--queries", str(query_file)]
    command += ["--model", args.model] if args.model else []
    command += ["--backend", args.backend] if args.backend else []
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if out.returncode:
        sys.exit(f"measuring {size} failed:\n{out.stderr[-3000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), **built}


def table(runs: list[dict]) -> str:
    head = ("| passages | load | RSS | embed p50 | smart p50 / p95 | phrase p50 / p95 | number p50 / p95 | filtered p50 / p95 |\n"
            "|---|---|---|---|---|---|---|---|")
    rows = [f"| {r['passages']:,} | {r['load_s']} s | {r['rss_mb']} MB | {r['embed_p50_ms']} ms | "
            + " | ".join(f"{r[k + '_p50_ms']} / {r[k + '_p95_ms']} ms" for k in ("smart", "phrase", "number", "filtered")) + " |"
            for r in runs]
    return "\n".join([head, *rows])


COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f")


def chart(runs: list[dict], series: dict[str, str], title: str, unit: str, limits: dict[str, float],
          left: int = 0, width: int = 420, height: int = 300) -> list[str]:
    """SVG elements of one log-log chart: `series` maps a run key to its label; `limits` are dashed target lines."""
    from math import log10

    points = [r[k] for r in runs for k in series if r.get(k) == r.get(k) and r.get(k, 0) > 0] + list(limits.values())
    low, high = 10 ** int(np.floor(log10(min(points)))), 10 ** int(np.ceil(log10(max(points))))
    sizes = [r["passages"] for r in runs]
    x0, x1 = log10(min(sizes)) - 0.1, log10(max(sizes)) + 0.1
    pad, w, h = 50, width - 70, height - 80

    def x(n: float) -> float:
        return left + pad + (log10(n) - x0) / (x1 - x0) * w

    def y(v: float) -> float:
        return 30 + h - (log10(v) - log10(low)) / (log10(high) - log10(low)) * h

    out = [f'<text x="{left + width / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<rect x="{left + pad}" y="30" width="{w}" height="{h}" fill="none" stroke="#999"/>']
    decade = low
    while decade <= high:
        out.append(f'<line x1="{left + pad}" x2="{left + pad + w}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left + pad - 4}" y="{y(decade) + 4:.1f}" text-anchor="end">{decade:g}</text>')
        decade *= 10
    for n in sizes:
        out.append(f'<text x="{x(n):.1f}" y="{30 + h + 16}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{left + pad + w / 2}" y="{30 + h + 32}" text-anchor="middle">passages</text>')
    out.append(f'<text x="{left + 12}" y="{30 + h / 2}" transform="rotate(-90 {left + 12} {30 + h / 2})" text-anchor="middle">{unit}</text>')
    for label, value in limits.items():
        out.append(f'<line x1="{left + pad}" x2="{left + pad + w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#555" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{left + pad + w - 2}" y="{y(value) - 3:.1f}" text-anchor="end" fill="#555">{label}</text>')
    for n, ((key, label), colour) in enumerate(zip(series.items(), COLOURS)):
        pts = [(x(r["passages"]), y(r[key])) for r in runs if r.get(key, 0) > 0]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}"/>')
        out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in pts]
        out.append(f'<text x="{left + pad + 8}" y="{44 + 14 * n}" fill="{colour}">{label}</text>')
    return out


def svg(runs: list[dict]) -> str:
    """The growth curves: query latency p50 (beyond the embedding) and load time / memory, against passages."""
    runs = [dict(r, rss_gb=r["rss_mb"] / 1024) for r in runs]
    latency = chart(runs, {"smart_p50_ms": "smart", "phrase_p50_ms": "phrase", "number_p50_ms": "document number",
                           "filtered_p50_ms": "filtered", "embed_p50_ms": "query embedding"},
                    "query p50 (ms)", "ms", {"50 ms": 50, "100 ms": 100})
    load = chart(runs, {"load_s": "load (s)", "rss_gb": "resident memory (GB)"}, "load and memory", "s / GB",
                 {"10 s": 10, "3 GB": 3}, left=430)
    body = "\n".join(latency + load)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="860" height="300" font-family="sans-serif" font-size="11">\n'
            f'<rect width="860" height="300" fill="white"/>\n{body}\n</svg>\n')


def common_arguments(parser: argparse.ArgumentParser, sizes: str) -> None:
    """The options this benchmark and its PostgreSQL twin (bench/scale_pg.py) share."""
    parser.add_argument("--sizes", default=sizes, help="comma-separated passage counts")
    parser.add_argument("--sample", type=int, default=256, help="variant passages embedded by the real model (new folder indexes)")
    parser.add_argument("--dir", default=str(SCALE_DIR), help="where the folder indexes are built and kept")
    parser.add_argument("--per-kind", type=int, default=QUERIES, help="queries of each kind")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--model")
    parser.add_argument("--backend")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.splitlines()[0])
    common_arguments(parser, ",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--rebuild", action="store_true", help="rebuild indexes already in .index-scale/")
    parser.add_argument("--svg", help="write the growth curves to this SVG file")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(Path(args.child), Path(args.queries), args.model, args.backend)))
        return
    runs = [run_size(int(s), args) for s in args.sizes.split(",") if s.strip()]
    print(table(runs))
    if args.svg:
        Path(args.svg).write_text(svg(runs), encoding="utf-8")
    if args.json:
        print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main(sys.argv[1:])
