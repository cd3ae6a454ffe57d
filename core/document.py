"""The data that flows from ingest to index: a document, its metadata and its chunks."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


def content_hash(*parts: str, size: int = 16) -> str:
    """Short, stable hex id from text parts (sha1)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:size]


SIGNATURE = "Chữ ký"   # the section of a document's closing signature lines (one chunk)


@dataclass
class Metadata:
    """What a citation says about a document. Every field can be overridden by a sidecar."""

    type: str | None = None          # "Nghị quyết", "Kế hoạch", ...
    title: str | None = None         # "Nghị quyết về nhiệm vụ năm 2024"
    subject: str | None = None       # the "Về ..." line as written
    issuer: str | None = None        # "Ban Chấp hành Đảng bộ tỉnh Lạng Sơn"
    province: str | None = None      # "Lạng Sơn"
    province_source: str | None = None  # "header", "text" (inferred from mentions) or "sidecar"
    place: str | None = None         # where it was issued, as the date line says ("Lạng Sơn", "Hà Nội")
    date: str | None = None          # ISO "2023-12-06"
    date_kind: str | None = None     # "issued" or "adopted"
    signer: str | None = None
    number: str | None = None        # "12-NQ/TU"
    year: int | None = None          # the year filter's year: of the date, else of the title, else of the number
    converted_from: str | None = None  # legacy encoding the text was converted from
    ocr: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Block:
    """One paragraph of cleaned text and the source lines (1-based, inclusive) it came from."""

    text: str
    line_start: int
    line_end: int


@dataclass
class Section:
    """A heading: its level (smaller is higher) and the label shown in a section path."""

    level: int
    label: str
    context: str = ""   # what it adds to the embedded text of the passages under it (the label when empty)


@dataclass
class Features:
    """What a chunk is, computed once when it is indexed (index/features.py) and stored with it."""

    kinds: list[str] = field(default_factory=list)        # kinds of answer it holds: "number", "date", "who", "signer"
    aside: bool = False                                   # a line of the recipients list ("Nơi nhận")
    scope: list[str] = field(default_factory=list)        # folded province of its document and years it (in context) names
    words: list[str] = field(default_factory=list)        # folded content words of the passage in context
    words_exact: list[str] = field(default_factory=list)  # the same, lowercase as written


@dataclass
class Chunk:
    """The unit that is embedded, searched and cited."""

    doc_id: str
    text: str                 # cleaned passage, as it reads
    section: list[str]        # headings from the top, e.g. ["II- CÁC CHỈ TIÊU CHỦ YẾU", "3. Các chỉ tiêu môi trường"]
    line_start: int
    line_end: int
    embed_text: str           # what the dense model sees (title + section + text)
    page: int | None = None
    id: str = field(default="")
    features: Features = field(default_factory=Features)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_hash(self.doc_id, self.embed_text, str(self.line_start))
        if isinstance(self.features, dict):   # as stored
            self.features = Features(**self.features)

    @property
    def section_path(self) -> str:
        return " › ".join(self.section)

    @property
    def headings(self) -> list[str]:
        """The section path without a law clause's or point's own label ("khoản 2", "điểm a"): the
        headings that say what the passage is about."""
        return [s for s in self.section if not s.startswith(("khoản ", "điểm "))]


@dataclass
class Document:
    """A source file after reading and cleaning. `id` is stable per source; `sha` changes with content."""

    id: str
    source: str               # path as given, relative to the ingest root where possible
    sha: str                  # hash of the file bytes and its metadata sidecar
    text: str                 # the readable text; chunk line numbers count its lines
    meta: Metadata
    pages: list[int] | None = None
    chunks: list[Chunk] = field(default_factory=list)

    @staticmethod
    def id_for(source: str) -> str:
        return content_hash(source, size=12)
