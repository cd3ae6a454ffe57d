"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by weighted reciprocal rank, with filters and phrases."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from index.dense import faiss_id
from index.embed.base import Embedder
from index.lexical import LexicalIndex, doc_numbers
from index.query import Query, Vocabulary, analyze, load_abbreviations, load_glossary
from index.store import Snapshot
from ingest.chunk import SIGNATURE
from ingest.document import Chunk, Document
from ingest.vietnamese import fold, has_diacritics, normalize

CANDIDATES = 60   # depth of each ranking before fusion
RRF_K = 60
FUSION = ("rrf", RRF_K)   # how the rankings combine: see fuse(); compared by `python -m bench retrieval`

# Weights of the (dense, lexical, coverage) rankings per query language, measured with
# `python -m bench retrieval`. English queries reach BM25 through glossary terms, numbers, codes
# and Vietnamese names; with those, equal weights beat halving BM25 for English (MRR@10 0.966 vs
# 0.931 on the question set), so every language now fuses the three rankings equally. The lexical
# and coverage weights of an English query are scaled by the share of its topic words the glossary
# translated: with none translated they match only names and years, and the dense ranking decides
# (English MRR@10 on the blind set 0.526 -> 0.647, tuned set 0.966 -> 0.925).
WEIGHTS = {"vi": (1.0, 1.0, 1.0), "vi_nodiac": (1.0, 1.0, 1.0), "en": (1.0, 1.0, 1.0)}
EXPECTED_BOOST = 1.25   # a passage of the kind the question asks for (a figure, a date, a signature)
ASIDE_PENALTY = 0.5     # a passage of the recipients list ("Nơi nhận"): searchable, rarely what a question asks
SCOPE_BOOST = 1.25      # a passage from a document of the province (or about the year) the question names
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}", re.I)
_FIGURE = re.compile(r"(?<![(\w])\d+(?:[.,]\d+)*\s*(?:%|ha\b|tỷ|triệu|nghìn|USD|xã|lượt|đảng viên|giường|bác sĩ|trường)", re.I)
MODES = ("smart", "phrase", "number")


@dataclass
class Filters:
    province: str | None = None
    type: str | None = None
    year: int | None = None
    doc: str | None = None     # document id

    def accepts(self, doc: Document) -> bool:
        meta = doc.meta
        if self.province and fold(meta.province or "") != fold(self.province):
            return False
        if self.type and fold(meta.type or "") != fold(self.type):
            return False
        if self.year and str(self.year) not in (meta.date or "")[:4] and str(self.year) not in (meta.title or ""):
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
    highlights: list[tuple[int, int]] = field(default_factory=list)   # character spans in chunk.text
    also_in: list[Chunk] = field(default_factory=list)                # the same passage in other documents


def phrase_pattern(needle: str, accent_insensitive: bool = True) -> re.Pattern | None:
    """A pattern for `needle` as whole words with any spacing, to run on fold(text) (or on
    text.lower() when accents must match)."""
    pin = fold(needle) if accent_insensitive else normalize(needle).lower()
    words = [re.escape(w) for w in pin.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)") if words else None


def find_spans(text: str, needle: str, accent_insensitive: bool = True) -> list[tuple[int, int]]:
    """Where `needle` occurs in `text` as whole words, ignoring case, spacing and (optionally) accents.
    Offsets index `text` itself (folding keeps one character per character)."""
    pattern = phrase_pattern(needle, accent_insensitive)
    hay = fold(text) if accent_insensitive else text.lower()
    return [m.span() for m in pattern.finditer(hay)] if pattern else []


def term_pattern(query: Query) -> re.Pattern | None:
    """One pattern for the query's phrases and meaningful words (with glossary and restored forms)."""
    terms = [fold(p) for p in query.phrases]
    terms += [t for t in set(re.findall(r"[\w./-]+", fold(query.vietnamese))) if len(t) > 1 and t not in STOPWORDS]
    if not terms:
        return None
    alternatives = sorted({r"\s+".join(map(re.escape, t.split())) for t in terms}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def term_spans(text: str, pattern: re.Pattern | None) -> list[tuple[int, int]]:
    """Spans of the query's terms in `text`, for highlighting."""
    return merge_spans([m.span() for m in pattern.finditer(fold(text))]) if pattern else []


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


STOPWORDS = {fold(w) for w in (
    "là bao nhiêu gì nào của năm có được không ai khi những các và trong về cho theo với này đó thì mà "
    "như thế nào đâu ở tại bởi do sẽ đã đang hãy phải mục tiêu chỉ tiêu mấy").split()}
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CONTENT = re.compile(r"[^\W\d_]+|" + _YEAR.pattern)


def content_words(text: str, exact: bool = False) -> set[str]:
    """Words that carry meaning (no stopwords, no one-letter words) and years: folded, or with
    `exact` as written (lowercase), so "lương" (salary) does not count as "lượng" (quantity)."""
    words = _CONTENT.findall(text.lower() if exact else fold(text))
    return {w for w in words if fold(w) not in STOPWORDS and len(w) > 1}


def kind_of(chunk: Chunk) -> set[str]:
    """What kinds of answer a passage holds: "number", "date", "who"."""
    kinds = set()
    if _FIGURE.search(chunk.text):
        kinds.add("number")
    if _DATE.search(chunk.text):
        kinds.add("date")
    if chunk.section[-1:] == [SIGNATURE]:
        kinds |= {"who", "signer"}
    return kinds


class Searcher:
    """Searches one index snapshot with the embedder that built it."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder):
        snapshot.check_model(embedder.model_id)
        self.snapshot = snapshot
        self.embedder = embedder
        self.chunks = snapshot.chunks
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self.keys = {c.id: passage_key(c.text) for c in self.chunks}
        self.lexical = LexicalIndex([" ".join([*c.section[-2:], c.text]) for c in self.chunks])
        self.vocab = Vocabulary([c.text for c in self.chunks] + [" ".join(c.section) for c in self.chunks])
        self.glossary = load_glossary()
        self.abbreviations = load_abbreviations()
        self.weights = dict(WEIGHTS)
        self.fusion = FUSION
        about = {d.id: " ".join(filter(None, [d.meta.title, d.meta.issuer, d.meta.province]))
                 for d in snapshot.documents.values()}
        contexts = [" ".join([about.get(c.doc_id, ""), *c.section, c.text]) for c in self.chunks]
        self.words = {exact: [content_words(t, exact) for t in contexts] for exact in (False, True)}
        self.kinds = [kind_of(c) for c in self.chunks]
        self.asides = {i for i, c in enumerate(self.chunks) if fold(c.section[0] if c.section else "") == "noi nhan"}
        # What each passage is about, folded: its document's province, and the years it, its
        # headings or its document's title mention.
        provinces = {d.id: fold(d.meta.province) for d in snapshot.documents.values() if d.meta.province}
        self.scopes = [{provinces[c.doc_id]} if c.doc_id in provinces else set() for c in self.chunks]
        for scope, words in zip(self.scopes, self.words[False]):
            scope.update(w for w in words if w.isdigit())
        self.known_scopes = set().union(*self.scopes) if self.scopes else set()
        df: dict[str, int] = {}
        for words in self.words[False] + self.words[True]:
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = max(1, len(self.chunks))
        self.idf = {w: float(np.log(1 + n / d)) for w, d in df.items()}

    def analyze(self, text: str) -> Query:
        return analyze(text, self.vocab, self.glossary, self.abbreviations)

    def coverage(self, query: Query, candidates, named: set[str]) -> dict[int, float]:
        """IDF-weighted share of the query's content words that each passage (with its headings,
        document title and issuer) contains; words the index never saw count fully against it.
        Words typed with diacritics must match as written; words typed without them match folded.
        The province the question names (in `named`) does not count: it says which documents, not
        what in them (the scope boost ranks that province's documents first)."""
        exact = has_diacritics(query.vietnamese)
        province_words = {w for s in named if not s.isdigit() for w in s.split()}
        words = {w for w in content_words(query.vietnamese, exact) if fold(w) not in province_words}
        if not words:
            return {}
        unseen = float(np.log(1 + len(self.chunks)))
        total = sum(self.idf.get(w, unseen) for w in words)
        return {i: sum(self.idf[w] for w in words & self.words[exact][i]) / total for i in candidates}

    def allowed(self, filters: Filters | None) -> list[int] | None:
        if not filters:
            return None
        docs = {d.id for d in self.snapshot.documents.values() if filters.accepts(d)}
        return [i for i, c in enumerate(self.chunks) if c.doc_id in docs]

    def dense_ranking(self, query: Query, allowed: list[int] | None) -> dict[int, float]:
        vector = self.embedder.embed_query(query.for_embedding)
        ids = None if allowed is None else [faiss_id(self.chunks[i].id) for i in allowed]
        hits = self.snapshot.dense.search(vector, CANDIDATES, ids)
        return {self.snapshot.by_faiss_id[fid]: score for fid, score in hits}

    def lexical_ranking(self, query: Query, allowed: list[int] | None) -> dict[int, float]:
        scores = self.lexical.scores(query.vietnamese)
        if allowed is not None:
            mask = np.zeros_like(scores, dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0)
        top = np.argsort(-scores)[:CANDIDATES]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def search(self, text: str, k: int = 10, filters: Filters | None = None, mode: str = "smart",
               accent_insensitive: bool = True, query: Query | None = None) -> list[Hit]:
        """Ranked hits; identical passages from several documents come back once, with `also_in`."""
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}' (one of {', '.join(MODES)})")
        query = query or self.analyze(text)
        if mode == "phrase" and not query.phrases:
            query.phrases = [query.text.strip("\"“”")]
        if mode == "number" and not query.numbers:
            query.numbers = doc_numbers(query.text)
        allowed = self.allowed(filters)
        dense = self.dense_ranking(query, allowed) if mode == "smart" else {}
        lexical = self.lexical_ranking(query, allowed)
        named = self.named_scopes(query)
        cover = self.coverage(query, set(dense) | set(lexical), named)
        weights = self.weights[query.lang] if mode == "smart" else (0.0, 1.0, 0.0)
        if mode == "smart" and query.translated < 1.0:   # words the glossary could not translate: trust meaning
            weights = (weights[0], weights[1] * query.translated, weights[2] * query.translated)
        fused = fuse([dense, lexical, {i: c for i, c in cover.items() if c > 0}], weights, *self.fusion)
        if mode == "smart":
            fused = {i: s * (ASIDE_PENALTY if i in self.asides else 1.0) for i, s in fused.items()}
        if named:
            fused = {i: s * SCOPE_BOOST ** len(named & self.scopes[i]) for i, s in fused.items()}
        if query.expects:
            fused = {i: s * (EXPECTED_BOOST if query.expects in self.kinds[i] else 1.0) for i, s in fused.items()}
        if query.expects == "signer" and fused:
            fused = self.signature_first(fused)
        if mode != "smart" or query.phrases:
            fused = self.require_literal(fused, query, accent_insensitive, allowed)
        ranked = sorted(fused.items(), key=lambda x: -x[1])
        hits = dedupe([Hit(self.chunks[i], score, dense.get(i), lexical.get(i)) for i, score in ranked], self.keys)[:k]
        pattern = term_pattern(query)
        years = set(_YEAR.findall(query.text))
        for hit in hits:   # only for what is returned: coverage and highlights cost a pass over the text
            i = self.position[hit.chunk.id]
            hit.coverage = cover[i] if i in cover else self.coverage(query, [i], named).get(i, 0.0)
            hit.scope = len(named & self.scopes[i])
            hit.missing_years = years - self.words[False][i]
            hit.highlights = term_spans(hit.chunk.text, pattern)
        return hits

    def named_scopes(self, query: Query) -> set[str]:
        """The provinces and years the question names that some document is about."""
        text = fold(query.text)
        return {s for s in self.known_scopes if re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", text)}

    def signature_first(self, fused: dict[int, float]) -> dict[int, float]:
        """"Who signed X?": the signature block of the best-matching document that has one goes first."""
        best = max(fused.values())
        for i in sorted(fused, key=lambda i: -fused[i])[:5]:
            doc_id = self.chunks[i].doc_id
            signature = next((j for j, c in enumerate(self.chunks)
                              if c.doc_id == doc_id and c.section[-1:] == [SIGNATURE]), None)
            if signature is not None:
                return {**fused, signature: best * 1.01}
        return fused

    def require_literal(self, fused: dict[int, float], query: Query, accent_insensitive: bool,
                        allowed: list[int] | None) -> dict[int, float]:
        """Keep only chunks containing every quoted phrase (and, in number mode, document number), in
        their text or their section path ("Điều 2" names the clauses under it); chunks that contain
        them but were not in either ranking are kept with score 0."""
        needles = [(phrase_pattern(p, accent_insensitive), accent_insensitive) for p in query.phrases]
        needles += [(phrase_pattern(n), True) for n in query.numbers]
        needles = [(pattern, insensitive) for pattern, insensitive in needles if pattern]
        if not needles:   # nothing literal to look for (a phrase of quotes only): nothing qualifies
            return {}
        pool = allowed if allowed is not None else range(len(self.chunks))
        keep = {}
        for i in pool:
            text = " › ".join([*self.chunks[i].section, self.chunks[i].text])
            folded, lowered = fold(text), text.lower()
            if all(pattern.search(folded if insensitive else lowered) for pattern, insensitive in needles):
                keep[i] = fused.get(i, 0.0)
        return keep


def fuse(rankings: list[dict[int, float]], weights: tuple[float, ...], fusion: str = "rrf",
         k: int = RRF_K) -> dict[int, float]:
    """Weighted fusion of rankings (candidate -> score). "rrf": reciprocal-rank fusion, the sum of
    weight / (k + rank); "minmax": the sum of weight x score scaled to 0..1 within its ranking."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        if not weight or not ranking:
            continue
        if fusion == "minmax":
            low, high = min(ranking.values()), max(ranking.values())
            for i, score in ranking.items():
                fused[i] = fused.get(i, 0.0) + weight * ((score - low) / (high - low) if high > low else 1.0)
        else:
            for rank, (i, _) in enumerate(sorted(ranking.items(), key=lambda x: -x[1]), start=1):
                fused[i] = fused.get(i, 0.0) + weight / (k + rank)
    return fused


def dedupe(hits: list[Hit], keys: dict[str, str] | None = None) -> list[Hit]:
    """One hit per distinct passage text; copies from other documents go to `also_in`.
    `keys` maps chunk id -> passage_key, when the caller has them computed."""
    first: dict[str, Hit] = {}
    for hit in hits:
        key = keys[hit.chunk.id] if keys else passage_key(hit.chunk.text)
        kept = first.setdefault(key, hit)
        if kept is not hit and hit.chunk.doc_id != kept.chunk.doc_id \
                and all(c.doc_id != hit.chunk.doc_id for c in kept.also_in):
            kept.also_in.append(hit.chunk)
    return list(first.values())


def passage_key(text: str) -> str:
    """Passage identity across documents: folded words without list markers ("(16)", "- ")."""
    text = re.sub(r"^\s*(?:\(\d+\)|[-–•+]|\d+(?:\.\d+)*\.?)\s*", "", text)
    return " ".join(re.findall(r"\w+", fold(text)))
