"""Settings from environment variables, read once at start-up."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def _users(spec: list[str]) -> dict[str, tuple[str, str]]:
    """"name:password:role" entries -> {name: (password, role)}; role defaults to reader."""
    users = {}
    for entry in spec:
        name, _, rest = entry.partition(":")
        password, _, role = rest.rpartition(":") if rest.count(":") else (rest, "", "reader")
        users[name] = (password, role if role in ("reader", "admin") else "reader")
    return users


@dataclass
class Settings:
    index_dir: Path | str | None = None                 # None: $INDEX_URL, else $INDEX_DIR, else .index/; a URL stays a str
    corpus_dir: Path = field(default_factory=lambda: Path(os.environ.get("CORPUS_DIR") or ROOT / "corpus"))
    upload_dir: Path | None = None                      # None: <corpus>/uploads
    upload_max_mb: float = field(default_factory=lambda: float(os.environ.get("UPLOAD_MAX_MB") or 20))
    allowed_origins: list[str] = field(default_factory=lambda: _list("ALLOWED_ORIGINS"))
    reader_tokens: list[str] = field(default_factory=lambda: _list("AUTH_READER_TOKENS"))
    admin_tokens: list[str] = field(default_factory=lambda: _list("AUTH_ADMIN_TOKENS"))
    users: dict[str, tuple[str, str]] = field(default_factory=lambda: _users(_list("AUTH_USERS")))
    secret: str = field(default_factory=lambda: os.environ.get("AUTH_SECRET") or secrets.token_hex(32))
    query_threads: int = field(default_factory=lambda: int(os.environ.get("QUERY_THREADS") or 2))
    workers: int = field(default_factory=lambda: int(os.environ.get("WORKERS") or 0))          # search processes; 0: in the app's
    query_cache: int = field(default_factory=lambda: int(os.environ.get("QUERY_CACHE") or 1024))  # answers kept; 0: none

    def __post_init__(self) -> None:
        self.corpus_dir = Path(self.corpus_dir)   # a string from the command line (--corpus) too
        if self.index_dir is not None and not str(self.index_dir).startswith(("postgresql://", "postgres://")):
            self.index_dir = Path(self.index_dir)
        if self.upload_dir is None:
            self.upload_dir = Path(os.environ.get("UPLOAD_DIR") or self.corpus_dir / "uploads")
        self.corpus_dir, self.upload_dir = Path(self.corpus_dir).resolve(), Path(self.upload_dir).resolve()

    @property
    def auth_on(self) -> bool:
        return bool(self.reader_tokens or self.admin_tokens or self.users)

    @property
    def roots(self) -> list[Path]:
        """Folders ingested as a whole; uploads live in the corpus folder or in a root of their own,
        so a document keeps one source key ("corpus/uploads/x.txt") whichever way it is ingested."""
        if self.upload_dir.is_relative_to(self.corpus_dir):
            return [self.corpus_dir]
        return [self.corpus_dir, self.upload_dir]
