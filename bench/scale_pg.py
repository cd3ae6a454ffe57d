"""`python -m bench.scale_pg`: the scale benchmark's indexes (bench/scale.py) in PostgreSQL + pgvector, side by side with the folder index.

The corpus and the queries are bench/scale.py's (real documents of corpus/ varied by province, year, figures
and document numbers; vectors of the real model for the originals and a sample, perturbed copies for the
rest): the folder index of each size is built by it (or reused from .index-scale/), then copied into a
database document by document with the PostgreSQL index's own writer (index/pg/store.py), its vectors
taken from the folder index, so both indexes hold the same passages and vectors. The HNSW index is built
once after the load, as a bulk load would do it.

Each index is measured in a fresh process: load (opening the index to a searcher ready), resident memory of
that process (the PostgreSQL server's memory is not in it: it is reported apart, summed over its processes),
and p50/p95 of smart, phrase, number and filtered queries beyond the query embedding, as bench/scale.py
measures them. The server runs on this machine (localhost TCP), with its default settings.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("smart", "phrase", "number", "filtered")


def server(folder: Path) -> str:
    """A local server kept in `folder` (started if it is not running)."""
    from index.pg import local

    url_file = folder / "URL"
    if url_file.exists():
        try:
            import psycopg
            psycopg.connect(url_file.read_text(), connect_timeout=3).close()
            return url_file.read_text()
        except Exception:
            pass
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    port = int(url_file.read_text().rsplit(":", 1)[1].split("/")[0]) if url_file.exists() else None
    return local.start(folder, port)


def load(folder: Path, url: str) -> dict:
    """Copy the folder index at `folder` into the database at `url` (created); what it took."""
    import numpy as np
    import psycopg

    from core.document import content_hash
    from index import store as folder_store
    from index.dense import faiss_id
    from index.features import FEATURES_VERSION
    from index.pg import schema, store

    started = time.perf_counter()
    snapshot = folder_store.load(folder)
    dim = snapshot.dense.dim
    with schema.connect(url, autocommit=True) as conn:
        store.set_model(conn, {"model": snapshot.manifest["model"], "backend": snapshot.manifest.get("backend", ""),
                               "features": FEATURES_VERSION}, dim)
        conn.execute("drop index if exists vectors_hnsw")
        from pgvector.psycopg import register_vector
        register_vector(conn)
        for doc in snapshot.documents.values():
            chunks = list(doc.chunks)
            doc.chunks = chunks
            vectors = {content_hash(c.embed_text): np.asarray(snapshot.dense.vector(faiss_id(c.id)), dtype=np.float32)
                       for c in chunks}
            with conn.transaction():
                store.write_document(conn, doc, vectors)
        loaded = time.perf_counter() - started
        conn.execute("set maintenance_work_mem = '1GB'")
        conn.execute("create index vectors_hnsw on vectors using hnsw (embedding vector_ip_ops)")
        conn.execute("vacuum analyze")
        size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
    return {"pg_load_s": round(loaded, 1), "pg_hnsw_s": round(time.perf_counter() - started - loaded, 1),
            "pg_db_mb": round(size / 1048576)}


def measure(url: str, query_file: Path, model: str | None, backend: str | None) -> dict:
    """Inside the fresh process: open the PostgreSQL index, then time each kind of query (embedding apart)."""
    from bench.scale import TimedEmbedder, memory_mb, percentiles, time_queries
    from index.embed import load_embedder
    from index.pg.search import Searcher, open_index

    embedder = TimedEmbedder(load_embedder(model, backend))
    embedder.embed_query("khởi động")
    started = time.perf_counter()
    index = open_index(url)
    searcher = Searcher(index, embedder)
    load_s = time.perf_counter() - started
    asked = json.loads(query_file.read_text(encoding="utf-8"))

    times = time_queries(searcher, embedder, asked)
    knn = knn_recall(index, [embedder.inner.embed_query(q) for q in asked["recall"]])
    memory = memory_mb()
    return {**knn, "passages": index.state.chunks, "load_s": round(load_s, 2), "rss_mb": round(memory["rss"]),
            **{k: v for kind, ms in times.items() for k, v in percentiles(kind, ms).items()}}


def knn_recall(index, vectors, k: int = 10) -> dict:
    """pgvector's HNSW index (what unfiltered queries use from ANN_MIN passages on) against exact search:
    recall@k and both latencies, on the vectors of the benchmark questions."""
    import numpy as np

    from bench.scale import percentiles
    from index.pg.search import EF_SEARCH

    found, hnsw_ms, exact_ms = [], [], []
    with index.pool.connection() as conn, conn.transaction():
        conn.execute("select set_config('hnsw.ef_search', %s, true)", (str(EF_SEARCH),))
        for v in vectors:
            v = np.asarray(v, dtype=np.float32)
            start = time.perf_counter()
            near = {r[0] for r in conn.execute("select hash from vectors order by embedding <#> %s limit %s", (v, k))}
            hnsw_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            exact = {r[0] for r in conn.execute("select hash from vectors order by (embedding <#> %s) + 0 limit %s", (v, k))}
            exact_ms.append((time.perf_counter() - start) * 1000)
            found.append(len(near & exact) / max(1, len(exact)))
    return {"hnsw_recall_at_10": round(float(np.mean(found)), 4), **percentiles("knn_hnsw", hnsw_ms),
            **percentiles("knn_exact", exact_ms)}


def server_rss_mb(data: Path) -> int:
    """Resident memory of the PostgreSQL server's processes (those whose command line names its data folder or are its children)."""
    total = 0
    pid = int((data / "postmaster.pid").read_text().split()[0])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if int(proc.name) == pid or parent == pid:
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    return round(total / 1024)


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    if out.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_size(size: int, args, url: str) -> dict:
    import psycopg

    from bench import scale
    from index.embed import load_embedder

    folder = Path(args.dir) / f"n{size}"
    if not (folder / "CURRENT").exists():
        print(f"building the folder index of {size}", file=sys.stderr, flush=True)
        scale.build(size, folder, load_embedder(args.model, args.backend), args.sample)
    query_file = folder / "queries.json"
    query_file.write_text(json.dumps(scale.queries(folder, args.per_kind), ensure_ascii=False), encoding="utf-8")
    database = f"scale_{size}"
    db_url = url.rsplit("/", 1)[0] + "/" + database
    loaded = {}
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if exists and args.reload:
            conn.execute(f"drop database {database} with (force)")
        if not exists or args.reload:
            conn.execute(f"create database {database}")
            print(f"loading {size} passages into {database}", file=sys.stderr, flush=True)
            loaded = load(folder, db_url)
    options = (["--model", args.model] if args.model else []) + (["--backend", args.backend] if args.backend else [])
    embedded = child(["-m", "bench.scale", "--child", str(folder), "--queries", str(query_file), *options])
    pg = child(["-m", "bench.scale_pg", "--child", db_url, "--queries", str(query_file), *options])
    if not args.url:
        pg["server_rss_mb"] = server_rss_mb(Path(args.dir) / "postgres" / "data")
    return {"passages": pg["passages"], "embedded": {k: embedded[k] for k in pg if k in embedded}, "postgres": {**pg, **loaded}}


def table(runs: list[dict]) -> str:
    head = ("| passages | index | load | RSS | smart p50 / p95 | phrase p50 / p95 | number p50 / p95 | filtered p50 / p95 |\n"
            "|---|---|---|---|---|---|---|---|")
    rows = []
    for run in runs:
        for name in ("embedded", "postgres"):
            r = run[name]
            rss = f"{r['rss_mb']} MB" + (f" + server {r['server_rss_mb']} MB" if "server_rss_mb" in r else "")
            rows.append(f"| {run['passages']:,} | {name} | {r['load_s']} s | {rss} | "
                        + " | ".join(f"{r[k + '_p50_ms']} / {r[k + '_p95_ms']} ms" for k in KINDS) + " |")
    return "\n".join([head, *rows])


def main(argv: list[str] | None = None) -> None:
    from bench.scale import common_arguments

    parser = argparse.ArgumentParser(prog="python -m bench.scale_pg", description=__doc__.splitlines()[0])
    common_arguments(parser, "10000,100000")
    parser.add_argument("--url", help="a PostgreSQL server to use (default: a local one in DIR/postgres)")
    parser.add_argument("--reload", action="store_true", help="load the databases again")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, Path(args.queries), args.model, args.backend)))
        return
    url = args.url or server(Path(args.dir) / "postgres")
    runs = [run_size(int(s), args, url) for s in args.sizes.split(",") if s.strip()]
    print(table(runs))
    if args.json:
        print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main(sys.argv[1:])
