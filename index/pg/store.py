"""Writing documents to the PostgreSQL index, each in one transaction, and reading what search derives from all of them."""
from __future__ import annotations

import json
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

import numpy as np
import psycopg

from core.document import Chunk, Document, Features, Metadata, content_hash
from core.text import passage_key
from core.vietnamese import fold
from index.lexical import syllables, tokens
from index.pg.schema import LOCK, ensure_dim
from index.query import NUM, Vocabulary, _tokens
from index.rerank import literal_text
from index.retrieve import lexical_texts


@dataclass
class Counts:
    """What a set of chunks adds to the index-wide statistics (subtracted again when they leave)."""

    df: Counter = field(default_factory=Counter)          # BM25 token -> chunks holding it
    words: Counter = field(default_factory=Counter)       # coverage word -> chunks holding it (folded and as written)
    unigrams: Counter = field(default_factory=Counter)    # vocabulary for diacritic restoration
    first: dict = field(default_factory=dict)             # syllable -> where it first occurs (the order forms are listed in)
    bigrams: Counter = field(default_factory=Counter)
    scopes: Counter = field(default_factory=Counter)      # province or year -> chunks about it
    tokens: int = 0                                       # BM25 lengths summed


@dataclass
class Row:
    """One chunk as stored: BM25 token counts, literal keys, passage key."""

    chunk: Chunk
    tf: Counter
    dl: int
    literal: set[str]
    key: int


def rows(chunks: list[Chunk], positions: list[int] | None = None) -> tuple[list[Row], Counts]:
    """The stored form of `chunks` and what they add to the statistics, exactly as index/store.derive counts them."""
    counts, out = Counts(), []
    for chunk, text in zip(chunks, lexical_texts(chunks)):
        tf = Counter(tokens(text, exact=True))
        dl = sum(tf.values()) or 1   # bm25s gives a passage without tokens one empty token
        words = literal_text(chunk)
        letters = syllables(words)
        out.append(Row(chunk, tf, dl, set(letters + [f"{a}_{b}" for a, b in zip(letters, letters[1:])]),
                       int(content_hash(passage_key(chunk.text), size=15), 16)))
        counts.df.update(tf.keys())
        counts.words.update(set(chunk.features.words))
        counts.words.update(set(chunk.features.words_exact))
        counts.scopes.update(set(chunk.features.scope))
        counts.tokens += dl
        for part, piece in enumerate((chunk.text, " ".join(chunk.section))):
            syl = _tokens(piece)
            if positions is not None:   # the embedded index meets all passages' text, then all sections
                for at, token in enumerate(syl):
                    key = (part << 52) + (positions[len(out) - 1] << 12) + min(at, 4095)
                    counts.first[token] = min(counts.first.get(token, key), key)
            counts.unigrams.update(syl)
            counts.bigrams.update(zip(syl, syl[1:]))
    return out, counts


def chunk_json(chunk: Chunk) -> dict:
    out = {f.name: getattr(chunk, f.name) for f in fields(Chunk)}
    out["features"] = {f.name: getattr(chunk.features, f.name) for f in fields(Features)}
    return out


def _add(cur: psycopg.Cursor, table: str, keys: tuple[str, ...], counter: Counter, sign: int) -> None:
    """Add (sign 1) or subtract (-1) counts; rows that reach 0 go."""
    if not counter:
        return
    items = list(counter.items())
    columns = [[k[i] if len(keys) > 1 else k for k, _ in items] for i in range(len(keys))]
    names, casts = ", ".join(keys), ", ".join(["%s::text[]"] * len(keys))
    if sign > 0:
        cur.execute(f"insert into {table} ({names}, n) select * from unnest({casts}, %s::bigint[]) "
                    f"on conflict ({names}) do update set n = {table}.n + excluded.n", (*columns, [n for _, n in items]))
        return
    match = " and ".join(f"t.{k} = x.{k}" for k in keys)
    cur.execute(f"update {table} t set n = t.n - x.n from unnest({casts}, %s::bigint[]) as x ({names}, n) where {match}",
                (*columns, [n for _, n in items]))
    cur.execute(f"delete from {table} where n <= 0 and ({names}) in (select * from unnest({casts}))", columns)


def _apply(cur: psycopg.Cursor, counts: Counts, sign: int) -> None:
    _add(cur, "words", ("word",), counts.words, sign)
    if sign > 0:
        items = list(counts.unigrams.items())
        cur.execute("insert into syllables (token, n, first) select * from unnest(%s::text[], %s::bigint[], %s::bigint[]) "
                    "on conflict (token) do update set n = syllables.n + excluded.n, first = least(syllables.first, excluded.first)",
                    ([t for t, _ in items], [n for _, n in items], [counts.first[t] for t, _ in items]))
    else:
        _add(cur, "syllables", ("token",), counts.unigrams, sign)
    _add(cur, "syllable_pairs", ("a", "b"), counts.bigrams, sign)
    _add(cur, "scopes", ("scope",), counts.scopes, sign)


def _bump(cur: psycopg.Cursor, chunks: int, tokens_: int) -> None:
    """Every change gets a new index version: the id of the transaction that made it."""
    cur.execute("update state set version = pg_current_xact_id()::text::bigint, chunks = chunks + %s, tokens = tokens + %s",
                (chunks, tokens_))


def _remove_chunks(cur: psycopg.Cursor, doc_id: str) -> list[str]:
    """Take a document's chunks out of every table and statistic (its row stays); the content hashes of their
    vectors, for `_drop_unused` once the new chunks are in (they may use the same vectors)."""
    found = cur.execute("select id, chunk, dl from chunks where doc_id = %s", (doc_id,)).fetchall()
    if not found:
        return []
    ids = [r[0] for r in found]
    _, counts = rows([Chunk(**c) for _, c, _ in found])
    cur.execute("update terms t set df = t.df - x.n from (select term_id, count(*) n from postings "
                "where chunk_id = any(%s) group by term_id) x where t.id = x.term_id", (ids,))
    cur.execute("delete from postings where chunk_id = any(%s)", (ids,))
    hashes = list({content_hash(c["embed_text"]) for _, c, _ in found})
    cur.execute("delete from chunks where doc_id = %s", (doc_id,))
    _apply(cur, counts, -1)
    _bump(cur, -len(found), -sum(r[2] for r in found))
    return hashes


def _drop_unused(cur: psycopg.Cursor, hashes: list[str]) -> None:
    """Delete the vectors of these content hashes that no chunk uses any more."""
    if hashes:
        cur.execute("delete from vectors v where hash = any(%s) and not exists "
                    "(select 1 from chunks c where c.vector_hash = v.hash)", (hashes,))


def known_vectors(conn: psycopg.Connection, hashes: list[str]) -> set[str]:
    """Which of these content hashes of embedded texts have a vector already."""
    return {r[0] for r in conn.execute("select hash from vectors where hash = any(%s)", (hashes,))}


def write_document(conn: psycopg.Connection, doc: Document, vectors: dict[str, np.ndarray]) -> None:
    """Put `doc` in the index, replacing the version stored under its id (call inside a transaction).
    `vectors` holds the vectors of its embedded texts the index does not have yet, by content hash."""
    cur = conn.cursor()
    replaced = _remove_chunks(cur, doc.id)
    meta = doc.meta
    cur.execute(
        "insert into documents (id, source, sha, text, meta, pages, chunks, province_key, type_key, year, date, title) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (id) do update set source = excluded.source, "
        "sha = excluded.sha, text = excluded.text, meta = excluded.meta, pages = excluded.pages, chunks = excluded.chunks, "
        "province_key = excluded.province_key, type_key = excluded.type_key, year = excluded.year, date = excluded.date, "
        "title = excluded.title, signature = null",
        (doc.id, doc.source, doc.sha, doc.text, json.dumps(meta.to_dict(), ensure_ascii=False), doc.pages, len(doc.chunks),
         fold(meta.province or ""), fold(meta.type or ""), meta.year, meta.date, meta.title))
    if vectors:
        cur.executemany("insert into vectors (hash, embedding) values (%s, %s) on conflict do nothing",
                        [(h, np.asarray(v, dtype=np.float32)) for h, v in vectors.items()])
    if not doc.chunks:
        _drop_unused(cur, replaced)
        _bump(cur, 0, 0)
        return
    ids = [r[0] for r in cur.execute("select nextval('chunk_positions') from generate_series(1, %s)", (len(doc.chunks),))]
    stored, counts = rows(list(doc.chunks), ids)
    terms = sorted(set(counts.df) | {k for row in stored for k in row.literal})
    term_id = dict(cur.execute(
        "insert into terms (term, df) select * from unnest(%s::text[], %s::int[]) on conflict (term) "
        "do update set df = terms.df + excluded.df returning term, id", (terms, [counts.df.get(t, 0) for t in terms])).fetchall())
    with cur.copy("copy chunks (id, doc_id, ord, chunk, passage_key, dl, vector_hash, literal) from stdin") as copy:
        for id_, (n, row) in zip(ids, enumerate(stored)):
            copy.write_row((id_, doc.id, n, json.dumps(chunk_json(row.chunk), ensure_ascii=False), row.key, row.dl,
                            content_hash(row.chunk.embed_text), sorted(term_id[k] for k in row.literal)))
    signature = next((id_ for id_, row in zip(ids, stored) if "signer" in row.chunk.features.kinds), None)
    cur.execute("update documents set signature = %s where id = %s", (signature, doc.id))
    with cur.copy("copy postings (term_id, chunk_id, tf, dl) from stdin") as copy:
        for id_, row in zip(ids, stored):
            for token, tf in row.tf.items():
                copy.write_row((term_id[token], id_, tf, row.dl))
    _apply(cur, counts, 1)
    _drop_unused(cur, replaced)
    _bump(cur, len(stored), counts.tokens)


def delete_document(conn: psycopg.Connection, doc_id: str) -> bool:
    """Remove a document and everything derived from it (inside a transaction); False if it was not there."""
    cur = conn.cursor()
    _drop_unused(cur, _remove_chunks(cur, doc_id))
    gone = cur.execute("delete from documents where id = %s", (doc_id,)).rowcount
    if gone:
        _bump(cur, 0, 0)
    return bool(gone)


def set_model(conn: psycopg.Connection, manifest: dict, dim: int) -> None:
    """Record the model, backend and features version of the index, and type its vectors (once)."""
    ensure_dim(conn, dim)
    for key, value in manifest.items():
        conn.execute("insert into meta values (%s, %s) on conflict (key) do update set value = excluded.value",
                     (key, str(value)))


@contextmanager
def writer(conn: psycopg.Connection):
    """One writer at a time per database (ingest, app uploads); readers never wait."""
    conn.execute("select pg_advisory_lock(%s)", (LOCK + 1,))
    try:
        yield
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (LOCK + 1,))


# ---- reading -----------------------------------------------------------------------------

def manifest(conn: psycopg.Connection) -> dict:
    meta = dict(conn.execute("select key, value from meta").fetchall())
    version, chunks, tokens_ = conn.execute("select version, chunks, tokens from state").fetchone()
    documents = conn.execute("select count(*) from documents").fetchone()[0]
    return dict(meta, version=f"pg{version}", documents=documents, chunks=chunks, tokens=tokens_,
                dim=int(meta.get("dim") or 0), features=int(meta.get("features") or 0))


def version(conn: psycopg.Connection) -> int:
    """The index version: the id of the transaction that last changed it."""
    return conn.execute("select version from state").fetchone()[0]


def documents(conn: psycopg.Connection, lazy_chunks=None) -> tuple[dict[str, Document], dict[str, int]]:
    """Every document (in ingest order) and the position of its signature chunk; `lazy_chunks(doc_id, n)`
    gives each document's chunks (default: none loaded)."""
    docs, signatures = {}, {}
    for id_, source, sha, text, meta, pages, n, signature in conn.execute(
            "select id, source, sha, text, meta, pages, chunks, signature from documents order by ord"):
        doc = Document(id=id_, source=source, sha=sha, text=text, meta=Metadata(**meta), pages=pages)
        if lazy_chunks is not None:
            doc.chunks = lazy_chunks(id_, n)
        docs[id_] = doc
        if signature is not None:
            signatures[id_] = signature
    return docs, signatures


def vocabulary(conn: psycopg.Connection) -> Vocabulary:
    """The diacritic-restoration vocabulary from the stored counts: the same counts index/store.derive makes."""
    vocab = Vocabulary([])   # the common-words list only: it counts after the corpus, as in Vocabulary(texts)
    common, common_pairs = vocab.unigrams, vocab.bigrams
    vocab.unigrams = Counter(dict(conn.execute("select token, n from syllables order by first, token")))
    vocab.bigrams = Counter({(a, b): n for a, b, n in conn.execute("select a, b, n from syllable_pairs")})
    vocab.unigrams.update(common)
    vocab.bigrams.update(common_pairs)
    vocab.forms.clear()
    for word in vocab.unigrams:
        if word != NUM:
            vocab.forms[fold(word)].append(word)
    vocab.total = sum(vocab.unigrams.values()) or 1
    return vocab


def scopes(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("select scope from scopes where n > 0")}


def chunks_by_id(conn: psycopg.Connection, ids) -> dict[int, tuple[Chunk, int]]:
    """Chunks and passage keys by position (chunk row id)."""
    return {id_: (Chunk(**chunk), key) for id_, chunk, key in
            conn.execute("select id, chunk, passage_key from chunks where id = any(%s)", (list(ids),))}


def chunk_ids(conn: psycopg.Connection, doc_id: str) -> list[int]:
    return [r[0] for r in conn.execute("select id from chunks where doc_id = %s order by ord", (doc_id,))]
