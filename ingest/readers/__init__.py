"""Readers turn a file into text: one module per format, chosen by file suffix."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


class ReadError(Exception):
    """A file that cannot be ingested; the message is a one-line reason for the user."""


@dataclass
class Extracted:
    """A file's readable text. Citation line numbers count lines of `text` (1-based)."""

    text: str
    pages: list[int] | None = None       # page of each line of `text`, for paginated formats
    converted_from: str | None = None    # legacy encoding converted to Unicode ("TCVN3", "VNI")
    ocr: bool = False                    # text came from OCR


Reader = Callable[[Path], Extracted]

# File name ending -> "module:function" in this package. A reader's module (and its libraries) is
# imported the first time a file of its type is read.
READERS: dict[str, str] = {
    ".txt": "text:read_text", ".md": "text:read_text",
    ".pdf": "pdf:read_pdf",
    ".docx": "docx:read_docx",
    ".html": "html:read_html", ".htm": "html:read_html", ".xhtml": "html:read_html",
    **{suffix: "image:read_image" for suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")},
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def reader_for(path: Path) -> Reader:
    """The reader function for a file's type; ReadError for a type no reader exists for."""
    target = READERS.get(path.suffix.lower())
    if target is None:
        raise ReadError(f"unsupported file type '{path.suffix or path.name}' (supported: {', '.join(sorted(READERS))})")
    module, function = target.split(":")
    return getattr(importlib.import_module(f"ingest.readers.{module}"), function)


def page_started() -> None:
    """Called before each page of a PDF is read. The sandbox's worker (ingest/sandbox.py) replaces it
    to tell its parent, which then allows the file more time."""


def ocr_page_started() -> None:
    """Called before each page or image frame is rendered and sent to OCR. The sandbox's worker
    (ingest/sandbox.py) replaces it to tell its parent, which then allows the file more time."""


def read(path: Path) -> Extracted:
    """Read one file; raises ReadError with a one-line reason for anything unusable."""
    reader = reader_for(path)
    if not path.is_file():
        raise ReadError("not a regular file")
    return reader(path)
