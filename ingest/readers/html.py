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

from ingest import legacy, limits
from ingest.readers import Extracted, ReadError
from ingest.readers.text import check_size, decode, table_lines, windows_latin

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_TAG = re.compile(rb"<\s*(?:!doctype|html|head|body|div|p|article|main|table|h[1-6]|span|section)\b", re.I)


def read_html(path: Path) -> Extracted:
    import trafilatura
    from lxml import etree

    check_size(path, limits.MAX_HTML_MB)
    data = path.read_bytes()
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError("binary content (NUL bytes), not an HTML page")
    if not _TAG.search(data[:1_000_000]):
        raise ReadError("not an HTML page (no HTML tags)")
    # Legacy pages are converted before extraction: trafilatura drops U+00AD (a soft hyphen in
    # Latin-1, the letter "ư" in TCVN3). Markup is ASCII, so only the text changes.
    page, encoding = legacy.convert(_decode(data))
    xml = None
    for recall in (False, True):  # a short page can fall under the default precision threshold
        xml = trafilatura.extract(page, output_format="xml", include_tables=True, include_comments=False,
                                  include_images=False, include_links=False, favor_recall=recall)
        if xml:
            break
    if not xml:
        raise ReadError("no main text found in the HTML page")
    main = etree.fromstring(xml.encode("utf-8")).find("main")
    lines = _blocks(main, _link_texts(page)) if main is not None else []
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        raise ReadError("no main text found in the HTML page")
    return Extracted(text=text, converted_from=encoding)


def _decode(data: bytes) -> str:
    """The page as text: a BOM, else the declared charset, else UTF-8, else Windows Latin (old pages
    in TCVN3/VNI fonts declare no charset or a Western one; legacy.convert sorts them out later)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return decode(data)
    declared = _META_CHARSET.search(data[:8192])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return windows_latin(data)


def _text(element) -> str:
    """An element's text without its nested lists (they get lines of their own)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "list":
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _link_texts(page: str) -> list[str]:
    """The texts of the page's links, longest first."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return []
    texts = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    return sorted(filter(None, texts), key=len, reverse=True)


def _navigation(text: str, links: list[str]) -> bool:
    """A block made (nearly) only of link texts is navigation that slipped through: on a page with
    little else, trafilatura's last-resort fallback keeps the menu."""
    rest = text
    for link in links:
        if link in rest:
            rest = rest.replace(link, "")
    return len(rest.strip(" |/›»·-–")) < 0.2 * len(text)


def _list(element, links: list[str]) -> list[str]:
    lines = []
    ordered = element.get("rend") == "ol"
    for n, item in enumerate(element.findall("item"), start=1):
        text = _text(item)
        if text and not _navigation(text, links):
            lines.append(f"{n}. {text}" if ordered else f"- {text}")
        for nested in item.findall("list"):
            lines += _list(nested, links)
    return lines


def _blocks(main, links: list[str]) -> list[str]:
    """Lines of the main content: each heading or paragraph followed by a blank line; list items
    and table rows one per line, the list or table followed by a blank line. Link-only blocks are
    dropped."""
    out: list[str] = []
    for element in main:
        if element.tag == "list":
            lines = _list(element, links)
        elif element.tag == "table":
            rows = [[_text(cell) for cell in row.findall("cell")] for row in element.findall("row")]
            lines = table_lines(rows)
        else:  # head, p, quote, code, ...
            text = _text(element)
            lines = [text] if text and not _navigation(text, links) else []
        if lines:
            out += lines + [""]
    return out
