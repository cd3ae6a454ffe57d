"""PDF: the text layer through pdfplumber, OCR for pages that are only a scan.

Why pdfplumber: it gives every character with its box and font name (pdfminer.six underneath),
which this reader needs three times: to find headers, footers and page numbers by position, to
rebuild paragraphs from line geometry (gap, indent, short last line), and to convert text set in
legacy ".VnTime"/"VNI-Times" fonts character by character. It renders pages for OCR through
pypdfium2, its own dependency, so one maintained MIT/Apache stack covers both. pypdf gives text
without positions or fonts; PyMuPDF does all of this too but is AGPL, a licence burden for a
product handed to government offices.

`text` has one paragraph per line and a blank line between paragraphs; `pages[i]` is the page of
line i+1. A paragraph cut by a page break stays two lines (the ingest cleaner joins them).

Before pdfplumber opens the file, its compressed streams are inflated a step at a time and counted
(pdfminer would inflate each in one call, whatever its size), and a broken one is refused before
pdfminer repairs it a byte at a time; then the pages are counted. Pages are read one at a time, each
checked first from its drawing commands (their size and the characters they draw, forms included)
before pdfminer lays it out, and reading stops once the document is over the character limit.
"""
from __future__ import annotations

import itertools
import mmap
import re
import statistics
import zlib
from dataclasses import dataclass
from pathlib import Path

from ingest import legacy, limits, readers
from ingest.readers import Extracted, ReadError
from ingest.readers.image import Line, check_pixels, ocr_lines, paragraphs, tesseract
from ingest.readers.text import check_size

OCR_DPI = 300
# The keyword before a stream's data (or "endstream"), when the data starts like zlib (method 8).
STREAM = re.compile(rb"stream(?:\r\n|\n|\r)(?=[\x08\x18\x28\x38\x48\x58\x68\x78])")
# A stream dictionary's filter, FlateDecode or its abbreviation.
FLATE = re.compile(rb"/Fl(?:ateDecode)?(?![A-Za-z])")
# The strings of a content stream: literal (balanced parentheses one level deep, escapes) or hex.
STRINGS = re.compile(rb"\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)|<[0-9A-Fa-f\s]*>", re.S)
# An XObject drawn by name (a form or an image), and how deep forms drawn by forms are followed.
DRAW_XOBJECT = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do(?![A-Za-z])")
MAX_FORM_DEPTH = 8
INPUT_STEP = 1 << 16          # compressed bytes fed to zlib at a time ...
OUTPUT_STEP = 1 << 20         # ... and inflated bytes taken out at a time, then dropped
MIN_TEXT_CHARS = 20           # a page with less text than this ...
MIN_IMAGE_SHARE = 0.3         # ... and images over this share of its area is a scan
EDGE = 0.12                   # top/bottom share of the page where headers and footers live
PAGE_NUMBER = re.compile(r"(?i)^(?:trang|page)?\s*[-–—]?\s*\d{1,4}\s*(?:(?:/|of|trên)\s*\d{1,4})?\s*[-–—]?$")


def read_pdf(path: Path) -> Extracted:
    import pdfplumber

    check_size(path, limits.MAX_PDF_MB)
    with open(path, "rb") as f:
        if b"%PDF-" not in f.read(1024):
            raise ReadError("not a PDF file (no %PDF header)")
    check_streams(path)
    try:
        with pdfplumber.open(path) as pdf:
            limits.MAX_PAGES.check(_count_pages(pdf.doc), "too many pages in PDF")
            if not pdf.pages:
                raise ReadError("PDF has no pages")
            pages = _read_pages(pdf.pages)
    except ReadError:
        raise
    except Exception as err:  # pdfminer raises many types for broken files; all mean the same to a user
        raise ReadError(_pdf_error(err)) from None

    converted = {enc for page in pages for enc in page.encodings}
    kept = _drop_furniture([(page.lines, page.height) for page in pages])
    text_lines: list[str] = []
    numbers: list[int] = []
    for number, (page, body) in enumerate(zip(pages, kept), start=1):
        for paragraph in paragraphs(body):
            text_lines += [paragraph, ""]
            numbers += [number, number]
    text = "\n".join(text_lines[:-1])
    if not text.strip():
        raise ReadError("no text in PDF (blank pages)")
    encoding = "+".join(sorted(converted)) or None
    if encoding is None:  # no legacy font names: the text itself may still be TCVN3/VNI
        text, encoding = legacy.convert(text)
    return Extracted(text=text, pages=numbers[:-1], converted_from=encoding, ocr=any(page.ocr for page in pages))


def check_streams(path: Path) -> None:
    """Refuse a PDF whose compressed streams inflate past MAX_PDF_STREAM_MB each or
    MAX_PDF_INFLATED_MB together, or are more than MAX_PDF_STREAMS. Every stream whose data starts
    like zlib (FlateDecode) is inflated, whatever its dictionary says, and counted without being
    kept: a bomb is stopped after the limit's worth of output. A stream declared FlateDecode whose
    data is cut short or corrupt past MAX_PDF_BROKEN_STREAM_KB is refused too (pdfminer would
    repair it a byte at a time)."""
    total, pos, count = 0, 0, 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        try:
            while keyword := STREAM.search(data, pos):
                pos = keyword.end()
                if data[keyword.start() - 3:keyword.start()] == b"end":
                    continue
                count += 1
                limits.MAX_PDF_STREAMS.check(count, "too many compressed streams in PDF")
                size, pos, broken = _inflated_size(view, pos, limits.MAX_PDF_STREAM_MB.value * limits.MB)
                if limits.MAX_PDF_STREAM_MB.exceeded(size):
                    raise ReadError(limits.MAX_PDF_STREAM_MB.reason(f"PDF stream at byte {keyword.start():,} too large inflated"))
                if broken and _declared_flate(data, keyword.start()):
                    limits.MAX_PDF_BROKEN_STREAM_KB.check(
                        size, f"PDF stream at byte {keyword.start():,} has zlib data cut short or corrupt")
                total += size
                limits.MAX_PDF_INFLATED_MB.check(total, "PDF streams too large inflated")
        finally:
            view.release()


def _inflated_size(data: memoryview, start: int, limit: int) -> tuple[int, int, bool]:
    """(bytes the zlib data at `start` inflates to, counted up to just over `limit`; where its
    compressed data ends; whether it is broken: it stops with an error or at the end of the file,
    before zlib's end). Data that is not zlib (an image codec, no filter) gives (0, start, True)."""
    inflater = zlib.decompressobj()
    size, pos, pending = 0, start, data[0:0]
    try:
        while not inflater.eof and size <= limit:
            if not pending:
                if pos >= len(data):
                    break
                pending = data[pos:pos + INPUT_STEP]
                pos += len(pending)
            size += len(inflater.decompress(pending, OUTPUT_STEP))
            pending = inflater.unconsumed_tail
    except zlib.error:  # not zlib, or corrupt part way: what came out is what pdfminer would get
        pass
    broken = not inflater.eof and size <= limit
    return size, max(start, pos - len(pending) - len(inflater.unused_data)), broken


def _declared_flate(data: mmap.mmap, keyword: int) -> bool:
    """Whether the dictionary before the `stream` keyword at `keyword` names the FlateDecode filter."""
    head = data[max(0, keyword - 2048):keyword]
    start = head.rfind(b"obj")
    return FLATE.search(head[max(0, start):]) is not None


def _count_pages(document) -> int:
    """Pages in the page tree, counted up to one over the limit (the tree's /Count may lie)."""
    from pdfminer.pdfpage import PDFPage

    return sum(1 for _ in itertools.islice(PDFPage.create_pages(document), limits.MAX_PAGES.value + 1))


def _read_pages(pages) -> list[_Page]:
    """Each page's text, one page in memory at a time, each checked before it is laid out; stops once
    over the character limit."""
    out, chars = [], 0
    for page in pages:
        readers.page_started()
        check_page(page.page_obj, page.page_number)
        out.append(_page(page))
        page.close()
        chars += sum(len(line.text) for line in out[-1].lines)
        limits.MAX_CHARS.check(chars, f"document too long (at page {page.page_number})")
    return out


def check_page(page, number: int) -> None:
    """Refuse a page (pdfminer's PDFPage) whose drawing commands, inflated, are over
    MAX_PDF_PAGE_CONTENT_KB or draw more than about MAX_PDF_PAGE_CHARS characters, before pdfminer
    parses and lays it out: its content streams, and the forms they draw, counted each time they are
    drawn (as pdfminer parses them). pdfminer keeps the inflated streams: nothing is inflated twice."""
    size, chars = _drawing_cost(page.contents, page.resources, {}, 0)
    limits.MAX_PDF_PAGE_CONTENT_KB.check(size, f"PDF page {number} too costly to read (drawing commands)")
    limits.MAX_PDF_PAGE_CHARS.check(chars, f"PDF page {number} too costly to read (text, estimated)")


def _drawing_cost(streams, resources, known: dict, depth: int) -> tuple[int, int]:
    """(bytes, estimated characters) that drawing `streams` with `resources` makes pdfminer parse:
    the streams themselves and, for each form XObject they draw (`/Name Do`), its own cost each time.
    `known` holds each form's cost already counted."""
    from pdfminer.pdftypes import PDFStream, resolve1

    size = chars = 0
    drawn: dict[bytes, int] = {}
    for stream in streams:
        stream = resolve1(stream)
        if not isinstance(stream, PDFStream):
            continue   # pdfminer skips it too
        data = stream.get_data()
        size += len(data)
        chars += sum(len(s) - 2 if s[0] == 40 else (len(s) - 2) // 2 for s in STRINGS.findall(data))
        for name in DRAW_XOBJECT.findall(data):
            drawn[name] = drawn.get(name, 0) + 1
    resources = resolve1(resources)
    xobjects = resolve1(resources.get("XObject")) if isinstance(resources, dict) else None
    xobjects = xobjects if isinstance(xobjects, dict) else {}
    for name, times in drawn.items():
        form = resolve1(xobjects.get(name.decode("latin-1")))
        is_form = isinstance(form, PDFStream) and getattr(form.get("Subtype"), "name", None) == "Form"
        if not is_form or depth >= MAX_FORM_DEPTH:
            continue
        if id(form) not in known:
            known[id(form)] = (0, 0)   # a form that draws itself counts once
            known[id(form)] = _drawing_cost([form], form.get("Resources") or resources, known, depth + 1)
        size += times * known[id(form)][0]
        chars += times * known[id(form)][1]
    return size, chars


def _pdf_error(err: Exception) -> str:
    chain, seen = [err], err
    while seen.__cause__ or seen.__context__:
        seen = seen.__cause__ or seen.__context__
        chain.append(seen)
    names = " ".join(type(e).__name__ for e in chain) + " " + " ".join(str(e) for e in chain)
    if "Password" in names or "password" in names:
        return "password-protected PDF: save an unprotected copy to ingest it"
    detail = str(err).splitlines()[0][:80] if str(err) else type(err).__name__
    return f"corrupt or unreadable PDF ({detail})"


@dataclass
class _Page:
    lines: list[Line]         # visual lines, of the text layer or of OCR
    height: float             # in the lines' units (points, or pixels for OCR)
    encodings: set[str]       # legacy encodings converted on the page
    ocr: bool = False


def _page(page) -> _Page:
    """A page's text: its text layer, or OCR when the page is a scan."""
    chars = page.chars
    if len({(c["text"], round(c["x0"]), round(c["top"])) for c in chars}) < 0.98 * len(chars):
        page = page.dedupe_chars()  # text printed twice for a fake bold; costly, so only when present
    raw = page.extract_text_lines(strip=True, return_chars=True)
    image_area = sum(max(0, i["x1"] - i["x0"]) * max(0, i["bottom"] - i["top"]) for i in page.images)
    if sum(len(r["text"].strip()) for r in raw) < MIN_TEXT_CHARS and image_area >= MIN_IMAGE_SHARE * page.width * page.height:
        tesseract()  # says "needs OCR" before the slow render when tesseract is missing
        scale = OCR_DPI / 72
        check_pixels(page.width * scale, page.height * scale, f"page {page.page_number} too large to OCR at {OCR_DPI} dpi")
        readers.ocr_page_started()
        image = page.to_image(resolution=OCR_DPI).original
        return _Page(ocr_lines(image), image.height, set(), ocr=True)
    lines, encodings = [], set()
    for r in raw:
        text, used = _convert_legacy(r["text"], r["chars"])
        encodings |= used
        size = statistics.median(c["size"] for c in r["chars"]) if r["chars"] else 0.0
        lines.append(Line(text, r["x0"], r["x1"], r["top"], r["bottom"], size))
    return _Page(lines, page.height, encodings)


def _convert_legacy(text: str, chars: list[dict]) -> tuple[str, set[str]]:
    """Convert the parts of a line set in TCVN3/VNI fonts; other fonts' text is left alone. The
    line's text is its chars' text plus the spaces pdfplumber inserted: those take the font of
    the char before them."""
    kinds = [legacy.font_encoding(c.get("fontname")) for c in chars]
    if not any(enc for enc, _ in kinds):
        return text, set()
    segments: list[list] = []  # [kind, text]
    i = j = 0
    while i < len(text):
        while j < len(chars) and chars[j]["text"].isspace() and not text.startswith(chars[j]["text"], i):
            j += 1  # a space char that extraction dropped
        if j < len(chars) and chars[j]["text"] and text.startswith(chars[j]["text"], i):
            kind, piece = kinds[j], chars[j]["text"]
            j += 1
        else:
            kind, piece = (segments[-1][0] if segments else (None, False)), text[i]
        i += len(piece)
        if segments and segments[-1][0] == kind:
            segments[-1][1] += piece
        else:
            segments.append([kind, piece])
    out = "".join(legacy.to_unicode(seg, enc, upper) if enc else seg for (enc, upper), seg in segments)
    return out, {enc for (enc, _), _ in segments if enc}


def _furniture_key(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", text.lower())).strip()


def _drop_furniture(pages: list[tuple[list[Line], float]]) -> list[list[Line]]:
    """Remove running headers/footers (the same line, digits aside, near the top or bottom of at
    least half the pages, two at least) and page numbers near the top or bottom."""
    def edge(line: Line, height: float) -> bool:
        return line.top < EDGE * height or line.bottom > (1 - EDGE) * height

    counts: dict[str, int] = {}
    for lines, height in pages:
        for key in {_furniture_key(line.text) for line in lines if edge(line, height)}:
            counts[key] = counts.get(key, 0) + 1
    repeated = {key for key, n in counts.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    return [[line for line in lines
             if not (edge(line, height) and (_furniture_key(line.text) in repeated or PAGE_NUMBER.match(line.text)))]
            for lines, height in pages]
