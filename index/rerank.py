"""Steps applied to the fused ranking, in order: recipients lists down, named scope and expected kind up,
the signature block first for "who signed", and the literal filter for quoted phrases and document numbers."""
from __future__ import annotations

import re

from core.document import Chunk
from core.text import phrase_pattern
from core.vietnamese import fold
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


class LiteralFilter:
    """Keep only passages containing every quoted phrase (and, in number mode, document number), in
    their text or their section path ("Điều 2" names the clauses under it); passages that contain
    them but were in no ranking are kept with score 0. Nothing to look for: nothing qualifies."""

    def __init__(self, chunks: list[Chunk]):
        self.texts = [" › ".join([*c.section, c.text]) for c in chunks]

    def run(self, scores: Ranking, query: Query, accent_insensitive: bool, allowed: list[int] | None) -> Ranking:
        needles = [(phrase_pattern(p, accent_insensitive), accent_insensitive) for p in query.phrases]
        needles += [(phrase_pattern(n), True) for n in query.numbers]
        needles = [(pattern, insensitive) for pattern, insensitive in needles if pattern]
        if not needles:
            return {}
        keep = {}
        for i in (allowed if allowed is not None else range(len(self.texts))):
            text = self.texts[i]
            folded, lowered = fold(text), text.lower()
            if all(pattern.search(folded if insensitive else lowered) for pattern, insensitive in needles):
                keep[i] = scores.get(i, 0.0)
        return keep


def named_scopes(text: str, known: set[str]) -> set[str]:
    """The provinces and years a question names that some document is about."""
    folded = fold(text)
    return {s for s in known if re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", folded)}
