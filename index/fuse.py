"""Joining rankings into one (reciprocal-rank or min-max fusion) and folding identical passages together."""
from __future__ import annotations

import numpy as np

from index.retrieve import Ranking

MODES = ("rrf", "minmax")


class Joiner:
    """Weighted fusion of rankings (candidate -> score). "rrf": the sum of weight / (k + rank);
    "minmax": the sum of weight x score scaled to 0..1 within its ranking."""

    def __init__(self, mode: str = "rrf", k: int = 60):
        if mode not in MODES:
            raise ValueError(f"unknown fusion '{mode}' (one of {', '.join(MODES)})")
        self.mode, self.k = mode, k

    def run(self, rankings: list[Ranking], weights: tuple[float, ...]) -> Ranking:
        fused: Ranking = {}
        for ranking, weight in zip(rankings, weights):
            if not weight or not ranking:
                continue
            if self.mode == "minmax":
                low, high = min(ranking.values()), max(ranking.values())
                for i, score in ranking.items():
                    fused[i] = fused.get(i, 0.0) + weight * ((score - low) / (high - low) if high > low else 1.0)
            else:
                for rank, (i, _) in enumerate(sorted(ranking.items(), key=lambda x: -x[1]), start=1):
                    fused[i] = fused.get(i, 0.0) + weight / (self.k + rank)
        return fused


def dedupe(ranked: list[tuple[int, float]], keys: list[str], doc_ids: list[str]) -> list[tuple[int, float, list[int]]]:
    """One entry per distinct passage (by `keys[i]`), best first: (position, score, positions of the
    same passage in other documents, one per document)."""
    first: dict[str, tuple[int, float, list[int]]] = {}
    held: dict[str, set[str]] = {}   # key -> the documents of its entry (a passage in hundreds of documents: no rescans)
    positions = [i for i, _ in ranked]
    passage = keys[positions].tolist() if isinstance(keys, np.ndarray) else [keys[i] for i in positions]   # read at once
    for (i, score), key in zip(ranked, passage):
        kept = first.setdefault(key, (i, score, []))
        if kept[0] != i:
            docs = held.setdefault(key, {doc_ids[kept[0]]})
            if doc_ids[i] not in docs:
                kept[2].append(i)
                docs.add(doc_ids[i])
    return list(first.values())
