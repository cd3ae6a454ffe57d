"""Web pages: the main content only, through trafilatura.

Why trafilatura: government portals wrap a document in menus, sidebars, banners, related-news
lists, cookie notices and scripts that differ from site to site; hand-written tag rules break on
the next portal. trafilatura is maintained, scores blocks by text density and link density with
fallbacks (readability, jusText) and is evaluated on real pages; its XML output keeps headings,
paragraphs, lists and tables apart, which this reader turns into lines the way the DOCX reader does.
"""
from __future__ import annotations

import re
from pathlib import Path

from ingest import legacy
from ingest.readers import Extracted, ReadError, register
from ingest.readers.text import MB, check_size, table_lines

MAX_BYTES = 20 * MB
_TAG = re.compile(rb"<\s*(?:!doctype|html|head|body|div|p|article|main|table|h[1-6]|span|section)\b", re.I)


@register(".html", ".htm", ".xhtml")
def read_html(path: Path) -> Extracted:
    import trafilatura
    from lxml import etree

    check_size(path, MAX_BYTES)
    data = path.read_bytes()
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError("binary content (NUL bytes), not an HTML page")
    if not _TAG.search(data[:1_000_000]):
        raise ReadError("not an HTML page (no HTML tags)")
    xml = None
    for recall in (False, True):  # a short page can fall under the default precision threshold
        xml = trafilatura.extract(data, output_format="xml", include_tables=True, include_comments=False,
                                  include_images=False, include_links=False, favor_recall=recall)
        if xml:
            break
    if not xml:
        raise ReadError("no main text found in the HTML page")
    main = etree.fromstring(xml.encode("utf-8")).find("main")
    lines = _blocks(main) if main is not None else []
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        raise ReadError("no main text found in the HTML page")
    text, encoding = legacy.convert(text)  # old pages set TCVN3/VNI text in ".VnTime"/"VNI-Times" fonts
    return Extracted(text=text, converted_from=encoding)


def _text(element) -> str:
    """An element's text without its nested lists (they get lines of their own)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "list":
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _list(element) -> list[str]:
    lines = []
    ordered = element.get("rend") == "ol"
    for n, item in enumerate(element.findall("item"), start=1):
        text = _text(item)
        if text:
            lines.append(f"{n}. {text}" if ordered else f"- {text}")
        for nested in item.findall("list"):
            lines += _list(nested)
    return lines


def _blocks(main) -> list[str]:
    """Lines of the main content: each heading or paragraph followed by a blank line; list items
    and table rows one per line, the list or table followed by a blank line."""
    out: list[str] = []
    for element in main:
        if element.tag == "list":
            lines = _list(element)
        elif element.tag == "table":
            rows = [[_text(cell) for cell in row.findall("cell")] for row in element.findall("row")]
            lines = table_lines(rows)
        else:  # head, p, quote, code, ...
            text = _text(element)
            lines = [text] if text else []
        if lines:
            out += lines + [""]
    return out
