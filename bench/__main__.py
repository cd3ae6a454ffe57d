"""`python -m bench NAME [options]`: run one benchmark (retrieval, timing, embed, ocr, load, faults, alqac, decision, scale, serve, weights)."""
from __future__ import annotations

import importlib
import sys

NAMES = ("retrieval", "timing", "embed", "ocr", "load", "faults", "alqac", "decision", "scale", "serve", "weights")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in NAMES:
        sys.exit(f"usage: python -m bench {{{','.join(NAMES)}}} [options]")
    module = importlib.import_module(f"bench.{sys.argv[1]}")
    module.main(sys.argv[2:])


if __name__ == "__main__":
    main()
