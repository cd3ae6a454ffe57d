"""A question in its conversation: a follow-up read with the previous question's topic, and how sure an answer is."""
from __future__ import annotations

import re
from typing import Iterable

from core.text import STOPWORDS, YEAR, content_words
from core.vietnamese import fold, has_diacritics, normalize
from index.lexical import DOC_NUMBER

# Words of a follow-up that ask nothing by themselves ("Còn Bắc Giang thì sao?", "What about 2025?"), folded.
FOLLOW_WORDS = STOPWORDS | set(
    "con the sao vay ra nua tinh thanh pho doi dia ban dat ".split()
    + "what about how and for in of at then year province city document plan resolution is was the it".split())
DOC_KINDS = ("nghi quyet", "ke hoach", "chuong trinh hanh dong", "quyet dinh", "chi thi", "bao cao", "thong bao",
             "ket luan", "cong van", "luat", "nghi dinh", "thong tu")
ENGLISH = set("what which how who when where is are was were of in for does did target rate about".split())
# The question's ending ("là bao nhiêu?", "?") after which nothing names a place or a year; folded.
_TAIL = re.compile(r"\s*(?:(?<!\w)(?:(?:la|dat|duoc|co)\s+)?(?:bao nhieu|gi|ai|nhu the nao|the nao|ra sao|khi nao|"
                   r"ngay nao|nam nao|o dau|khong|chua)(?!\w))?\s*[?.!]*\s*$")
_RELATIVE = {"nam sau": 1, "nam toi": 1, "next year": 1, "nam truoc": -1, "nam ngoai": -1, "last year": -1}


def _names(folded: str, names: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, name) of each name found in a folded text, as whole words."""
    found = []
    for name in names:
        words = fold(name).split()
        if words:
            pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)"
            found += [(m.start(), m.end(), name) for m in re.finditer(pattern, folded)]
    return sorted(found)


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _insert(topic: str, phrase: str) -> str:
    """`phrase` after the topic's words, before its question ending ("... của Bắc Giang là bao nhiêu?")."""
    at = _TAIL.search(fold(topic)).start()
    return f"{topic[:at].rstrip()} {phrase}{topic[at:]}"


def _replace(text: str, spans: list[tuple[int, int, str]], new: str) -> str:
    for start, end, _ in reversed(spans):
        text = text[:start] + new + text[end:]
    return text


def follow_up(previous: str, question: str, known_provinces: Iterable[str]) -> str | None:
    """The question a follow-up asks, read with the previous question's topic: "Còn Bắc Giang thì sao?" after
    "Tỷ lệ che phủ rừng năm 2024 là bao nhiêu?" is "Tỷ lệ che phủ rừng năm 2024 của Bắc Giang là bao nhiêu?".
    A follow-up names a province (one of `known_provinces`, with or without diacritics), a year ("năm 2025",
    "năm sau") or a document (a number such as 43-NQ/TW, a kind such as "kế hoạch") and at most one other word
    that says what is asked. None when `question` is not a follow-up (it asks something of its own)."""
    previous, question = normalize(previous or "").strip(), normalize(question or "").strip()
    if not previous or not question:
        return None
    folded = fold(question)
    provinces = _names(folded, known_provinces)
    years = [(m.start(), m.end(), m.group()) for m in YEAR.finditer(folded)]
    shifts = [(m.start(), m.end(), key) for key in _RELATIVE for m in re.finditer(rf"(?<!\w){key}(?!\w)", folded)]
    docs = [(m.start(), m.end(), question[m.start():m.end()]) for m in DOC_NUMBER.finditer(folded)]
    docs += [(s, e, question[s:e]) for s, e, _ in _names(folded, DOC_KINDS)]
    named = provinces + years + shifts + docs
    if not named or (named == shifts and not YEAR.search(previous)):
        return None   # nothing named, or "năm sau" after a question without a year
    rest = re.findall(r"[^\W\d_]+", _blank(folded, [(s, e) for s, e, _ in named]))
    if len([w for w in rest if w not in FOLLOW_WORDS and len(w) > 1]) > 1:
        return None   # it says what it asks about: a question of its own
    plain = not has_diacritics(previous)
    english = plain and bool(set(fold(previous).split()) & ENGLISH)
    topic, before = previous, fold(previous)
    if provinces:
        name = provinces[0][2]
        name = fold(name) if plain and not english else name
        old = _names(before, known_provinces)
        topic = _replace(topic, old, name) if old else _insert(topic, f"{'in' if english else 'cua' if plain else 'của'} {name}")
    old_years = [(m.start(), m.end(), m.group()) for m in YEAR.finditer(fold(topic))]
    year = years[0][2] if years else str(int(old_years[0][2]) + _RELATIVE[shifts[0][2]]) if shifts and old_years else None
    if year:
        topic = _replace(topic, old_years, year) if old_years else _insert(topic, f"{'in' if english else 'nam' if plain else 'năm'} {year}")
    if docs:
        named_doc = question[min(s for s, _, _ in docs):max(e for _, e, _ in docs)]
        topic = _insert(topic, f"{'in' if english else 'theo'} {named_doc}")
    return topic


LEVELS = ("high", "medium", "low", "none")
# Probability that the documents answer (SearchResponse.answer_probability, calibrated by bench/decision.py) at or
# above which an answer is "high" or "medium": 9 in 10 and 3 in 4 such answers are answerable.
HIGH, MEDIUM = 0.9, 0.75


def confidence(response: dict) -> str:
    """How sure an answer is, in words, from the engine's own decision: "none" when nothing answers; "high" or
    "medium" when the calibrated probability that the documents answer is at or above HIGH or MEDIUM, else "low";
    an answer decided without the model (a quoted phrase found literally) is "high". `response` is a search
    response as a dict."""
    if not response.get("answer"):
        return "none"
    p = response.get("answer_probability")
    if p is None:
        return "high"
    return "high" if p >= HIGH else "medium" if p >= MEDIUM else "low"
