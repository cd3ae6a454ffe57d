"""Dense vectors in FAISS: exact inner-product search over L2-normalised vectors, addressed by chunk id."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


def faiss_id(chunk_id: str) -> int:
    """The int64 FAISS id of a chunk: the first 60 bits of its content hash."""
    return int(chunk_id[:15], 16)


class DenseIndex:
    """A flat inner-product index wrapped in an id map, so chunks can be added and removed by id."""

    def __init__(self, dim: int, index: faiss.Index | None = None):
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @staticmethod
    def one_thread() -> None:
        """Search on one OpenMP thread: one query at a time over a few thousand vectors, threads only add stalls."""
        faiss.omp_set_num_threads(1)

    def __len__(self) -> int:
        return self.index.ntotal

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> int:
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64))) if ids else 0

    def vector(self, id_: int) -> np.ndarray:
        return self.index.reconstruct(int(id_))

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Top k (id, cosine) pairs; `allowed` restricts the search to those ids (filters)."""
        if len(self) == 0 or k <= 0 or (allowed is not None and not allowed):
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        index = faiss.read_index(str(path))
        return cls(index.d, index)
