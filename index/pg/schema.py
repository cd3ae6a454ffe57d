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
REBUILD = "public_rebuild"   # where --rebuild builds the new index while `public` keeps serving the old one


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


def start_rebuild(conn: psycopg.Connection) -> None:
    """Point this (autocommit) connection at a new, empty index in the schema REBUILD: what a killed rebuild
    left there is dropped, the migrations create the tables there (pgvector's type stays in `public`), and
    chunk positions continue after the live index's, so a position never names two different chunks (search
    caches chunks by position)."""
    conn.execute(f"drop schema if exists {REBUILD} cascade")
    conn.execute(f"create schema {REBUILD}")
    conn.execute(f"set search_path = {REBUILD}, public")
    migrate(conn)
    conn.execute(f"select setval('{REBUILD}.chunk_positions', (select last_value + 1 from public.chunk_positions), false)")


def swap_in(conn: psycopg.Connection) -> None:
    """Make the index built in REBUILD the live one, in one transaction: the live tables move out (and are
    dropped), the new ones move into `public`. Searches lock `state` first (index/pg/search.py), so the swap
    waits for those running and the next ones wait for it, then read the new index: none sees a mix or an
    empty index. Anything that fails before the commit leaves the old index serving."""
    with conn.transaction():
        conn.execute("lock table public.state in access exclusive mode")
        conn.execute("drop schema if exists public_old cascade")
        conn.execute("create schema public_old")
        for kind in ("r", "S"):   # tables first (their serial sequences move with them), then the sequences left
            names = [r[0] for r in conn.execute("select relname from pg_class where relnamespace = %s::regnamespace "
                                                "and relkind = %s order by relname", (REBUILD, kind))]
            what = "table" if kind == "r" else "sequence"
            for name in names:
                if conn.execute("select to_regclass(%s)", (f"public.{name}",)).fetchone()[0] is not None:
                    conn.execute(f'alter {what} public."{name}" set schema public_old')
            for name in names:
                conn.execute(f'alter {what} {REBUILD}."{name}" set schema public')
        conn.execute("drop schema public_old cascade")
        conn.execute(f"drop schema {REBUILD}")   # empty now; anything left in it aborts the swap
    conn.execute("set search_path to default")


def pin(conn: psycopg.Connection) -> None:
    """Start a reading transaction by locking the live `state` table (before any query takes the snapshot):
    a rebuild's swap (swap_in) waits for it, and it for the swap, never a mix of two indexes."""
    conn.execute("lock table state in access share mode")
