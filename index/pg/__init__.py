"""The index in PostgreSQL + pgvector, selected by INDEX_URL=postgresql://… (the embedded FAISS + BM25 folder stays the default)."""
from __future__ import annotations

SCHEMES = ("postgresql://", "postgres://")


def is_url(location) -> bool:
    """A PostgreSQL connection URL rather than an index folder."""
    return isinstance(location, str) and location.startswith(SCHEMES)
