"""Lexical search: BM25 (bm25s) over accent-folded Vietnamese syllables, syllable pairs and document numbers,
and posting lists of folded syllables that narrow phrase and document-number lookups to a few candidates."""
from __future__ import annotations

import json
import re
from pathlib import Path

import bm25s
import numpy as np

from core.vietnamese import fold, has_diacritics

# "43-NQ/TW", "236/QĐ-TTg", "04-CTr/TU" (folded: "43-nq/tw", "236/qd-ttg") stay whole tokens.
DOC_NUMBER = re.compile(r"\b\d+[a-z]*(?:[-/][a-z0-9]+)*[-/][a-z][a-z0-9]*(?:[-/][a-z0-9]+)*\b")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SYLLABLE = re.compile(r"[^\W_]+")


def doc_numbers(text: str) -> list[str]:
    """Document numbers in a text, folded ("43-NQ/TW" -> "43-nq/tw")."""
    return DOC_NUMBER.findall(fold(text))


def tokens(text: str, exact: bool | None = None) -> list[str]:
    """Folded syllables, folded syllable pairs ("che_phu"), whole numbers and document numbers.

    With `exact` (default: when the text has diacritics) the syllables as written are added too
    ("=phủ"), so a query typed with diacritics prefers "phủ" over "phú" while still matching both.
    """
    folded = fold(text)
    syllables = SYLLABLE.findall(folded)
    out = syllables + [f"{a}_{b}" for a, b in zip(syllables, syllables[1:])]
    out += [n for n in NUMBER.findall(folded) if not n.isdigit()] + DOC_NUMBER.findall(folded)
    if exact if exact is not None else has_diacritics(text):
        out += ["=" + w for w in SYLLABLE.findall(text.lower())]
    return out


class LexicalIndex:
    """BM25 over chunk texts. Built when an index is saved and memory-mapped when it is loaded."""

    def __init__(self, texts: list[str], bm25: bm25s.BM25 | None = None, size: int | None = None):
        self.size = len(texts) if size is None else size
        self.bm25 = bm25 or bm25s.BM25()
        if texts and bm25 is None:
            vocab: dict[str, int] = {}   # token ids as compact arrays: a million passages' tokens fit in memory
            ids = [np.fromiter((vocab.setdefault(token, len(vocab)) for token in tokens(t, exact=True) or [""]), dtype=np.int32)
                   for t in texts]
            self.bm25.index((ids, vocab), show_progress=False)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self.bm25.save(str(folder), show_progress=False)
        (folder / "size.json").write_text(json.dumps(self.size))

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        size = json.loads((folder / "size.json").read_text())
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False) if size else None
        return cls([], bm25, size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (0 where nothing matches)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        ids = [self.bm25.vocab_dict[t] for t in tokens(query) if t in self.bm25.vocab_dict]
        scores = np.zeros(self.size, dtype=np.float32)
        matrix = self.bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        for token in ids:   # bm25s.get_scores adds with np.add.at; a token's passages are distinct, so += is the same sum, faster
            start, end = indptr[token], indptr[token + 1]
            scores[indices[start:end]] += data[start:end]
        return scores


def syllables(text: str) -> list[str]:
    """The folded syllables of a text, in order ("Điều 2" -> ["dieu", "2"])."""
    return SYLLABLE.findall(fold(text))


class Postings:
    """For each folded syllable and pair of adjacent syllables, the sorted positions of the texts that have it.
    A text in which a phrase occurs as whole words has all the phrase's syllables and adjacent pairs, so
    their intersection holds every text that can match (a superset: the phrase itself is checked after)."""

    def __init__(self, vocab: dict[str, int], starts: np.ndarray, positions: np.ndarray):
        self.vocab, self.starts, self.positions = vocab, starts, positions

    @staticmethod
    def keys(words: list[str]) -> list[str]:
        return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]

    @classmethod
    def build(cls, texts) -> "Postings":
        vocab: dict[str, int] = {}
        per_text = [np.fromiter({vocab.setdefault(key, len(vocab)) for key in cls.keys(syllables(text))}, dtype=np.int32)
                    for text in texts]
        columns = np.concatenate(per_text) if per_text else np.zeros(0, dtype=np.int32)
        rows = np.repeat(np.arange(len(per_text), dtype=np.int32), [len(ids) for ids in per_text])
        del per_text
        order = np.argsort(columns, kind="stable")   # rows stay ascending within a column
        positions = rows[order]
        starts = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(columns, minlength=len(vocab)), out=starts[1:])
        return cls(vocab, starts, positions)

    def get(self, key: str) -> np.ndarray:
        column = self.vocab.get(key)
        if column is None:
            return np.zeros(0, dtype=np.int32)
        return self.positions[self.starts[column]:self.starts[column + 1]]

    def candidates(self, needle: str) -> np.ndarray:
        """Sorted positions of the texts holding every syllable and adjacent pair of `needle`."""
        lists = sorted((self.get(key) for key in set(self.keys(syllables(needle)))), key=len)
        if not lists:
            return np.zeros(0, dtype=np.int32)
        found = np.asarray(lists[0])
        for more in lists[1:]:
            if not len(found):
                break
            at = np.minimum(np.searchsorted(more, found), len(more) - 1)
            found = found[more[at] == found]
        return found

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "starts.npy", self.starts)
        np.save(folder / "positions.npy", self.positions)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Postings":
        return cls(json.loads((folder / "vocab.json").read_text(encoding="utf-8")),
                   np.load(folder / "starts.npy", mmap_mode="r"), np.load(folder / "positions.npy", mmap_mode="r"))
