"""The three rankings fused by search: meaning (FAISS), BM25 over folded syllables, and coverage of the question's words."""
from __future__ import annotations

from collections import Counter

import numpy as np

from core.document import Chunk
from core.text import content_words
from core.vietnamese import fold, has_diacritics
from index.dense import DenseIndex, faiss_id
from index.embed.base import Embedder
from index.lexical import LexicalIndex
from index.query import Query

Ranking = dict[int, float]   # chunk position -> score, best first when sorted


class DenseRetriever:
    """Cosine of the embedded question and each passage, the `depth` nearest (within `allowed`)."""

    def __init__(self, dense: DenseIndex, embedder: Embedder, chunks: list[Chunk], depth: int):
        self.dense, self.embedder, self.depth = dense, embedder, depth
        dense.one_thread()
        saved = getattr(chunks, "faiss_ids", None)   # a loaded index's chunk table has them without reading chunks
        self.faiss_ids = saved.tolist() if saved is not None else [faiss_id(c.id) for c in chunks]
        self.position = dict(zip(self.faiss_ids, range(len(self.faiss_ids))))
        self.by_row = dense.in_order(self.faiss_ids)   # a filter's positions are the exact index's rows

    def run(self, query: Query, allowed: list[int] | None) -> Ranking:
        vector = self.embedder.embed_query(query.for_embedding)
        if allowed is not None and self.by_row:
            return dict(self.dense.search_rows(vector, self.depth, allowed))
        ids = None if allowed is None else [self.faiss_ids[i] for i in allowed]
        return {self.position[fid]: score for fid, score in self.dense.search(vector, self.depth, ids)}


class LexicalRetriever:
    """BM25 of the question as Vietnamese text over each passage and its last two headings."""

    def __init__(self, chunks: list[Chunk], depth: int, index: LexicalIndex | None = None):
        self.index = index if index is not None else LexicalIndex(lexical_texts(chunks))
        self.depth = depth

    def run(self, query: Query, allowed: list[int] | None) -> Ranking:
        within = None if allowed is None else np.unique(np.asarray(allowed, dtype=np.int64))
        scores = self.index.scores(query.vietnamese, within)
        top = top_positions(scores, self.depth)
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}


def lexical_texts(chunks: list[Chunk]) -> list[str]:
    """What BM25 indexes of each passage: its last two headings and its text."""
    return [" ".join([*c.headings[-2:], c.text]) for c in chunks]


FULL_SORT_MAX = 200_000   # up to this many passages BM25 scores are fully sorted (a few ms), as they always were


def top_positions(scores: np.ndarray, depth: int) -> np.ndarray:
    """The positions of the `depth` highest scores, highest first. Up to FULL_SORT_MAX passages by a full
    np.argsort (equal scores keep the order they always had); above, by a partition around the depth-th
    score, equal scores in position order (sorting a million scores would take ~100 ms)."""
    n = len(scores)
    if depth <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= FULL_SORT_MAX:
        return np.argsort(-scores)[:depth]
    if depth >= n:
        return np.argsort(-scores, kind="stable")
    if depth <= np.count_nonzero(scores > 0) < n // 2:   # mostly zeros (a filter's scores): partition degrades on them,
        positive = scores[scores > 0]                       # and the top is positive
        kth = np.partition(positive, len(positive) - depth)[len(positive) - depth]
    else:
        kth = np.partition(scores, n - depth)[n - depth]
    above = np.flatnonzero(scores > kth)
    top = np.concatenate([above, np.flatnonzero(scores == kth)[:depth - len(above)]])
    top.sort()
    return top[np.argsort(-scores[top], kind="stable")]


class CoverageRanker:
    """IDF-weighted share of the question's content words that each passage (with its headings,
    document title and issuer) contains; words the index never saw count fully against it.
    Words typed with diacritics must match as written; words typed without them match folded.
    The province the question names (in `named`) does not count: it says which documents, not
    what in them (the scope boost ranks that province's documents first)."""

    def __init__(self, chunks: list[Chunk], idf: dict[str, float] | None = None):
        self.chunks = chunks
        self.unseen = float(np.log(1 + len(chunks)))
        self.idf = idf if idf is not None else coverage_idf(chunks)

    def words(self, i: int, exact: bool) -> set[str]:
        features = self.chunks[i].features
        return set(features.words_exact if exact else features.words)

    def run(self, query: Query, candidates, named: set[str]) -> Ranking:
        exact = has_diacritics(query.vietnamese)
        province_words = {w for s in named if not s.isdigit() for w in s.split()}
        words = {w for w in content_words(query.vietnamese, exact) if fold(w) not in province_words}
        if not words:
            return {}
        total = sum(self.idf.get(w, self.unseen) for w in words)
        return {i: sum(self.idf[w] for w in words & self.words(i, exact)) / total for i in candidates}


def coverage_idf(chunks: list[Chunk]) -> dict[str, float]:
    """IDF of every content word (folded and as written) over the passages in context."""
    df = Counter(w for c in chunks for words in (set(c.features.words), set(c.features.words_exact)) for w in words)
    return {w: float(np.log(1 + max(1, len(chunks)) / d)) for w, d in df.items()}
