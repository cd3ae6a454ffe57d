"""Repair text as these documents arrive: markup, LaTeX, signature marks, paragraphs split by page breaks."""
from __future__ import annotations

import re

from core.document import Block
from core.vietnamese import normalize

_LATEX = {r"\geq": "≥", r"\ge": "≥", r"\leq": "≤", r"\le": "≤", r"\times": "×", r"\pm": "±",
          r"\%": "%", r"\approx": "≈", r"\neq": "≠", r"\,": " ", r"\;": " ", r"\ ": " "}
_LATEX_SPAN = re.compile(r"\$([^$\n]{1,80})\$")
_SIGNATURE_MARK = re.compile(r"(?:^|\s)\*{1,2}[A-ZĐ]{1,3}\*{1,2}(?=\s|$)")   # "*HB*", "*M*" at a line end
_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_FOOTNOTE = re.compile(rf"\[\^\d+\]|(?<=[^\s\d])\^\d+\b|(?<=\S)[{_SUPERSCRIPTS}]+")  # markers in body text
_FOOTNOTE_LINE = re.compile(rf"^\s*(?:[{_SUPERSCRIPTS}]+|\[\^\d+\]:)\s*")           # the note itself
_BOLD_BEFORE_HEADING = re.compile(r"\*\*(?=\s*(?:[IVX]+[.-]|\d+(?:\.\d+)*\.?\s|Điều\s+\d))")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2})(?=\S)(.+?)(?<=\S)\1")
_STRAY_STARS = re.compile(r"\*{2,}")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
_TERMINAL = tuple(".:;!?…\"”)/")
LABEL_LINE = 30   # a line this short that does not end a sentence was ended on purpose (a page break fills the line)
# Header lines that stand alone even in lowercase (TCVN3 text has no toned capitals): the number,
# the "V/v" subject of a letter, the place and date.
_HEADER_FIELD = re.compile(r"^(?:số\s*:\s*\d|số\s+\d[\w/.-]*$|v/v\b)|,\s*ngày\s*\d{1,2}\s*tháng\s*\d{1,2}\s*năm\s*\d{4}\W*$", re.I)


def _latex(match: re.Match) -> str:
    body = match.group(1)
    for macro in sorted(_LATEX, key=len, reverse=True):
        body = body.replace(macro, _LATEX[macro])
    body = re.sub(r"\\[a-zA-Z]+", "", body).replace("{", "").replace("}", "")
    return re.sub(r"\s*(≥|≤|≈|≠|±)\s*", r"\1 ", body).strip()


def clean_line(line: str) -> str:
    """One source line -> searchable text (empty when nothing is left)."""
    line = normalize(line)
    line = _LATEX_SPAN.sub(_latex, line)
    line = _SIGNATURE_MARK.sub("", line)
    line = _FOOTNOTE.sub("", line)
    line = _EMPHASIS.sub(r"\2", line)
    line = _STRAY_STARS.sub("", line)
    line = line.replace("\\", " ") if re.fullmatch(r".*\s\\\s.*", line) else line  # "Đảng, \ (B/c)"
    return _SPACES.sub(" ", line).strip()


def _split_fused_headings(line: str) -> list[str]:
    """"I. MỤC ĐÍCH, YÊU CẦU**1. Mục đích**" carries two headings on one line: split them."""
    return [part for part in _BOLD_BEFORE_HEADING.split(line) if part.strip()]


def _continues(previous: str, current: str) -> bool:
    """Is `current` the rest of a paragraph cut by a page break ("... thực hiện Nghị" / "quyết số 43")?"""
    if not previous or not current or previous.endswith(_TERMINAL) or previous.isupper():
        return False  # a finished sentence, or an all-caps heading line
    if len(previous) < LABEL_LINE or _HEADER_FIELD.search(previous) or _HEADER_FIELD.search(current):
        return False  # a header line ("ubnd tỉnh cao bằng", "số: 12/KH-UBND", "..., ngày 05 tháng 01 năm 2025")
    return current[0].islower() or current[0] in ",;"


def blocks(text: str) -> list[Block]:
    """Cleaned paragraphs with their source line span; line numbers count lines of `text` from 1.

    A paragraph cut by a page break is joined again, also across footnotes that the page break
    put in the middle of it; footnotes stay blocks of their own.
    """
    result: list[Block] = []
    body: Block | None = None  # the last block that is not a footnote
    for number, raw in enumerate(text.split("\n"), start=1):
        footnote = bool(_FOOTNOTE_LINE.match(raw))
        if footnote:
            raw = _FOOTNOTE_LINE.sub("", raw)
        for part in filter(None, (clean_line(p) for p in _split_fused_headings(raw))):
            if not footnote and body and _continues(body.text, part):
                body.text = f"{body.text} {part}"
                body.line_end = number
                continue
            result.append(Block(part, number, number))
            if not footnote:
                body = result[-1]
    return result
