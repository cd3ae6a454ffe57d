"""Headings of Vietnamese administrative documents and the section path of every paragraph."""
from __future__ import annotations

import re

from core.document import Block, Section

# (level, pattern): a smaller level is higher in the document. List items "(16) ..." and "- ..."
# are content, not headings: they stay leaves under the nearest heading.
HEADINGS: list[tuple[int, re.Pattern]] = [
    (0, re.compile(r"^(?:PHẦN|Phần|CHƯƠNG|Chương|MỤC|Mục)\s+(?:[IVXLC]+|\d+)\b")),
    (0, re.compile(r"^(?:Nơi nhận|NƠI NHẬN)\s*:")),
    (1, re.compile(r"^Điều\s+\d+\s*[.:]")),
    (2, re.compile(r"^[IVXL]+\s*[.\-–]\s*\S")),
    (5, re.compile(r"^\d+\.\d+\.\d+\.?\s+\S")),
    (4, re.compile(r"^\d+\.\d+\.?\s+\S")),
    (3, re.compile(r"^\d+\s*\.\s+\S")),
    (6, re.compile(r"^[a-zđ]\)\s+\S")),
]
LABEL_CHARS = 50


def heading_level(text: str) -> int | None:
    """The heading level of a paragraph, or None for body text and list items."""
    for level, pattern in HEADINGS:
        if pattern.match(text):
            return level
    return None


def is_title_like(text: str) -> bool:
    """A heading that only names a part ("3. Các chỉ tiêu môi trường"), as opposed to a numbered clause."""
    return len(text) <= 120 and not text.rstrip().endswith((".", ";", ".”"))


def label(text: str) -> str:
    """A heading as shown in a section path, cut at a word boundary when long."""
    text = text.rstrip(":").strip()
    if len(text) <= LABEL_CHARS:
        return text
    return text[:LABEL_CHARS].rsplit(" ", 1)[0] + "…"


def outline(blocks: list[Block]) -> list[tuple[Block, list[Section], bool]]:
    """Each block with the headings above it and whether it is itself a heading."""
    stack: list[Section] = []
    out = []
    for block in blocks:
        level = heading_level(block.text)
        if level is None:
            out.append((block, list(stack), False))
            continue
        while stack and stack[-1].level >= level:
            stack.pop()
        out.append((block, list(stack), True))
        stack.append(Section(level, label(block.text)))
    return out
