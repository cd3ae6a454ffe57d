"""Answer from the top passages: the sentence that answers, its sources, other documents' figures, or "no answer"."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.document import Chunk
from core.text import content_words
from index.query import Query
from index.ranking import DEFAULT, RankingConfig
from index.search import Hit

FIGURE = re.compile(r"(?:(?:trên|dưới|khoảng|tối thiểu|tối đa)\s+)?\d+(?:[.,]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?\s*(?:%|‰)?")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[^\s])")
_LIST_MARKER = re.compile(r"^\s*(?:\(\d+\)|[-–•+]|[a-zđ]\)|\d+(?:\.\d+)*\.?)\s+")


@dataclass
class Answer:
    text: str                          # the answering sentence, as written
    figures: list[tuple[int, int]]     # spans of key figures in `text`
    sources: list[Chunk]               # passages that say it (the same line may stand in several documents)
    others: list[tuple[Chunk, str]] = field(default_factory=list)  # other documents' differing statements


def sentences(text: str) -> list[str]:
    """Sentences and semicolon clauses of a passage, list markers removed."""
    text = _LIST_MARKER.sub("", text).strip()
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def figures(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in FIGURE.finditer(text) if re.search(r"\d", m.group())]


def figure_values(text: str) -> set[str]:
    return {re.sub(r"\s+", "", m.group()) for m in FIGURE.finditer(text) if re.search(r"\d", m.group())}


def best_sentence(text: str, words: set[str]) -> str:
    """The sentence sharing most query words; among ties, one with a figure, then the first."""
    options = sentences(text) or [text]
    return max(options, key=lambda s: (len(words & content_words(s)), bool(figures(s)), -options.index(s)))


def is_answerable(query: Query, top: Hit, config: RankingConfig = DEFAULT) -> bool:
    """The best passage answers when it holds enough of the question's words (IDF-weighted coverage)
    or is close enough in meaning (cosine); thresholds in RankingConfig."""
    if query.phrases:
        return True    # every hit holds the quoted words literally (index.rerank.LiteralFilter)
    if top.missing_years:
        return False   # "... in 2019?" and neither the passage nor its document is about 2019
    return top.coverage >= config.min_coverage or (top.dense or 0.0) >= config.min_cosine[query.lang]


def answer(query: Query, hits: list[Hit], config: RankingConfig = DEFAULT) -> Answer | None:
    """The answering sentence of the best passage with all its sources, plus passages in other
    documents that state the same indicator with different figures. None when nothing answers.

    When documents disagree, the statement put first is the one whose document is about the
    province and year the question names, else the one the most documents state (ties keep the
    retrieval order)."""
    if not hits or not is_answerable(query, hits[0], config):
        return None
    words = content_words(query.vietnamese)
    text = best_sentence(hits[0].chunk.text, words)
    indicator = (content_words(text) & words) or content_words(text)
    values = figure_values(text)
    statements = [(hits[0], text)]
    cited = {c.doc_id for c in [hits[0].chunk, *hits[0].also_in]}
    for hit in hits[1:]:
        if hit.chunk.doc_id in cited or not indicator:
            continue
        candidate = best_sentence(hit.chunk.text, indicator)
        overlap = len(indicator & content_words(candidate)) / len(indicator)
        if overlap >= config.min_conflict_overlap and figure_values(candidate) and figure_values(candidate) != values:
            statements.append((hit, candidate))
            cited |= {c.doc_id for c in [hit.chunk, *hit.also_in]}
    lead = max(statements, key=lambda s: (s[0].scope, 1 + len(s[0].also_in), -statements.index(s)))
    others = [(hit.chunk, sentence) for hit, sentence in statements if hit is not lead[0]]
    hit, text = lead
    return Answer(text=text, figures=figures(text), sources=[hit.chunk, *hit.also_in], others=others)
