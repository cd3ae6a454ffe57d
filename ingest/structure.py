"""Headings of Vietnamese administrative and legal documents and the section path of every paragraph.

Laws, decrees and circulars: "Phần", "Chương", "Mục", "Điều N. title"; inside an article the numbered
paragraphs are its clauses (khoản "1.", "2.") and the lettered ones its points (điểm "a)", "b)"), cited
as "Điều 24. … › khoản 2 › điểm a". Resolutions and plans: "I.", "1.", "1.1.", "a)" parts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.document import Block, Section

# (level, pattern): a smaller level is higher in the document. List items "(16) ..." and "- ..."
# are content, not headings: they stay leaves under the nearest heading.
_NUMERAL = r"(?:[IVXLC]+|\d+)\b"
_ORDINAL = r"thứ\s+(?:nhất|hai|ba|tư|năm|sáu|bảy|tám|chín|mười(?:\s+\w+)?)\b"
PART, CHAPTER, SECTION, ARTICLE, CLAUSE, POINT = 0, 1, 2, 3, 5, 8
HEADINGS: list[tuple[int, re.Pattern]] = [
    (PART, re.compile(rf"^(?:PHẦN|Phần)\s+(?:{_NUMERAL}|{_ORDINAL})", re.I)),
    (CHAPTER, re.compile(rf"^(?:CHƯƠNG|Chương)\s+{_NUMERAL}", re.I)),
    (SECTION, re.compile(rf"^(?:MỤC|Mục)\s+{_NUMERAL}")),
    (0, re.compile(r"^(?:Nơi nhận|NƠI NHẬN)\s*:")),
    (ARTICLE, re.compile(r"^(?:Điều|ĐIỀU)\s+\d+[a-zđ]?\s*[.:]")),
    (4, re.compile(r"^[IVXL]+\s*[.\-–]\s*\S")),
    (7, re.compile(r"^\d+\.\d+\.\d+\.?\s+\S")),
    (6, re.compile(r"^\d+\.\d+\.?\s+\S")),
    (CLAUSE, re.compile(r"^\d+\s*\.\s+\S")),
    (POINT, re.compile(r"^[a-zđ]\)\s+\S")),
]
_DIVISION = re.compile(rf"^(?:phần|chương|mục)\s+(?:{_NUMERAL}|{_ORDINAL})[\s.:]*$", re.I)
LABEL_CHARS = 50
CONTEXT_CHARS = 200


def heading_level(text: str) -> int | None:
    """The heading level of a paragraph, or None for body text and list items."""
    for level, pattern in HEADINGS:
        if pattern.match(text):
            return level
    return None


def is_title_like(text: str) -> bool:
    """A heading that only names a part ("3. Các chỉ tiêu môi trường"), as opposed to a numbered clause."""
    return len(text) <= 120 and not text.rstrip().endswith((".", ";", ".”"))


def label(text: str, size: int = LABEL_CHARS) -> str:
    """A heading as shown in a section path, cut at a word boundary when long."""
    text = text.rstrip(":").strip()
    if len(text) <= size:
        return text
    return text[:size].rsplit(" ", 1)[0] + "…"


@dataclass
class Entry:
    """A paragraph in the outline: the headings above it, whether it is a heading itself, and for a
    clause or point of a law article its own label ("khoản 2", "điểm a"), which its citation ends with."""

    block: Block
    parents: list[Section]
    is_heading: bool
    own: str | None = None


def _merge_division_titles(blocks: list[Block]) -> list[Block]:
    """"Chương I" / "NHỮNG QUY ĐỊNH CHUNG" on two lines are one heading: "Chương I. NHỮNG QUY ĐỊNH CHUNG"."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if _DIVISION.match(block.text) and following and heading_level(following.text) is None \
                and is_title_like(following.text) and not following.text.rstrip().endswith(":"):
            out.append(Block(f"{block.text.rstrip(' .:')}. {following.text}", block.line_start, following.line_end))
            i += 2
            continue
        out.append(block)
        i += 1
    return out


def _law_part(level: int, text: str, parent: Section | None) -> str | None:
    """"khoản 2" for a numbered paragraph right under an article, "điểm a" for a lettered one under a
    clause or an article; None elsewhere (the parts of a resolution keep their own numbering)."""
    if parent is None:
        return None
    if level == CLAUSE and parent.level == ARTICLE:
        return "khoản " + text.split(".", 1)[0].strip()
    if level == POINT and (parent.level == ARTICLE or parent.label.startswith("khoản")):
        return "điểm " + text.split(")", 1)[0].strip()
    return None


def _context(level: int, text: str, short: str) -> str:
    """What a heading adds to the embedded text of the passages under it: an article's whole title
    and a clause's whole lead-in ("1. Người sử dụng trái phép chất ma túy có trách nhiệm sau đây:"),
    the short label for every other heading."""
    if level == ARTICLE and is_title_like(text) or level in (CLAUSE, POINT) and short.startswith(("khoản", "điểm")):
        return label(text, CONTEXT_CHARS)
    return short


def outline(blocks: list[Block]) -> list[Entry]:
    """Each block with the headings above it and whether it is itself a heading."""
    stack: list[Section] = []
    out = []
    for block in _merge_division_titles(blocks):
        level = heading_level(block.text)
        if level is None:
            out.append(Entry(block, list(stack), False))
            continue
        while stack and stack[-1].level >= level:
            stack.pop()
        own = _law_part(level, block.text, stack[-1] if stack else None)
        out.append(Entry(block, list(stack), True, own))
        short = own or label(block.text)
        stack.append(Section(level, short, _context(level, block.text, short)))
    return out
