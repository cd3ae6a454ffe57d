"""Plain text and Markdown files."""
from __future__ import annotations

from pathlib import Path

from ingest.readers import Extracted, ReadError, register

MAX_BYTES = 50 * 1024 * 1024


def decode(data: bytes) -> str:
    """Bytes -> str: UTF-8 (BOM optional) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise ReadError("binary content (NUL bytes), not a text document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReadError(f"not valid UTF-8 text (byte {err.start}); save it as UTF-8") from None


@register(".txt", ".md")
def read_text(path: Path) -> Extracted:
    size = path.stat().st_size
    if size == 0:
        raise ReadError("empty file (0 bytes)")
    if size > MAX_BYTES:
        raise ReadError(f"file too large ({size // (1024 * 1024)} MB > {MAX_BYTES // (1024 * 1024)} MB)")
    text = decode(path.read_bytes())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError("no text in file (only whitespace)")
    return Extracted(text=text)
