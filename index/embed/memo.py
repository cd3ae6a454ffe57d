"""An embedder that remembers its last query vectors: the answer picker reuses the vector of the question just searched."""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from index.embed.base import Embedder

RECENT = 32   # query vectors kept: enough for the searches in flight in one app, too few to serve repeated questions
# (the app's answer cache does that; latency benchmarks that cycle through a question set never hit it)


class Remembering:
    """`embedder` with its last `size` query vectors remembered; `embed_passages` (ingest) passes through."""

    def __init__(self, embedder: Embedder, size: int = RECENT):
        self.inner, self.size = embedder, size
        self.model_id, self.backend, self.dim = embedder.model_id, embedder.backend, embedder.dim
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._recent.get(text)
            if vector is not None:
                self._recent.move_to_end(text)
                return vector
        vector = self.inner.embed_query(text)
        with self._lock:
            self._recent[text] = vector
            while len(self._recent) > self.size:
                self._recent.popitem(last=False)
        return vector


def remembering(embedder: Embedder) -> Remembering:
    """`embedder` wrapped once (a Remembering is returned as it is: engines reloaded with the app's embedder share it)."""
    return embedder if isinstance(embedder, Remembering) else Remembering(embedder)
