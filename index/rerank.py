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
        needles = [(needle, literal_first(pattern), insensitive) for needle, pattern, insensitive in needles if pattern]
        if not needles:
            return {}
        candidates = None
        for needle, _, _ in needles:
            found = self.postings.candidates(needle) if syllables(needle) else np.arange(len(self.chunks))
            candidates = found if candidates is None else np.intersect1d(candidates, found, assume_unique=True)
        if allowed is not None:
            candidates = np.intersect1d(candidates, np.asarray(allowed, dtype=np.int64), assume_unique=True)
        candidates = np.asarray(candidates, dtype=np.int64)
        in_ranking = np.isin(candidates, np.fromiter(scores, dtype=np.int64, count=len(scores)))
        keep = {i: scores[i] for i in self.matching(candidates[in_ranking], needles)}
        rest, start, wanted = candidates[~in_ranking], 0, self.unranked
        while wanted > 0 and start < len(rest):   # most candidates hold the phrase: a block a little larger than needed
            block = rest[start:start + max(64, wanted + wanted // 4)]
            found = self.matching(block, needles)[:wanted]
            keep.update((i, 0.0) for i in found)
            wanted, start = wanted - len(found), start + len(block)
        return dict(sorted(keep.items()))

    def matching(self, positions: np.ndarray, needles: list) -> list[int]:
        """The positions (ascending) whose literal text holds every needle. Their texts are joined by NUL
        (no pattern matches across it), folded or lowercased at once and each pattern runs once over them."""
        if not len(positions):
            return []
        parts = getattr(self.chunks, "literal_parts", None)
        texts = [" › ".join([*section, text]) for section, text in parts(positions.tolist())] if parts \
            else [literal_text(self.chunks[i]) for i in positions.tolist()]
        joined = "\x00".join(texts)
        if joined.count("\x00") != len(texts) - 1:   # a text holds NUL itself: one by one
            return [int(i) for i, text in zip(positions, texts)
                    if all(pattern.search(fold(text) if insensitive else text.lower()) for _, pattern, insensitive in needles)]
        held = None
        for insensitive in sorted({insensitive for _, _, insensitive in needles}):
            hay, ends = fold_joined(joined) if insensitive else _with_ends(joined.lower())
            for _, pattern, which in needles:
                if which == insensitive:
                    found = set(np.searchsorted(ends, [m.start() for m in pattern.finditer(hay)]).tolist())
                    held = found if held is None else held & found
        return [int(positions[j]) for j in sorted(held)]


_BEFORE, _AFTER = r"(?<!\w)", r"(?!\w)"


def literal_first(pattern: re.Pattern) -> re.Pattern:
    r"""phrase_pattern's `(?<!\w)w1\s+w2(?!\w)` as `w1(?<!\ww1)\s+w2(?!\w)`: the same matches, but the
    pattern starts with a literal, which the regex engine scans for fast (6x on a thousand passages)."""
    source = pattern.pattern
    if not source.startswith(_BEFORE):
        return pattern
    first = source[len(_BEFORE):].split(r"\s+", 1)[0].removesuffix(_AFTER)
    return re.compile(first + r"(?<!\w" + first + ")" + source[len(_BEFORE) + len(first):], pattern.flags)


_FOLDED = np.array([ord(fold(chr(code))) for code in range(0x2000)], dtype=np.uint32)   # fold() of each code point below 0x2000 (it leaves the others)


def _with_ends(text: str, codes: np.ndarray | None = None) -> tuple[str, np.ndarray]:
    """`text` and the positions of its NUL characters."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) if codes is None else codes
    return text, np.flatnonzero(codes == 0)


def fold_joined(text: str) -> tuple[str, np.ndarray]:
    """fold(text) by a table lookup over all its characters at once (the same result, far faster on long
    texts), and the positions of its NUL characters."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
    low = codes < len(_FOLDED)
    codes[low] = _FOLDED[codes[low]]
    return _with_ends(codes.tobytes().decode("utf-32-le"), codes)


def named_scopes(text: str, known: set[str]) -> set[str]:
    """The provinces and years a question names that some document is about."""
    folded = fold(text)
    return {s for s in known if re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", folded)}
