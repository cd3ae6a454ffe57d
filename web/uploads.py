"""Upload checks and storage: allowed types, size limit, safe names, files written atomically."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import BinaryIO

from ingest import readers

CHUNK = 1 << 16
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


class UploadError(Exception):
    """A rejected upload; `status` is the HTTP status to answer with, the message says why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def allowed_types() -> list[str]:
    return sorted(readers.READERS)


def safe_name(raw: str | None) -> str:
    """The file name to store, or UploadError: no folders, no '..', no hidden or control characters."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise UploadError("missing file name")
    if "/" in name or "\\" in name or name in (".", "..") or ".." in name.split("."):
        raise UploadError(f"unsafe file name '{name}': folders and '..' are not allowed")
    if name.startswith(".") or _UNSAFE.search(name):
        raise UploadError(f"unsafe file name '{name}': hidden names and control or special characters are not allowed")
    if len(name.encode("utf-8")) > 200:
        raise UploadError("file name too long (over 200 bytes)")
    if name.lower().endswith(".meta.json"):
        raise UploadError("metadata sidecars are edited through the document's metadata, not uploaded")
    suffix = Path(name).suffix.lower()
    if suffix not in readers.READERS:
        raise UploadError(f"unsupported file type '{suffix or name}' (allowed: {', '.join(allowed_types())})", 415)
    return name


def save(stream: BinaryIO, name: str, folder: Path, max_bytes: int) -> tuple[Path, Path]:
    """Copy `stream` to a hidden temporary file in `folder` (ingest skips hidden files), enforcing
    the size limit. Returns (temporary path, final path); `commit` moves it into place."""
    name = safe_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    if final.resolve().parent != folder.resolve():
        raise UploadError(f"unsafe file name '{name}'")
    tmp = folder / f".incoming-{os.getpid()}-{id(stream)}-{name}"
    size = 0
    try:
        with open(tmp, "wb") as out:
            for block in iter(lambda: stream.read(CHUNK), b""):
                size += len(block)
                if size > max_bytes:
                    raise UploadError(f"'{name}' is too large (limit {max_bytes / 1048576:g} MB)", 413)
                out.write(block)
        if size == 0:
            raise UploadError(f"'{name}' is empty")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, final
