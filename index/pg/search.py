"""Search over the PostgreSQL index: kNN (pgvector), BM25 and literal candidates in SQL; fusion, rerank and decoration are index/search.py's."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool

from core.document import Chunk, Document
from core.vietnamese import fold
from index import search as base
from index.dense import ANN_MIN
from index.embed.base import Embedder
from index.fuse import Joiner
from index.lexical import syllables, tokens
from index.pg import schema, store
from index.query import Query, Vocabulary, load_abbreviations, load_glossary
from index.ranking import DEFAULT, RankingConfig
from index.rerank import LiteralFilter
from index.retrieve import CoverageRanker, Ranking
from index.store import IndexMissing, ModelMismatch

K1, B = 1.5, 0.75          # bm25s' defaults (method "lucene"), which the embedded index uses
EF_SEARCH = 200            # HNSW candidate list for unfiltered queries over ANN_MIN vectors


@dataclass
class State:
    """What search derives from all chunks, read at one index version."""

    number: int                 # the index version: the id of the transaction that last changed it
    manifest: dict
    documents: dict[str, Document]
    signatures: dict[str, int]
    vocab: Vocabulary
    known_scopes: set[str]
    numbers: set[str]
    chunks: int
    tokens: int


class Index:
    """One PostgreSQL index as the searcher sees it (the folder index's Snapshot): a connection pool, the
    derived state of the latest version read, and chunks fetched by position (their row id) and cached."""

    def __init__(self, url: str, pool_size: int = 4):
        self.url = url
        try:
            conn = schema.open_connection(url, autocommit=True)
        except schema.Unreachable as err:
            raise IndexMissing(str(err)) from None
        with conn:
            if None in conn.execute("select to_regclass('state'), to_regtype('vector')").fetchone():
                raise IndexMissing(f"no index in {redact(url)}: build it with `python -m ingest --index-url URL`")
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, configure=_configure,
                                   kwargs={"autocommit": True}, name="index")
        self._local = threading.local()
        self._lock = threading.Lock()
        self.chunks = Chunks(self)
        try:
            self.refresh()
        except BaseException:
            self.pool.close()
            raise

    def refresh(self) -> None:
        """Read the latest version's derived state."""
        with self.pool.connection() as conn, conn.transaction():
            schema.pin(conn)
            state = self._read(conn)
        with self._lock:
            self._latest = state

    def close(self) -> None:
        self.pool.close()

    # ---- the version a search reads ----------------------------------------------------------------
    @property
    def state(self) -> State:
        """The state bound to this thread's search, else the latest read."""
        return getattr(self._local, "state", None) or self._latest

    @contextmanager
    def reading(self):
        """One search: a REPEATABLE READ, READ ONLY transaction, so every query of it sees one version; the
        derived state is read again first when another process changed the index."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self.pool.connection() as conn, conn.transaction():
            schema.pin(conn)   # first: a rebuild's swap waits for this search, or this search for the swap
            state = self._latest
            if store.version(conn) != state.number:
                state = self._read(conn)
                with self._lock:
                    if state.number >= self._latest.number:
                        self._latest = state
            self._local.conn, self._local.state = conn, state
            try:
                yield
            finally:
                self._local.conn = self._local.state = None

    @contextmanager
    def connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
        else:
            with self.pool.connection() as conn:
                yield conn

    def _read(self, conn: psycopg.Connection) -> State:
        try:
            manifest = store.manifest(conn)
        except psycopg.errors.UndefinedTable:
            manifest = {}
        if not manifest.get("model"):
            raise IndexMissing(f"no index in {redact(self.url)}: build it with `python -m ingest --index-url URL`")
        docs, signatures = store.documents(conn, lambda doc_id, n: DocumentChunks(self, doc_id, n))
        return State(store.version(conn), manifest, docs, signatures, store.vocabulary(conn), store.scopes(conn),
                     {fold(d.meta.number) for d in docs.values() if d.meta.number}, manifest["chunks"], manifest["tokens"])

    # ---- what the shared searcher and engine read of a snapshot -------------------------------------
    def _current(self) -> State:
        """Inside a search, the version it reads; outside, the latest version (read again if it changed)."""
        bound = getattr(self._local, "state", None)
        if bound is not None:
            return bound
        with self.pool.connection() as conn:
            changed = store.version(conn) != self._latest.number
        if changed:
            self.refresh()
        return self._latest

    @property
    def manifest(self) -> dict:
        return self._current().manifest

    @property
    def documents(self) -> dict[str, Document]:
        return self._current().documents

    @property
    def model_id(self) -> str:
        return self.manifest["model"]

    def check_model(self, model_id: str) -> None:
        if model_id != self.model_id:
            raise ModelMismatch(f"this index was built with '{self.model_id}' but the search model is '{model_id}'; "
                                f"re-ingest with the new model or search with '{self.model_id}'")


_OPEN: dict[str, Index] = {}
_OPENING = threading.Lock()


def open_index(url: str) -> Index:
    """The process's one Index for `url` (its pool and chunk cache shared by every engine), at its latest version."""
    with _OPENING:
        index = _OPEN.get(url)
        if index is None:
            index = _OPEN[url] = Index(url)
        else:
            index.refresh()
        return index


def live_version(url: str) -> str | None:
    """The version of the index in the database, None when there is none (one short query)."""
    index = _OPEN.get(url)
    if index is not None:   # this process has it open: ask through its pool
        with index.pool.connection() as conn:
            return f"pg{store.version(conn)}"
    try:
        with schema.open_connection(url, autocommit=True) as conn:
            manifest = store.manifest(conn)
    except psycopg.errors.UndefinedTable:
        return None
    return manifest["version"] if manifest.get("model") else None


def index_model(url: str) -> tuple[str, str | None] | None:
    """(model id, backend) that built the index in the database, None when there is none."""
    try:
        with schema.open_connection(url, autocommit=True) as conn:
            meta = dict(conn.execute("select key, value from meta where key in ('model', 'backend')").fetchall())
    except (psycopg.errors.UndefinedTable, schema.Unreachable):
        return None
    return (meta["model"], meta.get("backend")) if meta.get("model") else None


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def redact(url: str) -> str:
    """The URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    return head.rsplit(":", 1)[0] + ":***@" + tail


class Chunks:
    """Chunks by position (their row id), fetched on demand and cached (rows never change: a changed
    passage is a new row). Reads ahead along the positions a literal lookup announced."""

    CACHE, AHEAD = 50_000, 500

    def __init__(self, index: Index):
        self.index = index
        self._cache: dict[int, tuple[Chunk, int]] = {}
        self._ahead: np.ndarray = np.zeros(0, dtype=np.int64)
        self.keys = _Column(self, 1)
        self.doc_ids = _Column(self, 0, lambda c: c.doc_id)

    def __len__(self) -> int:
        return self.index.state.chunks

    def __getitem__(self, i: int) -> Chunk:
        return self._row(i)[0]

    def _row(self, i: int) -> tuple[Chunk, int]:
        row = self._cache.get(i)
        if row is None:
            at = int(np.searchsorted(self._ahead, i))
            batch = [i]
            if at < len(self._ahead) and self._ahead[at] == i:
                batch = [j for j in self._ahead[at:at + self.AHEAD].tolist() if j not in self._cache]
            self.fetch(batch)
            row = self._cache.get(i)
            if row is None:
                raise IndexError(f"no chunk at position {i}")
        return row

    def fetch(self, positions) -> None:
        """Read these positions in one query (those not cached yet)."""
        missing = [int(i) for i in positions if int(i) not in self._cache]
        if not missing:
            return
        if len(self._cache) + len(missing) > self.CACHE:
            self._cache.clear()
        with self.index.connection() as conn:
            self._cache.update(store.chunks_by_id(conn, missing))

    def announce(self, positions: np.ndarray) -> None:
        """Positions about to be read in this order: a miss among them reads the next AHEAD at once."""
        self._ahead = np.asarray(positions, dtype=np.int64)


class _Column:
    """positions -> one field of their chunk (passage key, document id), for dedupe."""

    def __init__(self, chunks: Chunks, field: int, pick=None):
        self.chunks, self.field, self.pick = chunks, field, pick

    def __getitem__(self, i: int):
        row = self.chunks._row(i)
        return self.pick(row[0]) if self.pick else row[self.field]


class DocumentChunks:
    """A document's chunks in order, read when first asked for."""

    def __init__(self, index: Index, doc_id: str, n: int):
        self.index, self.doc_id, self.n = index, doc_id, n
        self._ids: list[int] | None = None

    def __len__(self) -> int:
        return self.n

    def _positions(self) -> list[int]:
        if self._ids is None:
            with self.index.connection() as conn:
                self._ids = store.chunk_ids(conn, self.doc_id)
            self.index.chunks.fetch(self._ids)
        return self._ids

    def __getitem__(self, i):
        ids = self._positions()
        if isinstance(i, slice):
            return [self.index.chunks[j] for j in ids[i]]
        return self.index.chunks[ids[i]]

    def __iter__(self):
        return (self.index.chunks[j] for j in self._positions())


class Restriction:
    """The chunks of the documents the filters accept: their ids for SQL, their positions on demand."""

    def __init__(self, index: Index, doc_ids: list[str]):
        self.index, self.doc_ids = index, doc_ids
        self._positions: np.ndarray | None = None

    def positions(self) -> np.ndarray:
        if self._positions is None:
            with self.index.connection() as conn:
                found = conn.execute("select id from chunks where doc_id = any(%s) order by id", (self.doc_ids,))
                self._positions = np.asarray([r[0] for r in found], dtype=np.int64)
        return self._positions

    def __array__(self, dtype=None, copy=None):
        return self.positions().astype(dtype or np.int64)

    def __len__(self) -> int:
        return len(self.positions())

    def __iter__(self):
        return iter(self.positions().tolist())


def filter_sql(filters: base.Filters) -> tuple[str, list]:
    """Filters.accepts as a condition on the documents table (province and type folded at ingest)."""
    where, params = ["true"], []
    if filters.not_docs:
        where.append("id <> all(%s)")
        params.append(list(filters.not_docs))
    if filters.province:
        where.append("province_key = %s")
        params.append(fold(filters.province))
    if filters.type:
        where.append("type_key = %s")
        params.append(fold(filters.type))
    if filters.year:
        where.append("(year is not distinct from %s or strpos(left(coalesce(date, ''), 4), %s) > 0 "
                     "or strpos(coalesce(title, ''), %s) > 0)")
        params += [filters.year, str(filters.year), str(filters.year)]
    if filters.doc:
        where.append("id = %s")
        params.append(filters.doc)
    return " and ".join(where), params


class DenseRetriever:
    """pgvector: the `depth` passages of highest inner product (cosine: vectors are normalised). Exact below
    ANN_MIN vectors and for filtered queries (through the btree on chunks.doc_id), like the folder index;
    HNSW above."""

    def __init__(self, index: Index, embedder: Embedder, depth: int):
        self.index, self.embedder, self.depth = index, embedder, depth

    def run(self, query: Query, allowed: Restriction | None) -> Ranking:
        vector = np.asarray(self.embedder.embed_query(query.for_embedding), dtype=np.float32)
        with self.index.connection() as conn:
            if allowed is not None:
                found = conn.execute(
                    "select c.id, v.embedding <#> %s as d from chunks c join vectors v on v.hash = c.vector_hash "
                    "where c.doc_id = any(%s) order by d, c.id limit %s", (vector, allowed.doc_ids, self.depth))
            else:   # nearest vectors first (the chunks table is wide), then their chunks: the same top `depth`
                exact = self.index.state.chunks < ANN_MIN   # "+ 0": an expression the HNSW index cannot serve
                if not exact:
                    conn.execute("select set_config('hnsw.ef_search', %s, true)", (str(max(EF_SEARCH, self.depth)),))
                order = "(embedding <#> %s) + 0" if exact else "embedding <#> %s"
                found = conn.execute(
                    f"with near as (select hash, embedding <#> %s as d from vectors order by {order} limit %s) "
                    "select c.id, near.d from near join chunks c on c.vector_hash = near.hash order by near.d, c.id limit %s",
                    (vector, vector, self.depth, self.depth))
            return {i: -float(d) for i, d in found}


class LexicalRetriever:
    """BM25 in SQL over the stored tokens and term statistics: the same formula, tokens and statistics as
    bm25s ("lucene": idf ln(1 + (N - df + 0.5) / (df + 0.5)), k1 1.5, b 0.75), each term's score rounded
    to float32 as bm25s stores it."""

    def __init__(self, index: Index, depth: int):
        self.index, self.depth = index, depth

    def run(self, query: Query, allowed: Restriction | None) -> Ranking:
        words = tokens(query.vietnamese)
        state = self.index.state
        if not words or not state.chunks:
            return {}
        restrict = "join chunks c on c.id = p.chunk_id and c.doc_id = any(%(docs)s)" if allowed is not None else ""
        sql = f"""
            with q as (select t.id, count(*)::float8 as n,
                              ln(1 + (%(n)s::float8 - t.df + 0.5) / (t.df + 0.5))::real::float8 as idf
                       from unnest(%(words)s::text[]) w join terms t on t.term = w where t.df > 0 group by t.id, t.df)
            select p.chunk_id, sum(((q.idf * p.tf / (%(k1)s::float8 * (1 - %(b)s::float8 + %(b)s::float8 * p.dl / %(avg)s::float8)
                                         + p.tf))::real * q.n)::real) as s
            from q join postings p on p.term_id = q.id {restrict}
            group by p.chunk_id order by s desc, p.chunk_id limit %(depth)s"""
        with self.index.connection() as conn:
            found = conn.execute(sql, {"words": words, "n": state.chunks, "k1": K1, "b": B, "avg": state.tokens / state.chunks,
                                       "depth": self.depth, "docs": allowed.doc_ids if allowed is not None else None})
            return {i: float(s) for i, s in found if s > 0}


class Idf(dict):
    """Coverage IDF of the words asked for, read from the stored document frequencies when first needed."""

    def __init__(self, index: Index):
        super().__init__()
        self.index, self.unseen = index, set()

    def _load(self, word: str) -> None:
        if dict.__contains__(self, word) or word in self.unseen:
            return
        with self.index.connection() as conn:
            row = conn.execute("select n from words where word = %s", (word,)).fetchone()
        if row is None:
            self.unseen.add(word)
        else:
            self[word] = float(np.log(1 + max(1, self.index.state.chunks) / row[0]))

    def get(self, word, default=None):
        self._load(word)
        return dict.get(self, word, default)

    def __missing__(self, word):
        self._load(word)
        if not dict.__contains__(self, word):
            raise KeyError(word)
        return dict.__getitem__(self, word)


class Coverage(CoverageRanker):
    """index/retrieve.py's coverage, with the candidates' chunks read in one query and IDF from the database."""

    def __init__(self, index: Index):
        self.index, self.chunks = index, index.chunks
        self._idf: tuple[str, Idf] | None = None

    @property
    def unseen(self) -> float:
        return float(np.log(1 + self.index.state.chunks))

    @property
    def idf(self) -> Idf:
        version = self.index.state.manifest["version"]
        if self._idf is None or self._idf[0] != version:
            self._idf = (version, Idf(self.index))
        return self._idf[1]

    def run(self, query: Query, candidates, named: set[str]) -> Ranking:
        candidates = list(candidates)
        self.chunks.fetch(candidates)
        return super().run(query, candidates, named)


class Postings:
    """Literal candidates from the stored posting lists of folded syllables and syllable pairs."""

    def __init__(self, index: Index):
        self.index = index

    def candidates(self, needle: str) -> np.ndarray:
        words = syllables(needle)
        keys = sorted(set(words + [f"{a}_{b}" for a, b in zip(words, words[1:])]))
        if not keys:
            return np.zeros(0, dtype=np.int64)
        with self.index.connection() as conn:   # the GIN index on chunks.literal intersects the keys' lists
            ids = [r[0] for r in conn.execute("select id from terms where term = any(%s)", (keys,))]
            found = [] if len(ids) < len(keys) else \
                conn.execute("select id from chunks where literal @> %s::int[] order by id", (ids,))
            positions = np.asarray([r[0] for r in found], dtype=np.int64)
        self.index.chunks.announce(positions)
        return positions


class Searcher(base.Searcher):
    """index/search.py's Searcher over the PostgreSQL index: the same stages, retrieval in SQL."""

    def __init__(self, index: Index, embedder: Embedder, config: RankingConfig = DEFAULT):
        index.check_model(embedder.model_id)
        self.snapshot, self.embedder, self.config = index, embedder, config
        self.chunks = index.chunks
        self.dense = DenseRetriever(index, embedder, config.candidates)
        self.lexical = LexicalRetriever(index, config.candidates)
        self.coverage = Coverage(index)
        self.joiner = Joiner(config.fusion, config.rrf_k)
        self.literal = LiteralFilter(index.chunks, Postings(index))
        self.glossary, self.abbreviations = load_glossary(), load_abbreviations()
        self.keys, self.doc_ids = index.chunks.keys, index.chunks.doc_ids

    # derived from all chunks: the version this search reads
    vocab = property(lambda self: self.snapshot.state.vocab)
    known_scopes = property(lambda self: self.snapshot.state.known_scopes)
    signatures = property(lambda self: self.snapshot.state.signatures)
    _numbers = property(lambda self: self.snapshot.state.numbers, lambda self, value: None)

    def reading(self):
        return self.snapshot.reading()

    def allowed(self, filters: base.Filters | None) -> Restriction | None:
        if not filters:
            return None
        return Restriction(self.snapshot, self._accepted_ids(filters))

    def accepted(self, filters: base.Filters) -> list[Document]:
        """The documents within the filters, chosen in SQL (the folder index's catalogue is not kept here:
        the documents change with the database version)."""
        documents = self.snapshot.documents
        return [documents[i] for i in self._accepted_ids(filters) if i in documents]

    def _accepted_ids(self, filters: base.Filters) -> list[str]:
        where, params = filter_sql(filters)
        with self.snapshot.connection() as conn:
            return [r[0] for r in conn.execute(f"select id from documents where {where}", params)]
