"""Split a document along its own structure: one chunk per paragraph or list item, long ones split."""
from __future__ import annotations

from functools import lru_cache

from core.document import SIGNATURE, Block, Chunk
from ingest.structure import is_title_like, outline

MAX_CHARS = 700       # a paragraph longer than this is split ...
SPLIT_CHARS = 450     # ... into pieces of about this size
SPLIT_OVERLAP = 60


@lru_cache(maxsize=1)
def _splitter():
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=SPLIT_CHARS, chunk_overlap=SPLIT_OVERLAP,
        separators=["; ", ". ", ", ", " ", ""], keep_separator="end",
    )


def embed_text(title: str, section: list[str], text: str) -> str:
    """What the dense model sees: the document title and heading path give a bare target line
    ("(16) Trồng rừng mới 9.000 ha, ...") the year, place and topic a question asks about
    ("2024", "chỉ tiêu môi trường"). The passage text itself stays last and whole."""
    context = " › ".join([title, *section]) if title else " › ".join(section)
    return f"{context}: {text}" if context else text


def split_long(text: str) -> list[str]:
    if len(text) <= MAX_CHARS:
        return [text]
    return [piece.strip() for piece in _splitter().split_text(text) if piece.strip()]


def _signature_start(blocks: list[Block]) -> int:
    """Index where the closing signature block starts ("T/M TỈNH ỦY", "BÍ THƯ", the name), or len(blocks).
    It is the run of short lines at the very end that are neither list items nor sentences."""
    start = len(blocks)
    while start > 0:
        text = blocks[start - 1].text
        if len(text) > 60 or text.startswith(("-", "+", "•")) or text.endswith((".", ";", ",", ":")):
            break
        start -= 1
    return start if start < len(blocks) and start > 0 else len(blocks)


def chunk_blocks(doc_id: str, blocks: list[Block], title: str, pages: list[int] | None = None) -> list[Chunk]:
    """Chunks in document order. A heading that only names a part is context for the chunks
    under it (it is in their section path), not a chunk of its own."""
    signature = _signature_start(blocks)
    entries = outline(blocks[:signature])
    chunks: list[Chunk] = []
    for i, (block, parents, is_heading) in enumerate(entries):
        if is_heading and is_title_like(block.text):
            following = entries[i + 1][1] if i + 1 < len(entries) else []
            if len(following) > len(parents):  # the next paragraph sits under this heading
                continue
        section = [s.label for s in parents]
        page = pages[block.line_start - 1] if pages and block.line_start <= len(pages) else None
        for piece in split_long(block.text):
            chunks.append(Chunk(
                doc_id=doc_id, text=piece, section=section,
                line_start=block.line_start, line_end=block.line_end,
                embed_text=embed_text(title, section, piece), page=page,
            ))
    if signature < len(blocks):
        lines = blocks[signature:]
        text = " ".join(b.text for b in lines)
        page = pages[lines[0].line_start - 1] if pages and lines[0].line_start <= len(pages) else None
        chunks.append(Chunk(doc_id=doc_id, text=text, section=[SIGNATURE], line_start=lines[0].line_start,
                            line_end=lines[-1].line_end, embed_text=embed_text(title, [SIGNATURE], text), page=page))
    return chunks
