"""Readers turn a file into text: one module per format, chosen by file suffix."""
from __future__ import annotations

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
READERS: dict[str, Reader] = {}


def register(*suffixes: str) -> Callable[[Reader], Reader]:
    def add(reader: Reader) -> Reader:
        for suffix in suffixes:
            READERS[suffix.lower()] = reader
        return reader
    return add


def supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def read(path: Path) -> Extracted:
    """Read one file; raises ReadError with a one-line reason for anything unusable."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ReadError(f"unsupported file type '{path.suffix or path.name}' (supported: {', '.join(sorted(READERS))})")
    if not path.is_file():
        raise ReadError("not a regular file")
    return reader(path)


# Each format registers itself on import.
from ingest.readers import docx, html, image, pdf, text  # noqa: E402,F401
