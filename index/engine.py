"""The engine behind the CLI, the app and the API: load an index, search, answer, in the JSON shapes they share."""
from __future__ import annotations

import time
from pathlib import Path

from index import store
from index.answer import Answer, answer
from index.embed import load_embedder
from index.embed.base import Embedder
from index.lexical import doc_numbers
from index.search import Filters, Hit, Searcher
from ingest.document import Chunk, Document


def format_date(iso: str | None) -> str | None:
    """"2023-12-06" -> "06/12/2023", the way Vietnamese documents write dates."""
    if not iso or len(iso) != 10:
        return iso
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def doc_json(doc: Document) -> dict:
    meta = doc.meta
    return {"id": doc.id, "title": meta.title or Path(doc.source).name, "type": meta.type, "issuer": meta.issuer,
            "date": meta.date, "province": meta.province, "path": doc.source, "number": meta.number,
            "signer": meta.signer}


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

    def __init__(self, index_dir: str | Path | None = None, embedder: Embedder | None = None):
        self.index_dir = index_dir
        self.embedder = embedder or load_embedder()
        self.reload()

    def reload(self) -> None:
        self.snapshot = store.load(self.index_dir)
        self.searcher = Searcher(self.snapshot, self.embedder)

    @property
    def documents(self) -> dict[str, Document]:
        return self.snapshot.documents

    def citation(self, chunk: Chunk) -> dict:
        doc = self.documents[chunk.doc_id]
        return {"doc": doc_json(doc), "section": chunk.section_path, "line_start": chunk.line_start,
                "line_end": chunk.line_end, "page": chunk.page, "text": chunk.text, "quote": quotable(doc, chunk)}

    def result(self, rank: int, hit: Hit) -> dict:
        return {"rank": rank, "score": round(hit.score, 6), "text": hit.chunk.text,
                "doc": doc_json(self.documents[hit.chunk.doc_id]), "section": hit.chunk.section_path,
                "line_start": hit.chunk.line_start, "line_end": hit.chunk.line_end, "page": hit.chunk.page,
                "chunk_id": hit.chunk.id, "highlights": [list(s) for s in hit.highlights],
                "dense": None if hit.dense is None else round(hit.dense, 4),
                "also_in": [self.citation(c) for c in hit.also_in],
                "quote": quotable(self.documents[hit.chunk.doc_id], hit.chunk)}

    def answer_json(self, found: Answer | None) -> dict | None:
        if found is None:
            return None
        return {"text": found.text, "figures": [list(s) for s in found.figures],
                "citations": [self.citation(c) for c in found.sources],
                "other_figures": [dict(self.citation(c), statement=s) for c, s in found.others]}

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "smart",
               accent_insensitive: bool = True) -> dict:
        """The JSON object of the CLI contract: query, took_ms, answer, results."""
        started = time.perf_counter()
        query = query.strip()
        if not query:
            raise ValueError("empty query")
        if len(query) > 1000:
            raise ValueError("query too long (over 1000 characters)")
        if not any(c.isalnum() for c in query):
            raise ValueError("nothing to search for: the query has no letters or digits")
        if mode == "number" and not doc_numbers(query):
            raise ValueError("no document number in the query (write it as it is printed, e.g. 43-NQ/TW)")
        parsed = self.searcher.analyze(query)
        hits = self.searcher.search(query, max(k, 10), filters, mode, accent_insensitive, parsed)
        found = answer(parsed, hits) if mode == "smart" else None
        if mode == "smart" and found is None:
            hits = []   # nothing answers: say so rather than list the nearest unrelated passages
        elif found is not None:   # the passage the answer quotes leads the list, as citation [1]
            hits = sorted(hits, key=lambda h: h.chunk is not found.sources[0])
        results = [self.result(rank, hit) for rank, hit in enumerate(hits[:k], start=1)]
        return {"query": query, "lang": parsed.lang, "restored": parsed.restored,
                "took_ms": round((time.perf_counter() - started) * 1000, 2),
                "answer": self.answer_json(found), "results": results}
