"""The public shapes of search results, answers and citations: one set of pydantic models for the engine, the CLI's JSON, the REST API and the UI."""
from __future__ import annotations

from pydantic import BaseModel, Field

Span = tuple[int, int]


class DocRef(BaseModel):
    """What a citation says about the document a passage comes from."""

    id: str = Field(description="stable document id (from its source path)")
    title: str = Field(description="title, or the file name when none was found")
    type: str | None = Field(None, description="'Nghị quyết', 'Kế hoạch', 'Luật', ...")
    issuer: str | None = Field(None, description="issuing body")
    date: str | None = Field(None, description="date issued or adopted, ISO yyyy-mm-dd")
    province: str | None = None
    path: str = Field(description="source key, e.g. 'corpus/000_40b5a0639ebd00a3.txt'")
    number: str | None = Field(None, description="document number, e.g. '43-NQ/TW'")
    signer: str | None = None


class Citation(BaseModel):
    """Where a passage stands: document, section path, line span (of the document's text) and page."""

    doc: DocRef
    section: str = Field(description="heading path, ' › '-separated")
    line_start: int
    line_end: int
    page: int | None = None
    text: str = Field(description="the passage as it reads in the document")
    quote: str = Field(description="a Vietnamese reference ready to paste")


class OtherFigure(Citation):
    """Another document stating the same indicator with a different figure."""

    statement: str = Field(description="the sentence that states it")


class Answer(BaseModel):
    text: str = Field(description="the answering sentence, as written in the document")
    figures: list[Span] = Field(description="character spans of the key figures in `text`")
    citations: list[Citation] = Field(description="every document that states it; the first is the one quoted")
    other_figures: list[OtherFigure] = Field(description="other documents' differing figures for the same indicator")


class Result(BaseModel):
    rank: int
    score: float
    text: str
    doc: DocRef
    section: str
    line_start: int
    line_end: int
    page: int | None = None
    chunk_id: str
    highlights: list[Span] = Field(description="character spans of the query's words in `text`")
    dense: float | None = Field(None, description="cosine of the question and the passage (smart mode)")
    also_in: list[Citation] = Field(description="the same passage in other documents")
    quote: str
    answers: bool = Field(False, description="this passage states the answer (false for every result when nothing answers:"
                                             " they are the closest passages, not an answer)")


class NotCovered(BaseModel):
    """What the question names that no indexed document (within the filters) is about."""

    provinces: list[str] = Field(default_factory=list, description="provinces no document is about, e.g. 'Hà Giang'")
    years: list[str] = Field(default_factory=list, description="years no passage mentions")
    numbers: list[str] = Field(default_factory=list, description="document numbers neither indexed nor cited")


class SearchResponse(BaseModel):
    query: str
    lang: str = Field(description="'vi', 'vi_nodiac' or 'en'")
    restored: str | None = Field(None, description="the query with its diacritics restored, when typed without")
    took_ms: float
    answer: Answer | None = Field(description="null when nothing in the corpus answers; `results` still lists the closest passages")
    answer_probability: float | None = Field(None, description="calibrated probability that the top passage answers"
                                             " (index/decision.py); null when decided without the model")
    no_answer_reason: str | None = Field(None, description="why nothing answers, in one line")
    not_covered: NotCovered = Field(default_factory=NotCovered)
    results: list[Result]
