"""Compose an answer from the top passages: the sentence that answers, every document that says it, and other documents' different figures."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from core.document import Chunk
from core.text import YEAR, content_words, years
from index.query import Query
from index.ranking import DEFAULT, RankingConfig
from index.search import Hit

FIGURE = re.compile(r"(?:(?:trên|dưới|khoảng|tối thiểu|tối đa)\s+)?\d+(?:[.,]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?(?:\s*[%‰])?")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[^\s])|\s*\n\s*")   # a line break ends a sentence too
# List markers before a sentence, possibly several ("- (1) ...", "2. a) ..."): never part of what it says.
_LIST_MARKER = re.compile(r"^\s*(?:(?:\(\d+\)|\d+\)|[-–•+*]|[a-zđ]\)|\d+(?:\.\d+)*\.)\s+)+")
_ONLY_MARKER = re.compile(r"\(?\d+(?:\.\d+)*[.)]?|[a-zđ]\)")   # "2." cut off by the sentence split
_MARKER_AFTER = re.compile(r"\)|\.(?!\d)")


@dataclass
class Answer:
    text: str                          # the answering sentence, as written
    figures: list[tuple[int, int]]     # spans of key figures in `text`
    sources: list[Chunk]               # passages that say it (the same line may stand in several documents)
    others: list[tuple[Chunk, str]] = field(default_factory=list)  # other documents' differing statements


def sentences(text: str) -> list[str]:
    """Sentences and semicolon clauses of a passage (a line break ends one: a sentence never runs across
    two lines of a law or a table), list markers removed."""
    pieces = (_LIST_MARKER.sub("", s).strip() for s in _SENTENCE_END.split(text.strip()))
    return [s for s in pieces if s and not _ONLY_MARKER.fullmatch(s)]


def _is_marker(text: str, start: int, end: int) -> bool:
    """A whole number used as a list marker: "(1)", or "1." / "2)" where a line or sentence starts."""
    number = text[start:end]
    if not number.isdigit():
        return False
    if text[start - 1:start] == "(" and text[end:end + 1] == ")":
        return True
    before = text[:start].rstrip(" -–•+*")
    return (not before or before[-1] in ".;\n") and bool(_MARKER_AFTER.match(text, end))


def figures(text: str) -> list[tuple[int, int]]:
    """Spans of the figures a sentence states (list markers are not figures)."""
    return [m.span() for m in FIGURE.finditer(text) if re.search(r"\d", m.group()) and not _is_marker(text, *m.span())]


def figure_values(text: str) -> set[str]:
    """What a sentence's figures say, comparable across documents: "7 - 7,5%" and "7–7,5 %" are the same;
    years are when, not what."""
    values = {re.sub(r"\s+", "", text[s:e]).replace("–", "-") for s, e in figures(text)}
    return {v for v in values if not YEAR.fullmatch(v)}


Closeness = Callable[[list[str]], Sequence[float]]   # sentences -> how close each is to the question, by meaning


def best_sentence(text: str, words: set[str], closeness: Closeness | None = None) -> str:
    """The sentence sharing most query words; among ties, one with a figure, then the first. With
    `closeness`, the sentence closest to the question by meaning (for a question in another language
    than the documents, whose words only meet the text through the glossary)."""
    options = sentences(text) or [text]
    if closeness is not None and len(options) > 1:
        close = list(closeness(options))
        return options[max(range(len(options)), key=lambda i: (close[i], -i))]
    return max(options, key=lambda s: (len(words & content_words(s)), bool(figures(s)), -options.index(s)))


def statement_years(sentence: str, chunk: Chunk) -> set[str]:
    """The years a statement is about: those it names, else those of its headings, else its document's."""
    return years(sentence) or years(" ".join(chunk.section)) or {w for w in chunk.features.scope if YEAR.fullmatch(w)}


@dataclass
class _Statement:
    hit: Hit
    sentence: str
    values: set[str]
    sources: list[Chunk]


def answer(query: Query, hits: list[Hit], config: RankingConfig = DEFAULT, closeness: Closeness | None = None) -> Answer | None:
    """The answering sentence of the best passage (picked by `closeness` when given, else by the
    question's words) with every document that states it, plus passages of other documents that state
    the same indicator for the same year with a different figure. None without hits. Whether the best
    passage answers at all is decided before (index.decision).

    When documents disagree, the statement put first is the one whose document is about the province
    and year the question names, else the one the most documents state (ties keep the retrieval order)."""
    if not hits:
        return None
    words = content_words(query.vietnamese)
    first = hits[0]
    text = best_sentence(first.chunk.text, words, closeness)
    indicator = (content_words(text) & words) or content_words(text)
    target = years(query.text) or statement_years(text, first.chunk)
    statements = [_Statement(first, text, figure_values(text), [first.chunk, *first.also_in])]
    cited = {c.doc_id for c in statements[0].sources}
    for hit in hits[1:]:
        if hit.chunk.doc_id in cited or not indicator:
            continue
        candidate = best_sentence(hit.chunk.text, indicator)
        values = figure_values(candidate)
        overlap = len(indicator & content_words(candidate)) / len(indicator)
        if overlap < config.min_conflict_overlap or not values:
            continue
        if target and not target & statement_years(candidate, hit.chunk):
            continue   # the same indicator for another year (a 2025 target is no conflict for 2024)
        same = next((s for s in statements if s.values == values), None)
        if same is not None:   # the same figure in another document: one more source, not a conflict
            same.sources += [hit.chunk, *hit.also_in]
        else:
            statements.append(_Statement(hit, candidate, values, [hit.chunk, *hit.also_in]))
        cited |= {hit.chunk.doc_id, *(c.doc_id for c in hit.also_in)}
    lead = max(statements, key=lambda s: (s.hit.scope, len(s.sources), -statements.index(s)))
    others = [(s.hit.chunk, s.sentence) for s in statements if s is not lead]
    return Answer(text=lead.sentence, figures=figures(lead.sentence), sources=lead.sources, others=others)
