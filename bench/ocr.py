"""`python -m bench.ocr`: OCR character accuracy (1 - CER) of the seed resolution rendered as a scan.

The resolution (corpus/001) is typeset into a text PDF (tests/fixtures_formats.py), its pages are
rendered to 300 dpi greyscale images and saved as an image-only PDF, and the PDF reader reads that
back through Tesseract; once as a clean render and once degraded like an office scan. Per page, the reference is the body text printed on the page (running
header and page number excluded, as the reader drops them) and the hypothesis is the reader's text
for that page; both NFC with whitespace collapsed. CER = Levenshtein distance / reference length.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import unicodedata
from pathlib import Path


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ocr", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=0, help="OCR only the first N pages (default: all)")
    parser.add_argument("--dpi", type=int, default=300, help="resolution of the clean scan (default 300)")
    args = parser.parse_args(argv)
    accuracy = {kind: _run(args.pages, args.dpi, kind == "degraded") for kind in ("clean", "degraded")}
    print("character accuracy (1 - CER): " + ", ".join(f"{kind} {value:.4f}" for kind, value in accuracy.items()))
    return 0


def _run(pages_wanted: int, dpi: int, degrade: bool) -> float:
    from rapidfuzz.distance import Levenshtein

    from ingest.readers import read
    from tests.fixtures_formats import build_pdf, build_scanned_pdf

    with tempfile.TemporaryDirectory() as tmp:
        source = build_pdf(Path(tmp) / "text.pdf")
        pages = list(range(1, min(pages_wanted or source.pages, source.pages) + 1))
        reference = build_scanned_pdf(Path(tmp) / "scan.pdf", source, pages, dpi=dpi, degrade=degrade)
        started = time.perf_counter()
        extracted = read(Path(tmp) / "scan.pdf")
        seconds = time.perf_counter() - started
    lines = extracted.text.split("\n")
    errors = total = 0
    scan = "degraded scan (200 dpi JPEG, 0.7° tilt, blur, speckles)" if degrade else f"clean scan ({dpi} dpi)"
    print(f"{scan}, {len(pages)} page(s), tesseract -l vie: {seconds:.1f} s ({seconds / len(pages):.1f} s/page)")
    for page, ref_lines in reference.items():
        ref = _norm(" ".join(ref_lines))
        hyp = _norm(" ".join(line for line, p in zip(lines, extracted.pages) if p == page))
        distance = Levenshtein.distance(hyp, ref)
        errors, total = errors + distance, total + len(ref)
        print(f"  page {page}: {len(ref)} chars, {distance} edits, accuracy {1 - distance / len(ref):.4f}")
    print(f"  all pages: {total} chars, {errors} edits, accuracy {1 - errors / total:.4f}")
    return 1 - errors / total


if __name__ == "__main__":
    raise SystemExit(main())
