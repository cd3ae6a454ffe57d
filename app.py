"""`python app.py [--host 127.0.0.1] [--port 7860] [--index-dir DIR | --index-url URL] [--corpus DIR] [--workers N]`: the web app, REST API and embed view."""
from __future__ import annotations

import argparse
import os
import sys

# One thread per query: two-thread OpenMP stalls for seconds on this kind of machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 7860)))
    parser.add_argument("--index-dir", help="index folder (default: $INDEX_DIR, else .index/)")
    parser.add_argument("--index-url", help="PostgreSQL index, postgresql://… (default: $INDEX_URL; else the index folder)")
    parser.add_argument("--corpus", help="corpus folder ingested when no index exists (default: $CORPUS_DIR, else corpus/)")
    parser.add_argument("--workers", type=int, help="search worker processes beside the app's (default: $WORKERS, else 0: "
                                                    "search in the app process)")
    args = parser.parse_args(argv)

    import uvicorn

    from web.server import create_app
    from web.settings import Settings

    settings = Settings(index_dir=args.index_url or args.index_dir, **({"corpus_dir": args.corpus} if args.corpus else {}),
                        **({"workers": args.workers} if args.workers is not None else {}))
    app = create_app(settings)
    print(f"[app] http://{args.host}:{args.port}/  (API docs /docs, embed view /embed, health /healthz; "
          f"auth {'on' if settings.auth_on else 'off'})", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=os.environ.get("LOG_LEVEL", "warning"))


if __name__ == "__main__":
    main()
