"""Dense vectors in FAISS: exact inner-product search over L2-normalised vectors, addressed by chunk id;
from ANN_MIN vectors on, an IVF index beside it answers unfiltered queries (both memory-mapped when large)."""
from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

# From this many vectors, an inverted-file index (IVF) is saved beside the exact one and answers unfiltered
# queries: exact search over a million 384-dim vectors takes ~150 ms on one core, IVF probing NPROBE of its
# sqrt(N) lists ~20 ms. `python -m bench scale` measures its recall@10 against exact search for 32 to 128
# probes: 64 is the fewest that reach 0.99 at a million passages (BENCHMARKS.md).
ANN_MIN = int(os.environ.get("INDEX_ANN_MIN") or 200_000)
NPROBE = int(os.environ.get("INDEX_NPROBE") or 64)
MMAP_MIN_BYTES = 64 << 20   # index files from this size are memory-mapped at load, not read into memory


def faiss_id(chunk_id: str) -> int:
    """The int64 FAISS id of a chunk: the first 60 bits of its content hash."""
    return int(chunk_id[:15], 16)


class DenseIndex:
    """A flat inner-product index wrapped in an id map, so chunks can be added and removed by id;
    `ann`, when the index was loaded with one, answers queries that search every chunk."""

    def __init__(self, dim: int, index: faiss.Index | None = None, ann: faiss.Index | None = None):
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.ann = ann

    @staticmethod
    def one_thread() -> None:
        """Search on one OpenMP thread: one query at a time over a few thousand vectors, threads only add stalls."""
        faiss.omp_set_num_threads(1)

    def __len__(self) -> int:
        return self.index.ntotal

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
            self.ann = None   # it no longer holds every vector: saving builds it again

    def remove(self, ids: list[int]) -> int:
        self.ann = None
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64))) if ids else 0

    def vector(self, id_: int) -> np.ndarray:
        return self.index.reconstruct(int(id_))

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None, exact: bool = False) -> list[tuple[int, float]]:
        """Top k (id, cosine) pairs; `allowed` restricts the search to those ids (filters), exactly;
        without it the IVF index answers when there is one, unless `exact`."""
        if len(self) == 0 or k <= 0 or (allowed is not None and not allowed):
            return []
        index, params = self.index, None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        elif self.ann is not None and not exact:
            index, params = self.ann, faiss.SearchParametersIVF(nprobe=NPROBE)
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32), min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]

    def in_order(self, ids) -> bool:
        """Whether row i of the exact index holds ids[i] (an index written in chunk order, as store.Writer writes it)."""
        return len(ids) == len(self) and isinstance(self.index, faiss.IndexIDMap2) and \
            np.array_equal(faiss.vector_to_array(self.index.id_map), np.asarray(ids, dtype=np.int64))

    def search_rows(self, query: np.ndarray, k: int, rows) -> list[tuple[int, float]]:
        """Top k (row, cosine) among these rows of the exact index: a bitmap over rows selects them (one bit
        tested per vector instead of an id looked up in a set), the same ranking as `search` with their ids."""
        if len(self) == 0 or k <= 0 or not len(rows):
            return []
        bitmap = np.zeros((len(self) + 7) // 8, dtype=np.uint8)
        np.bitwise_or.at(bitmap, np.asarray(rows, dtype=np.int64) >> 3, (1 << (np.asarray(rows, dtype=np.int64) & 7)).astype(np.uint8))
        params = faiss.SearchParameters(sel=faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap)))
        scores, found = faiss.downcast_index(self.index.index).search(query.reshape(1, -1).astype(np.float32),
                                                                      min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(found[0], scores[0]) if i != -1]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
        ann = self.ann if self.ann is not None else ivf(self.index) if len(self) >= ANN_MIN else None
        if ann is not None:
            faiss.write_index(ann, str(path.with_suffix(".ivf")))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if path.stat().st_size >= MMAP_MIN_BYTES else 0)
        ann_path = path.with_suffix(".ivf")
        ann = faiss.read_index(str(ann_path), faiss.IO_FLAG_MMAP) if ann_path.exists() else None
        return cls(index.d, index, ann)


def ivf(exact: faiss.Index, seed: int = 0) -> faiss.Index:
    """An IVF index of the same vectors and ids: sqrt(N) lists, centroids trained on a sample of 64 per list."""
    flat = faiss.downcast_index(exact.index)
    vectors = faiss.rev_swig_ptr(flat.get_xb(), exact.ntotal * exact.d).reshape(exact.ntotal, exact.d)   # a view, not a copy
    ids = faiss.vector_to_array(exact.id_map)
    lists = max(1, int(np.sqrt(exact.ntotal)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(exact.d), exact.d, lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(exact.ntotal, min(exact.ntotal, 64 * lists), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add_with_ids(vectors, ids)
    return index
