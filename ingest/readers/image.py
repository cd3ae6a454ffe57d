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
import re
import shutil
import statistics
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingest import limits, readers
from ingest.readers import Extracted, ReadError
from ingest.readers.text import check_size

LANG = "vie"
NEEDS_OCR = "needs OCR: install tesseract-ocr and tesseract-ocr-vie"
TERMINAL = tuple(".:;!?)")
BLOCK_START = re.compile(r"^(?:[-–•+*]\s|\d+(?:\.\d+)*[.)]\s|[IVXLC]+[.)-]\s|[a-zđ][.)]\s|(?:Điều|Chương|Mục|Phần)\s+[\dIVXLC]+)")


@dataclass
class Line:
    """A line of a page with its box (points for a text layer, pixels for OCR)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0  # font size; 0 where unknown (OCR)
    group: tuple[int, int] | None = None  # Tesseract's (block, paragraph); None for a text layer


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
    """OCR one page (a PIL image): its visual lines in reading order, with their boxes in pixels and
    Tesseract's block and paragraph (its layout analysis finds columns and blocks)."""
    from PIL import ImageFilter

    exe = tesseract()
    # Greyscale and a 3x3 median filter: removes scanner speckles that Tesseract reads as stray
    # punctuation (degraded-scan accuracy 0.91 -> 0.97 in bench/ocr.py), harmless on clean pages.
    image = image.convert("L").filter(ImageFilter.MedianFilter(3))
    png = io.BytesIO()
    image.save(png, format="PNG")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one page at a time, one core: no thread thrash
    seconds = limits.MAX_OCR_PAGE_SECONDS.value
    try:
        done = subprocess.run([exe, "stdin", "stdout", "-l", LANG, "--psm", "3", "tsv"], input=png.getvalue(),
                              capture_output=True, timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        raise ReadError(f"OCR of one page took over {seconds:,} s ({limits.MAX_OCR_PAGE_SECONDS.env})") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReadError(f"OCR failed: {reason[-1] if reason else f'tesseract exit code {done.returncode}'}")
    words: dict[tuple[int, int, int], list] = {}
    rows = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in rows:
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        left, top, width, height = (int(row[k]) for k in ("left", "top", "width", "height"))
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        words.setdefault(key, []).append((word, left, top, left + width, top + height))
    return [Line(unicodedata.normalize("NFC", " ".join(w[0] for w in line)), min(w[1] for w in line),
                 max(w[3] for w in line), min(w[2] for w in line), max(w[4] for w in line), group=key[:2])
            for key, line in words.items()]


def check_pixels(width: float, height: float, what: str) -> None:
    """Refuse an image (or page to render) over MAX_IMAGE_PIXELS before a pixel of it is decoded."""
    limits.MAX_IMAGE_PIXELS.check(int(width) * int(height), what)


def open_image(path: Path):
    """A decoded PIL image, or ReadError for anything Pillow cannot read or too large to decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)  # reads the header only
        check_pixels(image.width, image.height, "image too large")
        image.load()
    except Image.DecompressionBombError:  # Pillow's own check, at twice its default of 89M pixels
        raise ReadError(limits.MAX_IMAGE_PIXELS.reason("image too large")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ReadError(f"not a readable image ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    return image


def read_image(path: Path) -> Extracted:
    """Every frame of the image (a multi-page TIFF is a scanned document) through OCR; `pages` gives
    the frame of each line."""
    from PIL import ImageSequence

    check_size(path, limits.MAX_IMAGE_MB)
    image = open_image(path)
    limits.MAX_PAGES.check(getattr(image, "n_frames", 1), "too many frames in the image")
    tesseract()
    text_lines: list[str] = []
    pages: list[int] = []
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        check_pixels(frame.width, frame.height, f"image frame {number} too large")
        readers.ocr_page_started()
        for paragraph in paragraphs(ocr_lines(frame)):
            text_lines += [paragraph, ""]
            pages += [number, number]
    if not text_lines:
        raise ReadError("OCR found no text in the image")
    return Extracted(text="\n".join(text_lines[:-1]), pages=pages[:-1], ocr=True)


def paragraphs(lines: list[Line]) -> list[str]:
    """Join the visual lines of a page (text layer or OCR) into paragraphs. A line starts a new
    paragraph in another OCR block/paragraph, after a larger gap, after a short line (the last line
    of a paragraph), when it is indented, when the font size changes, or when it opens a list item,
    article or numbered heading after a finished sentence (a wrapped line may well start with
    "- xã hội" or "2018."). Tesseract's own paragraphs are not enough: it runs headings together."""
    if not lines:
        return []
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    width = max(right - left, 1.0)
    steps = [b.top - a.top for a, b in zip(lines, lines[1:]) if b.top > a.top]
    pitch = statistics.median(steps) if steps else 0.0
    out = [lines[0].text]
    for prev, line in zip(lines, lines[1:]):
        new = (
            line.group != prev.group
            or (pitch and line.top - prev.top > 1.25 * pitch)
            or prev.x1 < right - 0.12 * width
            or line.x0 > left + 0.02 * width
            or abs(line.size - prev.size) > 0.5
            or (prev.text.endswith(TERMINAL) and BLOCK_START.match(line.text))
        )
        if new:
            out.append(line.text)
        else:
            out[-1] += " " + line.text
    return out
