"""Text functions shared by indexing, search, answers and the app: meaningful words, phrases, highlights, passage identity."""
from __future__ import annotations

import re

from core.vietnamese import fold, normalize

STOPWORDS = {fold(w) for w in (
    "là bao nhiêu gì nào của năm có được không ai khi những các và trong về cho theo với này đó thì mà "
    "như thế nào đâu ở tại bởi do sẽ đã đang hãy phải mục tiêu chỉ tiêu mấy").split()}
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CONTENT = re.compile(r"[^\W\d_]+|" + YEAR.pattern)


def canonical_query(text: str) -> str:
    """One spelling for one typed question, for the answer cache and search: NFC, one tone-mark placement
    ("hoà" -> "hòa", "thuỷ" -> "thủy"), whitespace collapsed to single spaces; case and diacritics kept."""
    return " ".join(normalize(text).split())


def content_words(text: str, exact: bool = False) -> set[str]:
    """Words that carry meaning (no stopwords, no one-letter words) and years: folded, or with
    `exact` as written (lowercase), so "lương" (salary) does not count as "lượng" (quantity)."""
    words = _CONTENT.findall(text.lower() if exact else fold(text))
    return {w for w in words if fold(w) not in STOPWORDS and len(w) > 1}


def years(text: str) -> set[str]:
    return set(YEAR.findall(text))


def phrase_pattern(needle: str, accent_insensitive: bool = True) -> re.Pattern | None:
    """A pattern for `needle` as whole words with any spacing, to run on fold(text) (or on
    text.lower() when accents must match); None when `needle` has no words."""
    pin = fold(needle) if accent_insensitive else normalize(needle).lower()
    words = [re.escape(w) for w in pin.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)") if words else None


def find_spans(text: str, needle: str, accent_insensitive: bool = True) -> list[tuple[int, int]]:
    """Where `needle` occurs in `text` as whole words, ignoring case, spacing and (optionally) accents.
    Offsets index `text` itself (folding keeps one character per character)."""
    pattern = phrase_pattern(needle, accent_insensitive)
    hay = fold(text) if accent_insensitive else text.lower()
    return [m.span() for m in pattern.finditer(hay)] if pattern else []


def term_pattern(phrases: list[str], text: str) -> re.Pattern | None:
    """One pattern for quoted phrases and the meaningful words of `text` (folded), for highlighting."""
    terms = [fold(p) for p in phrases]
    terms += [t for t in set(re.findall(r"[\w./-]+", fold(text))) if len(t) > 1 and t not in STOPWORDS]
    if not terms:
        return None
    alternatives = sorted({r"\s+".join(map(re.escape, t.split())) for t in terms}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def term_spans(text: str, pattern: re.Pattern | None) -> list[tuple[int, int]]:
    """Spans of a term pattern's matches in `text`, merged, for highlighting."""
    return merge_spans([m.span() for m in pattern.finditer(fold(text))]) if pattern else []


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def passage_key(text: str) -> str:
    """Passage identity across documents: folded words without list markers ("(16)", "- ")."""
    text = re.sub(r"^\s*(?:\(\d+\)|[-–•+]|\d+(?:\.\d+)*\.?)\s*", "", text)
    return " ".join(re.findall(r"\w+", fold(text)))
