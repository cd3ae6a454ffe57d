"""Tables of the PostgreSQL index and their numbered migrations, applied when a process connects."""
from __future__ import annotations

import psycopg
from pgvector.psycopg import register_vector

# Each migration runs once, in order, in one transaction with its schema_version row. Append, never edit.
MIGRATIONS = [
    # 1: documents, chunks (with their literal keys, GIN-indexed), vectors by content hash, BM25 postings with term statistics,
    #    and the counters search derives from all chunks (coverage IDF, vocabulary, scopes), kept up to date by ingest
    """
    create extension if not exists vector;
    create table meta (key text primary key, value text not null);
    create table state (one boolean primary key default true check (one), version bigint not null,
                        chunks bigint not null, tokens bigint not null);
    insert into state values (true, 0, 0, 0);
    create table documents (
        id text primary key, source text not null, sha text not null, text text not null, meta jsonb not null,
        pages int[], chunks int not null, signature bigint, ord bigserial,
        province_key text, type_key text, year int, date text, title text);
    create index documents_province on documents (province_key);
    create table vectors (hash text primary key, embedding vector not null);
    create sequence chunk_positions minvalue 0 start 0;
    create table chunks (
        id bigint primary key default nextval('chunk_positions'), doc_id text not null references documents (id) on delete cascade,
        ord int not null, chunk jsonb not null, passage_key bigint not null, dl int not null,
        vector_hash text not null references vectors (hash), literal int[] not null, unique (doc_id, ord));
    create index chunks_literal on chunks using gin (literal);   -- phrase and number candidates: literal @> keys
    create index chunks_vector on chunks (vector_hash);
    create table terms (id serial primary key, term text not null unique, df int not null default 0);  -- df: in BM25
    create table postings (term_id int not null, chunk_id bigint not null, tf int not null, dl int not null,
                           primary key (term_id, chunk_id) include (tf, dl));   -- a term's postings: an index-only scan
    create index postings_chunk on postings (chunk_id);
    create table words (word text primary key, n bigint not null);
    create table syllables (token text primary key, n bigint not null, first bigint not null);  -- first: where it first occurs
    create table syllable_pairs (a text not null, b text not null, n bigint not null, primary key (a, b));
    create table scopes (scope text primary key, n bigint not null);
    """,
]
LOCK = 7_460_312   # advisory lock key: one migrator, one writer at a time


class Unreachable(RuntimeError):
    """The database cannot be reached (or refuses the connection)."""


def open_connection(url: str, **options) -> psycopg.Connection:
    """psycopg.connect, its failure as one line without the password."""
    try:
        return psycopg.connect(url, connect_timeout=10, **options)
    except psycopg.OperationalError as err:
        head, at, tail = url.rpartition("@")
        where = (head.rsplit(":", 1)[0] + ":***@" + tail) if at and ":" in head.split("//", 1)[-1] else url
        raise Unreachable(f"cannot connect to {where}: {str(err).strip().splitlines()[0]}") from None


def connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    """A connection with the schema up to date and pgvector's types registered."""
    conn = open_connection(url, autocommit=autocommit)
    migrate(conn)
    register_vector(conn)
    return conn


def migrate(conn: psycopg.Connection) -> int:
    """Apply the migrations this database has not seen; returns its schema version."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK,))
        conn.execute("create table if not exists schema_version (version int primary key, applied timestamptz default now())")
        done = conn.execute("select coalesce(max(version), 0) from schema_version").fetchone()[0]
        for number, sql in enumerate(MIGRATIONS[done:], start=done + 1):
            conn.execute(sql)
            conn.execute("insert into schema_version (version) values (%s)", (number,))
    return len(MIGRATIONS)


def ensure_dim(conn: psycopg.Connection, dim: int) -> None:
    """Give the vectors their dimension (pgvector's HNSW index needs it) and the HNSW index, once."""
    typed = conn.execute("select atttypmod from pg_attribute where attrelid = 'vectors'::regclass "
                         "and attname = 'embedding'").fetchone()[0]
    if typed == dim:
        return
    if typed > 0:
        raise ValueError(f"the index holds {typed}-dimensional vectors, not {dim}")
    conn.execute(f"alter table vectors alter column embedding type vector({int(dim)})")
    conn.execute("create index vectors_hnsw on vectors using hnsw (embedding vector_ip_ops)")
