"""The public engine API the CLI, the app and the REST API use: load an index, search and answer (typed results), update the index."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from core.document import Chunk, Document, Metadata
from core.text import canonical_query, term_pattern, term_spans
from index import store
from index.answer import Answer, Closeness, answer
from index.answer import figures as figure_spans
from index import build
from index.build import Summary, source_sha
from index.conversation import LEVELS, confidence, follow_up
from index.decision import Decision, for_model
from index.embed import load_embedder
from index.embed.base import Embedder
from index.embed.memo import remembering
from index.lexical import doc_numbers
from index.ranking import RankingConfig
from index.ranking import for_model as ranking_for
from index.results import Citation, DocRef, NotCovered, OtherFigure, Result, SearchResponse
from index.results import Answer as AnswerOut
from index.query import Query
from index.search import MODES, Filters, Hit, Searcher
from index.pg import is_url
from index.store import IndexMissing, ModelMismatch
from ingest.metadata import sidecar_path
from ingest.readers import READERS, ReadError

# The public API: the CLI (python -m ingest / python -m index) and web/ import from here only.
__all__ = ["Engine", "Filters", "MODES", "SearchResponse", "Document", "Metadata", "Summary", "ingest", "source_sha",
           "load_embedder", "embedder_for", "IndexMissing", "ModelMismatch", "ReadError", "index_dir", "writer_lock", "live_version",
           "indexed_documents", "sidecar_path", "supported_types", "format_date", "doc_ref", "figure_spans", "MAX_QUERY",
           "follow_up", "confidence", "LEVELS", "canonical_query"]
MAX_QUERY = 1000   # characters; a question is a sentence or two, a pasted clause at most


def supported_types() -> list[str]:
    """File name endings a reader exists for (".txt", ".pdf", ...)."""
    return sorted(READERS)


def index_dir(path: str | Path | None = None) -> Path | str:
    """Where the index is: --index-dir or --index-url, else $INDEX_URL (a postgresql:// URL, kept as a
    string), else $INDEX_DIR, else .index/ in the project folder."""
    path = path if path is not None else os.environ.get("INDEX_URL") or None
    return str(path) if is_url(str(path)) else store.index_dir(path)


def writer_lock(path: str | Path | None = None):
    """One writer at a time per index folder or database (ingest, app uploads); readers never wait."""
    location = index_dir(path)
    if is_url(location):
        from index.pg.ingest import writer_lock as pg_writer_lock
        return pg_writer_lock(location)
    return store.writer_lock(location)


def ingest(paths: list[Path], embedder: Embedder, index_path: str | Path | None = None, **options) -> Summary:
    """Bring the index (folder or database) up to date with `paths`: index/build.py's ingest, or index/pg's."""
    location = index_dir(index_path)
    if is_url(location):
        from index.pg.ingest import ingest as pg_ingest
        return pg_ingest(paths, embedder, location, **options)
    return build.ingest(paths, embedder, location, **options)


def live_version(path: str | Path | None = None) -> str | None:
    """The name of the live index version in an index folder or database, None when there is none."""
    location = index_dir(path)
    if is_url(location):
        from index.pg.search import live_version as pg_live_version
        return pg_live_version(location)
    try:
        return store.current(location)
    except IndexMissing:
        return None


def indexed_documents(path: str | Path | None = None) -> dict[str, Document]:
    """The documents of the live index version (empty when there is none), without loading a model."""
    location = index_dir(path)
    try:
        if is_url(location):
            from index.pg.search import open_index
            return open_index(location).documents
        return store.load(location).documents
    except IndexMissing:
        return {}


def index_model(path: str | Path | None = None) -> tuple[str, str | None] | None:
    """(model id, backend) that built the live index in `path`, None when there is none (reads its manifest only)."""
    root = index_dir(path)
    if is_url(root):
        from index.pg.search import index_model as pg_index_model
        return pg_index_model(root)
    try:
        manifest = store.manifest(root)
    except (IndexMissing, OSError, ValueError):
        return None
    return (manifest["model"], manifest.get("backend")) if manifest.get("model") else None


def embedder_for(path: str | Path | None = None, model: str | None = None, backend: str | None = None) -> Embedder:
    """The model to search and update the index in `path` with: `model` (or $EMBED_MODEL) when one is named,
    else the model that built the index (an index built before the default changed keeps working), else the
    default model (index.embed.load_embedder)."""
    if not (model or os.environ.get("EMBED_MODEL")):
        built = index_model(path)
        if built:
            model, backend = built[0], backend or os.environ.get("EMBED_BACKEND") or built[1]
    return load_embedder(model, backend)


def format_date(iso: str | None) -> str | None:
    """"2023-12-06" -> "06/12/2023", the way Vietnamese documents write dates."""
    if not iso or len(iso) != 10:
        return iso
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def doc_ref(doc: Document) -> DocRef:
    meta = doc.meta
    return DocRef(id=doc.id, title=meta.title or Path(doc.source).name, type=meta.type, issuer=meta.issuer,
                  date=meta.date, province=meta.province, path=doc.source, number=meta.number, signer=meta.signer)


def quotable(doc: Document, chunk: Chunk) -> str:
    """A Vietnamese reference a journalist can paste: type, number, issuer, date, section, lines."""
    meta = doc.meta
    parts = [meta.title or Path(doc.source).name]
    if meta.number:
        parts[0] = f"{meta.type or 'Văn bản'} số {meta.number} {(meta.subject or '').strip()}".strip()
    if meta.issuer:
        parts.append(f"của {meta.issuer}")
    if meta.date:
        parts.append(("thông qua ngày " if meta.date_kind == "adopted" else "ngày ") + format_date(meta.date))
    where = [chunk.section_path] if chunk.section else []
    where.append(f"dòng {chunk.line_start}" + (f"-{chunk.line_end}" if chunk.line_end != chunk.line_start else ""))
    if chunk.page:
        where.append(f"trang {chunk.page}")
    return ", ".join(parts) + " (" + "; ".join(where) + ")"


class Engine:
    """One loaded index and the model to query it. `reload()` picks up a newer version on disk."""

    def __init__(self, index_dir: str | Path | None = None, embedder: Embedder | None = None,
                 config: RankingConfig | None = None, decision: Decision | None = None):
        self.index_dir = index_dir
        self.embedder = remembering(embedder or embedder_for(index_dir))
        self.config = config or ranking_for(self.embedder.model_id)
        self.decision = decision or for_model(self.embedder.model_id)
        self.reload()

    def reload(self) -> None:
        location = index_dir(self.index_dir)
        if is_url(location):   # PostgreSQL + pgvector: retrieval in SQL, the same ranking stages
            from index.pg.search import Searcher as PgSearcher
            from index.pg.search import open_index
            self.snapshot = open_index(location)
            self.searcher = PgSearcher(self.snapshot, self.embedder, self.config)
        else:
            self.snapshot = store.load(location)
            self.searcher = Searcher(self.snapshot, self.embedder, self.config)

    def configure(self, config: RankingConfig) -> None:
        """Rank with `config` from now on (benchmarks compare variants on one loaded index)."""
        self.config = config
        self.searcher = type(self.searcher)(self.snapshot, self.embedder, config)

    @property
    def documents(self) -> dict[str, Document]:
        return self.snapshot.documents

    @property
    def manifest(self) -> dict:
        """Schema, model, backend, dimension, counts and `version` of the loaded index."""
        return self.snapshot.manifest

    @property
    def version(self) -> str | None:
        return self.snapshot.manifest.get("version")

    def highlighter(self, question: str) -> Callable[[str], list[tuple[int, int]]]:
        """text -> spans of the question's words (and their restored or glossary forms) in `text`."""
        query = self.searcher.analyze(question)
        pattern = term_pattern(query.phrases, query.vietnamese)
        return lambda text: term_spans(text, pattern)

    def citation(self, chunk: Chunk) -> Citation:
        doc = self.documents[chunk.doc_id]
        return Citation(doc=doc_ref(doc), section=chunk.section_path, line_start=chunk.line_start,
                        line_end=chunk.line_end, page=chunk.page, text=chunk.text, quote=quotable(doc, chunk))

    def result(self, rank: int, hit: Hit, answers: bool = False) -> Result:
        doc = self.documents[hit.chunk.doc_id]
        return Result(rank=rank, score=round(hit.score, 6), text=hit.chunk.text, doc=doc_ref(doc),
                      section=hit.chunk.section_path, line_start=hit.chunk.line_start, line_end=hit.chunk.line_end,
                      page=hit.chunk.page, chunk_id=hit.chunk.id, highlights=hit.highlights,
                      dense=None if hit.dense is None else round(hit.dense, 4),
                      also_in=[self.citation(c) for c in hit.also_in], quote=quotable(doc, hit.chunk), answers=answers)

    def answer_out(self, found: Answer | None) -> AnswerOut | None:
        if found is None:
            return None
        return AnswerOut(text=found.text, figures=found.figures, citations=[self.citation(c) for c in found.sources],
                         other_figures=[OtherFigure(**self.citation(c).model_dump(), statement=s) for c, s in found.others])

    def closeness(self, query: Query) -> Closeness | None:
        """How close each sentence of the answering passage is to the question by the model's cosine, for the
        query languages the ranking picks the answer sentence by meaning in (RankingConfig.sentence_by_meaning:
        English, whose words meet the text only through the glossary, with a model that reads it well); else
        None (the sentence sharing most of the question's words)."""
        if query.lang not in self.config.sentence_by_meaning:
            return None
        question = self.embedder.embed_query(query.for_embedding)   # remembered from the retrieval just done
        return lambda sentences: self.embedder.embed_passages(sentences) @ question

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "smart",
               accent_insensitive: bool = True) -> SearchResponse:
        """The answer and the top k passages; ValueError with a one-line reason for a query that cannot be searched."""
        started = time.perf_counter()
        query = canonical_query(query)   # one spelling however it was typed (Unicode form, tone placement, spaces)
        filters = filters.canonical() if filters is not None else None
        if not query:
            raise ValueError("empty query")
        if len(query) > MAX_QUERY:
            raise ValueError(f"query too long (over {MAX_QUERY} characters)")
        if not any(c.isalnum() for c in query):
            raise ValueError("nothing to search for: the query has no letters or digits")
        if mode == "number" and not doc_numbers(query):
            raise ValueError("no document number in the query (write it as it is printed, e.g. 43-NQ/TW)")
        with self.searcher.reading():   # one consistent index version for the whole search (PostgreSQL)
            return self._search(query, k, filters, mode, accent_insensitive, started)

    def _search(self, query: str, k: int, filters: Filters | None, mode: str, accent_insensitive: bool,
                started: float) -> SearchResponse:
        parsed = self.searcher.analyze(query)
        hits = self.searcher.search(query, max(k, self.config.min_depth), filters, mode, accent_insensitive, parsed)
        scope = self.searcher.scope(parsed, filters)
        verdict = self.decision.decide(parsed, hits, scope) if mode == "smart" else None
        found = answer(parsed, hits, self.config, self.closeness(parsed)) if verdict and verdict.answers else None
        stating: set[str] = set()
        if found is not None:   # the passage the answer quotes leads the list, as citation [1]
            hits = sorted(hits, key=lambda h: h.chunk is not found.sources[0])
            stating = {c.id for c in found.sources}
        results = [self.result(rank, hit, hit.chunk.id in stating) for rank, hit in enumerate(hits[:k], start=1)]
        return SearchResponse(query=query, lang=parsed.lang, restored=parsed.restored,
                              took_ms=round((time.perf_counter() - started) * 1000, 2),
                              answer=self.answer_out(found),
                              answer_probability=None if verdict is None or verdict.probability is None
                              else round(verdict.probability, 4),
                              no_answer_reason=verdict.reason if verdict and not verdict.answers else None,
                              not_covered=NotCovered(provinces=list(scope.unknown_provinces), years=list(scope.unknown_years),
                                                     numbers=list(scope.unknown_numbers)),
                              results=results)
