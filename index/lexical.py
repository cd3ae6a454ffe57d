"""Lexical search: BM25 (bm25s) over accent-folded Vietnamese syllables, syllable pairs and document numbers,
and posting lists of folded syllables that narrow phrase and document-number lookups to a few candidates."""
from __future__ import annotations

import json
import math
import re
from array import array
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
            built = LexicalBuilder()
            for text in texts:
                built.add(text)
            self.bm25 = built.finish().bm25

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

    def scores(self, query: str, within: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk for `query` (0 where nothing matches). With `within` (ascending
        positions: a filter's passages) only those are scored and the rest is 0: a token's long posting
        list is searched for them rather than read whole (the same sums, in the same order)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        ids = [self.bm25.vocab_dict[t] for t in tokens(query) if t in self.bm25.vocab_dict]
        scores = np.zeros(self.size, dtype=np.float32)
        matrix = self.bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], np.asarray(matrix["indptr"])   # one element of a numpy.memmap reads slowly
        if within is not None:
            needles = within.astype(indices.dtype)   # searched in the lists' own type (else each list is copied to it)
        for token in ids:   # token by token, in float32, as bm25s.get_scores adds (np.add.at: 2.5x `+=` on NumPy 2)
            start, end = indptr[token], indptr[token + 1]
            if within is None or end - start < 8 * len(within):
                np.add.at(scores, indices[start:end], data[start:end])
            elif end > start:   # ascending positions in each list (compressed columns)
                rows = indices[start:end]
                at = np.minimum(np.searchsorted(rows, needles), end - start - 1)
                found = rows[at] == needles
                np.add.at(scores, within[found], data[start:end][at[found]])
        if within is not None:
            kept = np.zeros_like(scores)
            kept[within] = scores[within]
            return kept
        return scores


def invert(columns: np.ndarray, row_ends: np.ndarray, n_columns: int, out_rows: np.ndarray,
           values=None, out_values: np.ndarray | None = None, batch: int = 1 << 22) -> np.ndarray:
    """Compressed columns from (row, column) pairs given row after row: `columns` holds each row's
    columns, row r ending at `row_ends[r]`. Fills `out_rows` (and `out_values` with `values(rows, positions)`)
    so that column c's rows, ascending, are at starts[c]:starts[c + 1]; returns starts. Works through
    the pairs `batch` at a time, so the outputs can be memory-mapped files far larger than the memory used."""
    counts = np.bincount(columns, minlength=n_columns)
    starts = np.zeros(n_columns + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    del counts
    cursor = starts[:-1].copy()
    for begin in range(0, len(columns), batch):
        end = min(begin + batch, len(columns))
        column = np.asarray(columns[begin:end])
        order = np.argsort(column, kind="stable")   # rows stay ascending within a column
        ordered = column[order]
        dest = cursor[ordered] + (np.arange(len(ordered)) - np.searchsorted(ordered, ordered))
        rows = np.searchsorted(row_ends, np.arange(begin, end), side="right").astype(np.int32)
        out_rows[dest] = rows[order]
        if values is not None:
            out_values[dest] = values(rows, slice(begin, end))[order]
        cursor += np.bincount(column, minlength=n_columns)
    return starts


def _grown(store: array, values) -> None:
    store.frombytes(np.asarray(values, dtype=store.typecode).tobytes())


def _output(folder: Path | None, name: str, dtype, size: int) -> np.ndarray:
    """An array to fill: a .npy file memory-mapped in `folder`, else in memory."""
    if folder is None:
        return np.empty(size, dtype=dtype)
    return np.lib.format.open_memmap(folder / name, mode="w+", dtype=dtype, shape=(size,))


class LexicalBuilder:
    """BM25 built passage by passage: per passage only its token counts are kept (compact arrays), and the
    score matrix is written column by column at the end, straight into bm25s's saved files when given
    a folder. Same scores as bm25s.BM25().index (method "lucene", k1 1.5, b 0.75, float32)."""

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self.columns, self.counts = array("i"), array("f")   # per passage: its distinct tokens and their counts
        self.ends, self.lengths = array("q"), array("q")     # per passage: where its tokens end, how many it has

    def add(self, text: str) -> None:
        ids = np.fromiter((self.vocab.setdefault(token, len(self.vocab)) for token in tokens(text, exact=True) or [""]),
                          dtype=np.int32)
        column, count = np.unique(ids, return_counts=True)
        _grown(self.columns, column)
        _grown(self.counts, count)
        self.ends.append(len(self.columns))
        self.lengths.append(len(ids))

    def finish(self, folder: Path | None = None) -> "LexicalIndex":
        """The index (its arrays written into `folder` with the files bm25s.BM25.load reads, when given)."""
        bm25 = bm25s.BM25()
        size = len(self.lengths)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "size.json").write_text(json.dumps(size))
        if not size:
            return LexicalIndex([], bm25, 0)
        columns = np.frombuffer(self.columns, dtype=np.int32)
        counts = np.frombuffer(self.counts, dtype=np.float32)
        lengths = np.frombuffer(self.lengths, dtype=np.int64)
        df = np.bincount(columns, minlength=len(self.vocab))
        idf = np.array([math.log(1 + (size - d + 0.5) / (d + 0.5)) if d else 0.0 for d in df.tolist()], dtype=np.float32)
        average = lengths.mean()
        k1, b = bm25.k1, bm25.b

        def scores(rows: np.ndarray, at: slice) -> np.ndarray:
            tf = counts[at]
            return idf[columns[at]] * (tf / (k1 * ((1 - b) + b * lengths[rows] / average) + tf))

        indices = _output(folder, "indices.csc.index.npy", np.int32, len(columns))
        data = _output(folder, "data.csc.index.npy", np.float32, len(columns))
        indptr = invert(columns, np.frombuffer(self.ends, dtype=np.int64), len(self.vocab), indices, scores, data)
        vocab = dict(self.vocab)
        vocab.setdefault("", len(vocab))   # what bm25s.index adds
        bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": size}
        bm25.vocab_dict, bm25.unique_token_ids_set = vocab, set(vocab.values())
        if folder is not None:
            for array_ in (indices, data):
                array_.flush()
            np.save(folder / "indptr.csc.index.npy", indptr)
            (folder / "vocab.index.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
            params = dict(k1=bm25.k1, b=bm25.b, delta=bm25.delta, method=bm25.method, idf_method=bm25.idf_method,
                          dtype=bm25.dtype, int_dtype=bm25.int_dtype, num_docs=size, version=bm25s.__version__,
                          backend=bm25.backend)
            (folder / "params.index.json").write_text(json.dumps(params, indent=4))
        return LexicalIndex([], bm25, size)


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
        built = PostingsBuilder()
        for text in texts:
            built.add(text)
        return built.finish()

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


class PostingsBuilder:
    """Posting lists built text by text: each text's distinct keys are kept (a compact array), the lists
    are written at the end (into `folder`, memory-mapped, when given)."""

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self.columns, self.ends = array("i"), array("q")

    def add(self, text: str) -> None:
        _grown(self.columns, np.fromiter({self.vocab.setdefault(key, len(self.vocab)) for key in Postings.keys(syllables(text))},
                                         dtype=np.int32))
        self.ends.append(len(self.columns))

    def finish(self, folder: Path | None = None) -> Postings:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        columns = np.frombuffer(self.columns, dtype=np.int32)
        positions = _output(folder, "positions.npy", np.int32, len(columns))
        starts = invert(columns, np.frombuffer(self.ends, dtype=np.int64), len(self.vocab), positions)
        postings = Postings(self.vocab, starts, positions)
        if folder is not None:
            positions.flush()
            np.save(folder / "starts.npy", starts)
            (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        return postings
