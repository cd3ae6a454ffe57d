"""Images of pages (scans, photos) read by OCR; also the OCR step for scanned PDF pages.

Tesseract is called as a program (Debian packages tesseract-ocr, tesseract-ocr-vie) rather than
through a wrapper library: one subprocess call with the PNG on stdin and TSV on stdout gives words
with their block/paragraph/line numbers and boxes, which is all we need, and a missing binary or
missing Vietnamese data is easy to report as such.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingest.readers import Extracted, ReadError, register
from ingest.readers.text import MB, check_size

MAX_BYTES = 50 * MB
LANG = "vie"
NEEDS_OCR = "needs OCR: install tesseract-ocr and tesseract-ocr-vie"
TIMEOUT = 300  # seconds for one page


@dataclass
class Line:
    """A line of a page with its box (points for a text layer, pixels for OCR)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0  # font size; 0 where unknown (OCR)


@lru_cache(maxsize=8)
def _languages(exe: str, tessdata: str | None) -> frozenset[str]:
    """Languages the tesseract program has data for (with TESSDATA_PREFIX as it is set)."""
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in (out.stdout + out.stderr).splitlines()[1:])


def tesseract() -> str:
    """The tesseract program, or ReadError saying what to install."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise ReadError(NEEDS_OCR)
    if LANG not in _languages(exe, os.environ.get("TESSDATA_PREFIX")):
        raise ReadError(f"{NEEDS_OCR} (Vietnamese language data '{LANG}' is missing)")
    return exe


def ocr_lines(image) -> list[Line]:
    """OCR one page (a PIL image): its paragraphs in reading order, each as one Line whose text is
    the paragraph's lines joined (Tesseract's layout analysis finds blocks and paragraphs)."""
    from PIL import ImageFilter

    exe = tesseract()
    # Greyscale and a 3x3 median filter: removes scanner speckles that Tesseract reads as stray
    # punctuation (degraded-scan accuracy 0.91 -> 0.97 in bench/ocr.py), harmless on clean pages.
    image = image.convert("L").filter(ImageFilter.MedianFilter(3))
    png = io.BytesIO()
    image.save(png, format="PNG")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one page at a time, one core: no thread thrash
    try:
        done = subprocess.run([exe, "stdin", "stdout", "-l", LANG, "--psm", "3", "tsv"], input=png.getvalue(),
                              capture_output=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise ReadError(f"OCR took longer than {TIMEOUT} s for one page") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReadError(f"OCR failed: {reason[-1] if reason else f'tesseract exit code {done.returncode}'}")
    paragraphs: dict[tuple[int, int], list] = {}
    rows = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in rows:
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        left, top, width, height = (int(row[k]) for k in ("left", "top", "width", "height"))
        key = (int(row["block_num"]), int(row["par_num"]))
        paragraphs.setdefault(key, []).append((int(row["line_num"]), word, left, top, left + width, top + height))
    lines = []
    for words in paragraphs.values():
        text = " ".join(w[1] for w in words)
        lines.append(Line(unicodedata.normalize("NFC", text), min(w[2] for w in words), max(w[4] for w in words),
                          min(w[3] for w in words), max(w[5] for w in words)))
    return lines


def open_image(path: Path):
    """A decoded PIL image, or ReadError for anything Pillow cannot read."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
        image.load()
    except Image.DecompressionBombError:
        raise ReadError("image too large (pixel count over the safety limit)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ReadError(f"not a readable image ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    return image


@register(".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
def read_image(path: Path) -> Extracted:
    """Every frame of the image (a multi-page TIFF is a scanned document) through OCR; `pages` gives
    the frame of each line."""
    from PIL import ImageSequence

    check_size(path, MAX_BYTES)
    image = open_image(path)
    tesseract()
    text_lines: list[str] = []
    pages: list[int] = []
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        for line in ocr_lines(frame.convert("RGB")):
            text_lines += [line.text, ""]
            pages += [number, number]
    if not text_lines:
        raise ReadError("OCR found no text in the image")
    return Extracted(text="\n".join(text_lines[:-1]), pages=pages[:-1], ocr=True)
