"""Steps applied to the fused ranking, in order: recipients lists down, named scope and expected kind up,
the signature block first for "who signed", and the literal filter for quoted phrases and document numbers."""
from __future__ import annotations

import re

import numpy as np

from core.document import Chunk
from core.text import phrase_pattern
from core.vietnamese import fold
from index.lexical import Postings, syllables
from index.query import Query
from index.retrieve import Ranking


def penalise_asides(scores: Ranking, chunks: list[Chunk], factor: float) -> Ranking:
    """Passages of a recipients list ("Nơi nhận") count `factor` of their score."""
    return {i: s * (factor if chunks[i].features.aside else 1.0) for i, s in scores.items()}


def boost_scope(scores: Ranking, chunks: list[Chunk], named: set[str], factor: float) -> Ranking:
    """× `factor` per province or year the question names that the passage's document is about."""
    if not named:
        return scores
    return {i: s * factor ** len(named.intersection(chunks[i].features.scope)) for i, s in scores.items()}


def boost_kind(scores: Ranking, chunks: list[Chunk], expects: str | None, factor: float) -> Ranking:
    """× `factor` for a passage of the kind the question asks for (a figure, a date, a signature)."""
    if not expects:
        return scores
    return {i: s * (factor if expects in chunks[i].features.kinds else 1.0) for i, s in scores.items()}


def signature_first(scores: Ranking, chunks: list[Chunk], signatures: dict[str, int], pool: int,
                    margin: float) -> Ranking:
    """"Who signed X?": the signature block of the best-ranked document (among the top `pool`) that has
    one goes first, `margin` above the best score. `signatures` maps document id -> its signature chunk."""
    if not scores:
        return scores
    best = max(scores.values())
    for i in sorted(scores, key=lambda i: -scores[i])[:pool]:
        signature = signatures.get(chunks[i].doc_id)
        if signature is not None:
            return {**scores, signature: best * margin}
    return scores


def literal_text(chunk: Chunk) -> str:
    """What the literal filter looks in: the section path and the passage."""
    return " › ".join([*chunk.section, chunk.text])


class LiteralFilter:
    """Keep only passages containing every quoted phrase (and, in number mode, document number), in
    their text or their section path ("Điều 2" names the clauses under it); passages that contain
    them but were in no ranking are kept with score 0. Nothing to look for: nothing qualifies.
    Candidates come from posting lists of folded syllables; the phrase itself is checked on them only.
    Of the passages in no ranking, the first `unranked` (in index order) are kept: they all score 0
    and come last, after every ranked one."""

    def __init__(self, chunks: list[Chunk], postings: Postings | None = None, unranked: int = 1000):
        self.chunks, self.unranked = chunks, unranked
        self.postings = postings if postings is not None else Postings.build(literal_text(c) for c in chunks)

    def run(self, scores: Ranking, query: Query, accent_insensitive: bool, allowed: list[int] | None) -> Ranking:
        needles = [(p, phrase_pattern(p, accent_insensitive), accent_insensitive) for p in query.phrases]
        needles += [(n, phrase_pattern(n), True) for n in query.numbers]
        needles = [(needle, pattern, insensitive) for needle, pattern, insensitive in needles if pattern]
        if not needles:
            return {}
        candidates = None
        for needle, _, _ in needles:
            found = self.postings.candidates(needle) if syllables(needle) else np.arange(len(self.chunks))
            candidates = found if candidates is None else np.intersect1d(candidates, found, assume_unique=True)
        if allowed is not None:
            candidates = np.intersect1d(candidates, np.asarray(allowed, dtype=np.int64), assume_unique=True)
        keep, unranked = {}, 0
        for i in candidates.tolist():
            ranked = i in scores
            if not ranked and unranked >= self.unranked:
                continue
            text = literal_text(self.chunks[i])
            folded, lowered = fold(text), text.lower()
            if all(pattern.search(folded if insensitive else lowered) for _, pattern, insensitive in needles):
                keep[i] = scores.get(i, 0.0)
                unranked += not ranked
        return keep


def named_scopes(text: str, known: set[str]) -> set[str]:
    """The provinces and years a question names that some document is about."""
    folded = fold(text)
    return {s for s in known if re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", folded)}
