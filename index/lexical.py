"""Lexical search: BM25 (bm25s) over accent-folded Vietnamese syllables, syllable pairs and document numbers."""
from __future__ import annotations

import re

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
    """BM25 over chunk texts. Built in memory from the chunks when an index is loaded (it is derived data)."""

    def __init__(self, texts: list[str]):
        self.size = len(texts)
        self.bm25 = bm25s.BM25()
        if texts:
            self.bm25.index([tokens(t, exact=True) or [""] for t in texts], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (0 where nothing matches)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        query_tokens = [t for t in tokens(query) if t in self.bm25.vocab_dict]
        if not query_tokens:
            return np.zeros(self.size, dtype=np.float32)
        return self.bm25.get_scores(query_tokens)
