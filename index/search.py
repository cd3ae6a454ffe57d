"""Hybrid search as explicit stages: analyse -> retrieve (dense, lexical, coverage) -> fuse -> rerank -> literal filter -> dedupe -> decorate."""
from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

from core.document import Chunk, Document
from core.text import YEAR, canonical_query, term_pattern, term_spans, years
from core.vietnamese import fold
from index.embed.base import Embedder
from index.fuse import Joiner, dedupe
from index.query import Query, analyze, load_abbreviations, load_glossary
from index.ranking import DEFAULT, RankingConfig
from index.rerank import LiteralFilter, boost_kind, boost_scope, named_scopes, penalise_asides, signature_first
from index.retrieve import CoverageRanker, DenseRetriever, LexicalRetriever, Ranking
from index.scope import Scope, scope_of
from index.store import Snapshot

MODES = ("smart", "phrase", "number")
YEAR_KEY = re.compile(r"\d{4}")


def windows(digits: str) -> set[str]:
    """Every 4 consecutive digits of a run of digits ("20245" -> "2024", "0245")."""
    return {digits[i:i + 4] for i in range(len(digits) - 3)}


@dataclass
class Filters:
    province: str | None = None
    type: str | None = None
    year: int | None = None
    doc: str | None = None     # document id
    not_docs: frozenset[str] = frozenset()   # document ids left out (the benchmarks ask questions without their sources)

    def canonical(self) -> Filters:
        """The same filters with province and type spelled as canonical_query spells them (NFC, one tone
        placement, single spaces), so "Lạng Sơn" typed decomposed (NFD) or "Khánh Hoà" still match."""
        return replace(self, province=self.province and canonical_query(self.province) or None,
                       type=self.type and canonical_query(self.type) or None)

    def accepts(self, doc: Document) -> bool:
        meta = doc.meta
        if doc.id in self.not_docs:
            return False
        if self.province and fold(meta.province or "") != fold(self.province):
            return False
        if self.type and fold(meta.type or "") != fold(self.type):
            return False
        if self.year and self.year != meta.year and str(self.year) not in (meta.date or "")[:4] \
                and str(self.year) not in (meta.title or ""):
            return False
        return not self.doc or doc.id == self.doc


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float | None = None          # cosine of the query and the chunk
    lexical: float | None = None        # BM25 score
    coverage: float = 0.0               # share of the query's words the passage (and its headings) has
    scope: int = 0                      # how many of the provinces and years the question names its document is about
    missing_years: set[str] = field(default_factory=set)  # years the question names that neither it nor its document mention
    dense_rank: int | None = None       # 1-based place in the dense ranking alone (None: not in it)
    lexical_rank: int | None = None     # ... in the BM25 ranking alone
    highlights: list[tuple[int, int]] = field(default_factory=list)   # character spans in chunk.text
    also_in: list[Chunk] = field(default_factory=list)                # the same passage in other documents


class Searcher:
    """Searches one index snapshot with the embedder that built it, ranked as `config` says."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, config: RankingConfig = DEFAULT):
        snapshot.check_model(embedder.model_id)
        self.snapshot, self.embedder, self.config = snapshot, embedder, config
        chunks = self.chunks = snapshot.chunks
        derived = snapshot.search   # BM25, posting lists, vocabulary...: saved with the index, not rebuilt
        self.dense = DenseRetriever(snapshot.dense, embedder, chunks, config.candidates)
        self.lexical = LexicalRetriever(chunks, config.candidates, derived.lexical)
        self.coverage = CoverageRanker(chunks, derived.idf)
        self.joiner = Joiner(config.fusion, config.rrf_k)
        self.literal = LiteralFilter(chunks, derived.postings)
        self.vocab = derived.vocab
        self.glossary, self.abbreviations = load_glossary(), load_abbreviations()
        self.keys = derived.keys
        self.doc_ids = derived.doc_ids
        self.known_scopes = derived.known_scopes
        self.signatures = derived.signatures
        self._numbers: set[str] | None = None   # the indexed documents' own numbers, folded (at first need)
        self._catalogue: dict[tuple[str, str], list[str]] | None = None

    def reading(self):
        """The context one search runs in: nothing here (a loaded snapshot does not change); the
        PostgreSQL searcher (index/pg/search.py) reads one database version in it."""
        return nullcontext()

    def analyze(self, text: str) -> Query:
        return analyze(text, self.vocab, self.glossary, self.abbreviations)

    def allowed(self, filters: Filters | None) -> list[int] | None:
        if not filters:
            return None
        return self.snapshot.search.positions({d.id for d in self.accepted(filters)})

    def accepted(self, filters: Filters) -> list[Document]:
        """The documents within the filters: `Filters.accepts` asked of the few the catalogue points to
        (the filter's document, province, type or year), not of every document."""
        documents = self.snapshot.documents
        if filters.doc:
            candidates = [documents[filters.doc]] if filters.doc in documents else []
        elif filters.province or filters.type or filters.year:
            groups = self.catalogue()
            key = ("province", fold(filters.province)) if filters.province else ("type", fold(filters.type)) \
                if filters.type else ("year", str(filters.year))
            candidates = [documents[i] for i in groups.get(key, ())] \
                if key[0] != "year" or YEAR_KEY.fullmatch(key[1]) else documents.values()
        else:
            candidates = documents.values()
        return [d for d in candidates if filters.accepts(d)]

    def catalogue(self) -> dict[tuple[str, str], list[str]]:
        """(what, value) -> ids of the documents a filter on it can accept: folded province, folded type,
        and every 4-digit year their metadata year, date or title holds (computed at first need)."""
        if self._catalogue is None:
            groups: dict[tuple[str, str], list[str]] = {}
            for d in self.snapshot.documents.values():
                meta = d.meta
                found = {str(meta.year)} | set(YEAR_KEY.findall((meta.date or "")[:4]))
                found |= {m for run in re.findall(r"\d{4,}", meta.title or "") for m in windows(run)}
                for key in [("province", fold(meta.province or "")), ("type", fold(meta.type or ""))] + \
                        [("year", y) for y in found]:
                    groups.setdefault(key, []).append(d.id)
            self._catalogue = groups
        return self._catalogue

    def cited(self, number: str) -> bool:
        """A document number (folded) that an indexed document bears or a passage cites (posting lists)."""
        if self._numbers is None:
            self._numbers = {fold(d.meta.number) for d in self.snapshot.documents.values() if d.meta.number}
        return number in self._numbers or bool(self.literal.run({}, Query(text=number, lang="vi", numbers=[number]),
                                                                 True, None))

    def scope(self, query: Query, filters: Filters | None = None) -> Scope:
        """What the question names, and what of it no document (within the filters: their provinces) is about."""
        known = self.known_scopes
        if filters:
            provinces = {fold(d.meta.province) for d in self.accepted(filters) if d.meta.province}
            known = {s for s in known if YEAR.fullmatch(s)} | provinces
        return scope_of(query.text, query.numbers, known, {n for n in query.numbers if self.cited(n)})

    def search(self, text: str, k: int = 10, filters: Filters | None = None, mode: str = "smart",
               accent_insensitive: bool = True, query: Query | None = None) -> list[Hit]:
        """Ranked hits; identical passages from several documents come back once, with `also_in`."""
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}' (one of {', '.join(MODES)})")
        query = query or self.analyze(text)
        if mode == "phrase" and not query.phrases:
            query = replace(query, phrases=[query.text.strip("\"“”")])
        if mode == "smart" and not query.phrases and not any(ch.isalpha() for ch in query.text):
            query = replace(query, phrases=[query.text.strip()])   # a bare figure ("64,6%", "4.321"): found as written
        config, smart = self.config, mode == "smart"
        allowed = self.allowed(filters)
        named = named_scopes(query.text, self.known_scopes)
        # retrieve
        dense = self.dense.run(query, allowed) if smart else {}
        lexical = self.lexical.run(query, allowed)
        cover = self.coverage.run(query, set(dense) | set(lexical), named)
        # fuse
        weights = config.weights_for(query.lang, query.translated) if smart else (0.0, 1.0, 0.0)
        scores = self.joiner.run([dense, lexical, {i: c for i, c in cover.items() if c > 0}], weights)
        # rerank
        if smart:
            scores = penalise_asides(scores, self.chunks, config.aside_penalty)
        scores = boost_scope(scores, self.chunks, named, config.scope_boost)
        scores = boost_kind(scores, self.chunks, query.expects, config.expected_boost)
        if query.expects == "signer":
            scores = signature_first(scores, self.chunks, self.signatures, config.signature_pool,
                                     config.signature_margin)
        # literal filter
        if not smart or query.phrases:
            scores = self.literal.run(scores, query, accent_insensitive, allowed)
        # dedupe, decorate
        ranked = sorted(scores.items(), key=lambda x: -x[1])
        kept = dedupe(ranked, self.keys, self.doc_ids)[:k]
        return self.decorate(kept, query, dense, lexical, cover, named)

    def decorate(self, kept: list[tuple[int, float, list[int]]], query: Query, dense: Ranking, lexical: Ranking,
                 cover: Ranking, named: set[str]) -> list[Hit]:
        """Hits for what is returned only: coverage, scope, years the passage misses, highlights."""
        pattern = term_pattern(query.phrases, query.vietnamese)
        asked_years = years(query.text)
        dense_rank = {i: r for r, i in enumerate(sorted(dense, key=lambda i: -dense[i]), start=1)}
        lexical_rank = {i: r for r, i in enumerate(sorted(lexical, key=lambda i: -lexical[i]), start=1)}
        hits = []
        for i, score, copies in kept:
            chunk = self.chunks[i]
            coverage = cover[i] if i in cover else self.coverage.run(query, [i], named).get(i, 0.0)
            hits.append(Hit(chunk, score, dense.get(i), lexical.get(i), coverage=coverage,
                            scope=len(named.intersection(chunk.features.scope)),
                            missing_years=asked_years - set(chunk.features.words),
                            dense_rank=dense_rank.get(i), lexical_rank=lexical_rank.get(i),
                            highlights=term_spans(chunk.text, pattern), also_in=[self.chunks[j] for j in copies]))
        return hits
