"""Check a model folder file by file against a sha256 list kept in this repository (our trust anchor)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path, PurePosixPath

_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")
_BLOCK = 1 << 20


class ModelUnavailable(Exception):
    """The model cannot be used; the message is one line saying why."""


class Refused(ModelUnavailable):
    """The files do not match the hash list (or are unsafe): never use them."""


def safe_relpath(name: str) -> bool:
    """A relative POSIX path with no '..', no absolute or drive part, no backslash or NUL."""
    if not name or "\\" in name or "\0" in name or re.match(r"^[A-Za-z]:", name):
        return False
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts


def read_hash_list(path: Path) -> dict[str, str]:
    """{relative path: sha256} from a `sha256sum` file; comments (#) and blank lines are skipped."""
    hashes: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m or not safe_relpath(m.group(2)) or m.group(2) in hashes:
            raise Refused(f"hash list {path} line {n} is not '<sha256>  <relative path>' (or repeats a path)")
        hashes[m.group(2)] = m.group(1)
    if not hashes:
        raise Refused(f"hash list {path} lists no file")
    return hashes


def list_digest(hashes: dict[str, str]) -> str:
    """One sha256 naming a hash list's content (its entries, not its comments)."""
    return hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def list_files(folder: Path, hashes: dict[str, str]) -> dict[str, os.stat_result]:
    """{relative path: stat} of the folder's files; refuses a missing file, an unexpected one, a link."""
    found: dict[str, os.stat_result] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            st = path.lstat()
            rel = path.relative_to(folder).as_posix()
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                raise Refused(f"{rel} is not a regular file (a link or device) in {folder}")
            if rel not in hashes:
                raise Refused(f"unexpected file {rel} in {folder}")
            found[rel] = st
    missing = sorted(set(hashes) - set(found))
    if missing:
        raise Refused(f"{len(missing)} file(s) missing from {folder}: {', '.join(missing[:3])}")
    return found


def verify_folder(folder: Path, hashes: dict[str, str]) -> dict[str, os.stat_result]:
    """Hash every file; raise Refused on the first difference. Returns the stats of the checked files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelUnavailable(f"{folder} is not a folder")
    files = list_files(folder, hashes)
    for rel in sorted(hashes):
        got = sha256_file(folder / rel)
        if got != hashes[rel]:
            raise Refused(f"{rel} does not match its sha256 (expected {hashes[rel][:12]}…, got {got[:12]}…)")
    return files


def stamp_path(folder: Path) -> Path:
    """Where the result of the last full check is kept: beside the folder, never inside it."""
    return folder.parent / f".{folder.name}.verified.json"


def _signature(files: dict[str, os.stat_result]) -> dict[str, list[int]]:
    return {rel: [st.st_size, st.st_mtime_ns] for rel, st in sorted(files.items())}


def write_stamp(folder: Path, hashes: dict[str, str], files: dict[str, os.stat_result]) -> None:
    """Record that these exact files (sizes, mtimes) matched this hash list; best effort."""
    record = {"hash_list": list_digest(hashes), "files": _signature(files)}
    tmp = stamp_path(folder).with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, stamp_path(folder))
    except OSError:
        tmp.unlink(missing_ok=True)


def verify_cached(folder: Path, hashes: dict[str, str]) -> bool:
    """Verify `folder`, skipping the hashing when the stamp matches every file's size and mtime.

    Returns True when the stamp answered, False when the files were hashed (and the stamp
    rewritten). Raises ModelUnavailable / Refused otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelUnavailable(f"{folder} is not a folder")
    files = list_files(folder, hashes)
    try:
        record = json.loads(stamp_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if record == {"hash_list": list_digest(hashes), "files": _signature(files)}:
        return True
    write_stamp(folder, hashes, verify_folder(folder, hashes))
    return False
