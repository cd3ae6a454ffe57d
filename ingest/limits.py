"""What one input may cost, each checked before the input is expanded; INGEST_<NAME> overrides a limit."""
from __future__ import annotations

import os
from dataclasses import dataclass

MB = 1024 * 1024
KB = 1024
BYTES = {"MB": MB, "KB": KB}   # units compared with byte counts

@dataclass(frozen=True)
class Limit:
    """A named limit: `value` counts `unit`s ("MB" and "KB" limits are compared with byte counts)."""

    env: str
    value: int
    unit: str

    def _show(self, amount: float) -> str:
        if self.unit in BYTES:
            return f"{amount / BYTES[self.unit]:,.{1 if self.unit == 'MB' else 0}f} {self.unit}"
        return f"{amount:,} {self.unit}"

    def reason(self, what: str, amount: int | None = None) -> str:
        """One line naming the limit: "what: 2,000 chunks > 1,000 limit (ENV)", or "what: over the ..."
        when only the fact is known (a stream whose inflation was stopped at the limit)."""
        if amount is None:
            return f"{what}: over the {self.value:,} {self.unit} limit ({self.env})"
        limit = f"{self.value:,} {self.unit}" if self.unit in BYTES else f"{self.value:,}"
        return f"{what}: {self._show(amount)} > {limit} limit ({self.env})"

    def exceeded(self, amount: int) -> bool:
        return amount > self.value * BYTES.get(self.unit, 1)

    def check(self, amount: int, what: str) -> None:
        """Raise readers.ReadError with `reason` when `amount` is over the limit."""
        from ingest.readers import ReadError

        if self.exceeded(amount):
            raise ReadError(self.reason(what, amount))


def _limit(env: str, default: int, unit: str) -> Limit:
    return Limit(env, int(os.environ.get(env, default)), unit)


# A document, after reading (characters) and after chunking (chunks). The 2015 Civil Code, one of
# the longest Vietnamese laws, is ~250,000 characters and a few thousand passages: these are 4x and
# ~3x that. One 10 MB line of text used to become 20,789 chunks and hold the index lock 5.5 min.
MAX_CHARS = _limit("INGEST_MAX_CHARS", 1_000_000, "characters")
MAX_CHUNKS = _limit("INGEST_MAX_CHUNKS", 10_000, "chunks")   # embedding 10,000 chunks takes ~2-3 min

# Files, refused from their size on disk before a byte is read.
MAX_TEXT_MB = _limit("INGEST_MAX_TEXT_MB", 50, "MB")    # read in 0.3 s, 150 MB; then MAX_CHARS (~1.3 MB) applies
MAX_PDF_MB = _limit("INGEST_MAX_PDF_MB", 200, "MB")     # scans run large: ~100 colour pages
MAX_DOCX_MB = _limit("INGEST_MAX_DOCX_MB", 100, "MB")   # a report with many photos
MAX_IMAGE_MB = _limit("INGEST_MAX_IMAGE_MB", 50, "MB")  # a multi-page TIFF scan
MAX_HTML_MB = _limit("INGEST_MAX_HTML_MB", 5, "MB")     # trafilatura: ~2.5 s, ~50 MB per MB; the Civil Code is ~1-2 MB

# .docx packages (ZIP), from the sizes the ZIP directory declares, before python-docx opens them.
# python-docx holds every part in memory and parses the XML ones with lxml at ~13x their size
# (20 MB of document.xml: 290 MB, 2.8 s, ~3M characters).
MAX_ZIP_MEMBERS = _limit("INGEST_MAX_ZIP_MEMBERS", 1_000, "members")  # Word writes 15-40 parts plus one per picture
MAX_ZIP_MB = _limit("INGEST_MAX_ZIP_MB", 200, "MB")     # all parts unpacked: pictures barely compress, so 2x MAX_DOCX_MB
MAX_DOCX_XML_MB = _limit("INGEST_MAX_DOCX_XML_MB", 20, "MB")  # the XML parts: ~2-5 MB for the Civil Code

# PDF, from a scan of the raw file before pdfplumber opens it (pdfminer inflates a whole stream in one
# call and keeps it). The largest real streams are page images (an A4 page at 600 dpi in grey is
# 35 MB raw, 300 dpi in colour 26 MB); text pages have tens of KB. The scan inflates ~400 MB/s.
MAX_PDF_STREAM_MB = _limit("INGEST_MAX_PDF_STREAM_MB", 100, "MB")       # one stream, inflated
MAX_PDF_INFLATED_MB = _limit("INGEST_MAX_PDF_INFLATED_MB", 1_000, "MB")  # all of them: ~100 grey scanned pages, ~2.5 s
MAX_PDF_STREAMS = _limit("INGEST_MAX_PDF_STREAMS", 50_000, "streams")   # ~10 a page (contents, images, fonts); ~10 us each
MAX_PAGES = _limit("INGEST_MAX_PAGES", 2_000, "pages")  # PDF pages and image frames: the Civil Code prints on ~200

# pdfminer repairs a zlib stream that is cut short or corrupt by inflating it again a byte at a time,
# copying what it has each time: a cost of its compressed size times its inflated size (256 KB inflated:
# 0.5 s for text, 1.5 s for incompressible data; 1 MB: 7-21 s; 16 MB of spaces cut short: 23 s). The
# scan refuses a stream declared FlateDecode that it sees broken past this size; smaller ones (a
# checksum missing from a text page's tens of KB) are left to pdfminer's repair.
MAX_PDF_BROKEN_STREAM_KB = _limit("INGEST_MAX_PDF_BROKEN_STREAM_KB", 256, "KB")

# One PDF page, checked from its content streams and the forms they draw, each time drawn (inflated
# by pdfminer, kept for the layout that follows), before pdfminer lays it out. pdfminer's parser costs
# ~15 us a byte of content whatever it draws (256 KB of path commands: 3.5-4 s), and each character
# drawn ~90 us and ~2 KB (one 256 KB string: 23 s, 540 MB; a page of 1 MB of text-drawing commands:
# 33 s, ~950 MB; a form of 100 characters drawn 1,000 times: 16 s, 250 MB). Real pages: a dense legal
# page (the Civil Code at 10 pt, fpdf2) has 13-21 KB of content and 3,500-4,100 characters, a LaTeX
# manual's pages 5-19 KB and up to 2,900; a producer that places each glyph alone (~20 bytes a glyph)
# would write ~80 KB.
MAX_PDF_PAGE_CONTENT_KB = _limit("INGEST_MAX_PDF_PAGE_CONTENT_KB", 512, "KB")   # ~8 s of parsing
# Characters, estimated from the bytes of the page's strings (hex strings: two digits a byte), so a
# two-byte font counts each character twice (the Civil Code page: ~8,300 estimated for 4,059): 6x
# that, ~4.5 s and ~100 MB to lay out at the cost above.
MAX_PDF_PAGE_CHARS = _limit("INGEST_MAX_PDF_PAGE_CHARS", 50_000, "characters")

# Images for OCR (an image file's frames, a scanned PDF page rendered at 300 dpi): an A4 page at
# 600 dpi is 35 million pixels, an A3 page at 400 dpi 31 million; Pillow holds 1-4 bytes a pixel
# several times over (decoded, greyscale, median filter, PNG for Tesseract).
MAX_IMAGE_PIXELS = _limit("INGEST_MAX_IMAGE_PIXELS", 50_000_000, "pixels")

# Reading itself, in a child process (ingest/sandbox.py): the backstop for what the checks above cannot
# see before it happens: streams the scan cannot inflate (encrypted, LZW, zlib inside ASCII85), a
# page's costs the check above does not count (Type 3 fonts, forms named in odd ways), trafilatura on
# odd HTML, Tesseract on a big scan. Before the page checks, 1 MB of text-drawing commands on one page
# took 33 s and ~950 MB, and 16 MB of zlib data cut short 23 s; both are now refused in under a second.
# Legitimate reads, in address space (libraries included): ~140 MB for a text PDF (the Civil Code), ~130 MB
# for a PDF page rendered for OCR, 290 MB for a 49-megapixel grey image and 430 MB for a colour one
# (PNG or JPEG, the largest MAX_IMAGE_PIXELS allows): 768 MB is 1.8x that.
MAX_READ_MB = _limit("INGEST_MAX_READ_MB", 768, "MB")  # the reader's address space
# The time to read one file is this, plus MAX_READ_PAGE_SECONDS for each PDF page read, plus
# MAX_OCR_PAGE_SECONDS for each page or frame sent to OCR. Other formats need a few seconds at their
# size limits (HTML: ~2.5 s a MB, so ~12 s at 5 MB; a .docx with 20 MB of XML: ~3 s).
MAX_READ_SECONDS = _limit("INGEST_MAX_READ_SECONDS", 20, "seconds")  # wall clock for one file, pages and OCR aside
# A text PDF reads at ~0.25-0.5 s a page here (~12,000 characters a second): the Civil Code, ~360,000
# characters on 106-123 pages, in 27-30 s; a second a page is 2-4x that.
MAX_READ_PAGE_SECONDS = _limit("INGEST_MAX_READ_PAGE_SECONDS", 1, "seconds")
# OCR of a long scan is legitimately slow (~5 s an A4 page at 300 dpi here): each page or frame sent to
# OCR adds this to the file's time, and it is Tesseract's own timeout for the page.
MAX_OCR_PAGE_SECONDS = _limit("INGEST_MAX_OCR_PAGE_SECONDS", 120, "seconds")
