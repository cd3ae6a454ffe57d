"""Plain text and Markdown files, and the checks every reader shares."""
from __future__ import annotations

from pathlib import Path

from ingest import legacy, limits
from ingest.readers import Extracted, ReadError

# Windows code page 1252 for 80-9F (curly quotes, dashes), Latin-1 elsewhere: how an 8-bit
# TCVN3/VNI .txt saved on Windows reads, without failing on the five bytes cp1252 leaves undefined.
_CP1252_C1 = {}
for _byte in range(0x80, 0xA0):
    try:
        _CP1252_C1[_byte] = bytes([_byte]).decode("cp1252")
    except UnicodeDecodeError:
        pass


def check_size(path: Path, limit: limits.Limit) -> int:
    """The file's size, from its metadata only (a 500 MB file is refused without reading it)."""
    size = path.stat().st_size
    if size == 0:
        raise ReadError("empty file (0 bytes)")
    limit.check(size, "file too large")
    return size


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as lines a reader can cite: each data row one line, "Header: value; Header: value",
    headers from the first row. A one-row or one-column table has no header row to speak of."""
    rows = [[" ".join(cell.split()) for cell in row] for row in rows]
    headers, data = (rows[0], rows[1:]) if rows else ([], [])
    if not data or len(headers) < 2:
        return ["; ".join(c for c in row if c) for row in rows if any(row)]
    lines = []
    for row in data:
        pairs = [f"{h}: {v}" if h else v for h, v in zip(headers, row) if v] + [v for v in row[len(headers):] if v]
        if pairs:
            lines.append("; ".join(pairs))
    return lines


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


def windows_latin(data: bytes) -> str:
    """8-bit bytes as Windows Latin (cp1252, Latin-1 for the bytes cp1252 leaves undefined): never fails."""
    return data.decode("latin-1").translate(_CP1252_C1)


def decode_legacy(data: bytes) -> tuple[str, str | None]:
    """Bytes -> (Unicode text, "TCVN3"/"VNI" when converted). UTF-8 text may still hold TCVN3/VNI
    characters (pasted from an old document); 8-bit bytes that are not UTF-8 are read as Windows
    Latin and kept only when they are TCVN3/VNI, otherwise the UTF-8 error stands."""
    try:
        return legacy.convert(decode(data))
    except ReadError:
        if b"\x00" in data:
            raise
        text, encoding = legacy.convert(windows_latin(data))
        if encoding is None:
            raise
        return text, encoding


def read_text(path: Path) -> Extracted:
    check_size(path, limits.MAX_TEXT_MB)
    text, encoding = decode_legacy(path.read_bytes())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError("no text in file (only whitespace)")
    return Extracted(text=text, converted_from=encoding)
