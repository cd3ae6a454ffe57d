"""Split a document along its own structure: one chunk per paragraph or list item, long ones split."""
from __future__ import annotations

import re
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
    ("2024", "chỉ tiêu môi trường"); in a law, the article's whole title and the clause's lead-in
    tell a clause from its sibling articles. The passage text itself stays last and whole."""
    context = " › ".join([title, *section]) if title else " › ".join(section)
    return f"{context}: {text}" if context else text


def split_long(text: str) -> list[str]:
    if len(text) <= MAX_CHARS:
        return [text]
    return [piece.strip() for piece in _splitter().split_text(text) if piece.strip()]


# A closing line that only a signature block has: "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "BÍ THƯ", "(Đã ký)".
_SIGNATURE_CUE = re.compile(
    r"^(?:T/?M|K/?T|T/?L|TUQ|Q)\.?\s|^(?:PHÓ\s+)?(?:CHỦ TỊCH|BÍ THƯ|GIÁM ĐỐC|BỘ TRƯỞNG|THỦ TƯỚNG|TRƯỞNG BAN|"
    r"CHÁNH VĂN PHÒNG|THỦ TRƯỞNG|VIỆN TRƯỞNG|CHÁNH ÁN)\b|^\(?(?:Đã ký|đã ký)", re.I)
_NAME = re.compile(r"^(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\s){1,4}[A-ZĐÀ-Ỹ][\wÀ-ỹ]*$")


def _signature_start(blocks: list[Block]) -> int:
    """Index where the closing signature block starts ("T/M TỈNH ỦY", "BÍ THƯ", the name), or len(blocks).
    It is the run of short lines at the very end that are neither list items, sentences nor table rows
    ("Chỉ tiêu: ...; Đơn vị: ha"), and it holds a role line or a name."""
    start = len(blocks)
    while start > 0:
        text = blocks[start - 1].text
        if len(text) > 60 or text.startswith(("-", "+", "•")) or text.endswith((".", ";", ",", ":")) or ": " in text:
            break
        start -= 1
    run = [b.text.strip("* ") for b in blocks[start:]]
    signed = any(_SIGNATURE_CUE.match(t) or _NAME.match(t) for t in run)
    return start if signed and 0 < start < len(blocks) else len(blocks)


def chunk_blocks(doc_id: str, blocks: list[Block], title: str, pages: list[int] | None = None) -> list[Chunk]:
    """Chunks in document order. A heading that only names a part is context for the chunks
    under it (it is in their section path), not a chunk of its own. A clause or point of a law
    article is cited with its own label ("Điều 24. … › khoản 2")."""
    signature = _signature_start(blocks)
    entries = outline(blocks[:signature])
    chunks: list[Chunk] = []
    for i, entry in enumerate(entries):
        block, parents = entry.block, entry.parents
        if entry.is_heading and is_title_like(block.text):
            following = entries[i + 1].parents if i + 1 < len(entries) else []
            if len(following) > len(parents):  # the next paragraph sits under this heading
                continue
        section = [s.label for s in parents] + ([entry.own] if entry.own else [])
        context = [s.context or s.label for s in parents]
        page = pages[block.line_start - 1] if pages and block.line_start <= len(pages) else None
        for piece in split_long(block.text):
            chunks.append(Chunk(
                doc_id=doc_id, text=piece, section=section,
                line_start=block.line_start, line_end=block.line_end,
                embed_text=embed_text(title, context, piece), page=page,
            ))
    if signature < len(blocks):
        lines = blocks[signature:]
        text = " ".join(b.text for b in lines)
        page = pages[lines[0].line_start - 1] if pages and lines[0].line_start <= len(pages) else None
        chunks.append(Chunk(doc_id=doc_id, text=text, section=[SIGNATURE], line_start=lines[0].line_start,
                            line_end=lines[-1].line_end, embed_text=embed_text(title, [SIGNATURE], text), page=page))
    return chunks
