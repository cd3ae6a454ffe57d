"""Upload checks and storage: allowed types, size limit, safe names, hidden staging and start-up recovery."""
from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import BinaryIO, Callable

from index.engine import Document, indexed_documents, source_sha, supported_types

CHUNK = 1 << 16
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")
INVISIBLE = ("Cc", "Cf", "Cs", "Zl", "Zp")   # controls, bidi and other format characters, surrogates, line breaks
INCOMING = ".incoming-"                     # INCOMING + token + "-" + final name: an upload not yet indexed


class UploadError(Exception):
    """A rejected upload; `status` is the HTTP status to answer with, the message says why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def safe_name(raw: str | None) -> str:
    """The file name to store, or UploadError: no folders, no '..', no hidden or control characters."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise UploadError("missing file name")
    hidden = next((c for c in name if unicodedata.category(c) in INVISIBLE), None)
    if hidden is not None:   # e.g. U+202E shows "tệp\u202eexe.txt" as "tệptxt.exe"; the name is not echoed
        raise UploadError(f"unsafe file name: it contains the invisible, control or invalid character U+{ord(hidden):04X} "
                          f"({unicodedata.name(hidden, 'unnamed')}), which can disguise what the file is")
    if "/" in name or "\\" in name or name in (".", "..") or ".." in name.split("."):
        raise UploadError(f"unsafe file name '{name}': folders and '..' are not allowed")
    if name.startswith(".") or _UNSAFE.search(name):
        raise UploadError(f"unsafe file name '{name}': hidden names and control or special characters are not allowed")
    if len(name.encode("utf-8")) > 200:
        raise UploadError("file name too long (over 200 bytes)")
    if name.lower().endswith(".meta.json"):
        raise UploadError("metadata sidecars are edited through the document's metadata, not uploaded")
    suffix = Path(name).suffix.lower()
    if suffix not in supported_types():
        raise UploadError(f"unsupported file type '{suffix or name}' (allowed: {', '.join(supported_types())})", 415)
    return name


def save(stream: BinaryIO, name: str, folder: Path, max_bytes: int, used: int = 0) -> tuple[Path, Path]:
    """Copy `stream` to a hidden file in `folder` (ingest skips hidden files) named after its final
    name; `max_bytes` is for all files of a request together, `used` bytes of it went to the others.
    Returns (hidden path, final path); the caller moves it into place once the index holds it."""
    name = safe_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    if final.resolve().parent != folder.resolve():
        raise UploadError(f"unsafe file name '{name}'")
    if final.is_dir():
        raise UploadError(f"'{name}' is a folder in the upload folder", 409)
    tmp = folder / f"{INCOMING}{secrets.token_hex(6)}-{name}"
    size = used
    try:
        with open(tmp, "wb") as out:
            for block in iter(lambda: stream.read(CHUNK), b""):
                size += len(block)
                if size > max_bytes:
                    raise UploadError(f"'{name}' is too large: the limit is {max_bytes / 1048576:g} MB "
                                      "(all files of an upload together)", 413)
                out.write(block)
        if size == used:
            raise UploadError(f"'{name}' is empty")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, final


def recover(folder: Path, index: Path, source_key: Callable[[Path], str]) -> dict[str, list[str]]:
    """After a crash (call under the index writer lock, before the index is loaded), no hidden file is
    left: an upload the index already holds with this very content is moved into place, any other is
    deleted; a file hidden by an unfinished delete goes back if the index still holds its document."""
    done: dict[str, list[str]] = {"placed": [], "removed": []}
    hidden = sorted(folder.glob(f"{INCOMING}*")) + sorted(folder.glob(".deleting-*")) if folder.is_dir() else []
    if not hidden:
        return done
    documents = indexed_documents(index)
    for path in hidden:
        parts = path.name.split("-", 2)             # [".incoming", token, final name]
        final = folder / parts[-1]
        owner = final.with_name(final.name.removesuffix(".meta.json"))
        doc = documents.get(Document.id_for(source_key(owner))) if len(parts) == 3 and parts[-1] else None
        if path.name.startswith(INCOMING):
            keep = doc is not None and doc.sha == source_sha(path, final)
        else:
            keep = doc is not None and not final.exists()
        if keep:
            os.replace(path, final)
            done["placed"].append(final.name)
        else:
            path.unlink()
            done["removed"].append(path.name)
    return done
