"""Word .docx through python-docx: paragraphs, headings, numbered lists and tables in body order.

- A paragraph or heading is one line, with a blank line after it.
- A list item carries its rendered number or bullet as text ("1.", "a)", "II.", "- "), worked out
  from the numbering definitions the way Word counts them.
- A table row is one line, "Header: value; Header: value", the headers taken from the first row.
  A layout table (the two-column header with the issuer, the motto, the number and the date, or the
  signature block beside the recipients list) is not data: its cells are read column by column,
  a line per paragraph, as the page shows them.
- Runs set in legacy fonts (".VnTime", ".VnTimeH" = TCVN3, all caps; "VNI-Times" = VNI) are
  converted to Unicode run by run, whatever the paragraph around them uses.
- The package is checked from its ZIP directory before python-docx opens it: member count, size
  unpacked and size of the XML parts (a zip bomb is refused without inflating a byte of it).
"""
from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

from ingest import legacy, limits
from ingest.readers import Extracted, ReadError
from ingest.readers.text import check_size, table_lines

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
DIRECTORY_ENTRY = 1024  # ZIP directory bytes allowed per member (a real entry is 46 bytes and a name)


def read_docx(path: Path) -> Extracted:
    import docx

    check_size(path, limits.MAX_DOCX_MB)
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError("old binary Word (.doc) file named .docx: save it as .docx")
    if not head.startswith(b"PK"):
        raise ReadError("not a .docx file (not a ZIP package)")
    try:
        check_package(path)
        document = docx.Document(str(path))
    except ReadError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ReadError(f"corrupt .docx ({str(err).splitlines()[0][:80] if str(err) else type(err).__name__})") from None
    except Exception as err:  # lxml or python-docx on a broken package
        raise ReadError(f"corrupt .docx ({type(err).__name__})") from None
    reader = _Reader(document)
    blocks = reader.blocks()
    text = "\n".join(blocks).strip("\n")
    if not text.strip():
        raise ReadError("no text in .docx")
    return Extracted(text=text, converted_from="+".join(sorted(reader.converted)) or None)


def check_package(path: Path) -> None:
    """Refuse a package over the ZIP limits, from what it declares (zipfile never yields more than a
    member's declared size): the directory's size before zipfile parses it, then members and sizes."""
    size = _directory_size(path)
    if size is None or size > limits.MAX_ZIP_MEMBERS.value * DIRECTORY_ENTRY:
        raise ReadError(limits.MAX_ZIP_MEMBERS.reason("too many parts in .docx (ZIP directory too large)"))
    with zipfile.ZipFile(path) as package:
        members = package.infolist()
        limits.MAX_ZIP_MEMBERS.check(len(members), "too many parts in .docx")
        limits.MAX_ZIP_MB.check(sum(m.file_size for m in members), ".docx too large unpacked")
        xml = _xml_parts(package, members)
        limits.MAX_DOCX_XML_MB.check(sum(m.file_size for m in xml), ".docx XML too large unpacked")


def _directory_size(path: Path) -> int | None:
    """The size of the ZIP directory from the end record; None for ZIP64 (over 65,535 parts or 4 GB)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 22 - 65535))  # the end record, then a comment of up to 64 KB
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise zipfile.BadZipFile("no ZIP end record")
    if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":  # a ZIP64 locator: zipfile reads its sizes
        return None
    entries, size = struct.unpack("<HI", tail[at + 10:at + 16])
    return None if entries == 0xFFFF or size == 0xFFFFFFFF else size


def _xml_parts(package: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The members python-docx parses as XML: those [Content_Types].xml gives an XML content type,
    by part name or by extension, and that file itself."""
    from lxml import etree

    types = next((m for m in members if m.filename == "[Content_Types].xml"), None)
    if types is None:
        return members
    limits.MAX_DOCX_XML_MB.check(types.file_size, ".docx XML too large unpacked")
    root = etree.fromstring(package.read(types), etree.XMLParser(resolve_entities=False))
    names = {n.get("PartName", "").lstrip("/").lower() for n in root.iter(f"{CT}Override") if _is_xml(n)}
    suffixes = tuple("." + n.get("Extension", "").lower() for n in root.iter(f"{CT}Default") if _is_xml(n))
    return [m for m in members if m is types or m.filename.lower() in names or m.filename.lower().endswith(suffixes)]


def _is_xml(node) -> bool:
    return (node.get("ContentType") or "").lower().endswith("xml")


class _Reader:
    def __init__(self, document) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        self.document = document
        self.styles = {s.style_id: s for s in document.styles}
        self.numbering = _Numbering(document)
        self.converted: set[str] = set()
        defaults = document.styles.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
        self.default_font = _rfonts_name(defaults)
        self.default_style = next((sid for sid, s in self.styles.items() if s.type == WD_STYLE_TYPE.PARAGRAPH
                                   and s.element.get(f"{W}default") in ("1", "true")), None)

    def blocks(self) -> list[str]:
        """Lines of the body in order: each paragraph followed by a blank line; table rows one per line."""
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        out: list[str] = []
        for child in _body_items(self.document.element.body):
            if child.tag == f"{W}p":
                line = self.paragraph(Paragraph(child, self.document._body))
                if line.strip():
                    out += [line, ""]
            elif child.tag == f"{W}tbl":
                table = Table(child, self.document._body)
                if _is_layout(table):
                    for line in self.layout(table):
                        out += [line, ""]
                    continue
                rows = self.table(table)
                if rows:
                    out += rows + [""]
        return out

    def layout(self, table) -> list[str]:
        """The paragraphs of a layout table, column by column, top to bottom."""
        lines, seen = [], set()
        columns = max((len(row.cells) for row in table.rows), default=0)
        for column in range(columns):
            for row in table.rows:
                if column >= len(row.cells) or row.cells[column]._tc in seen:
                    continue
                cell = row.cells[column]
                seen.add(cell._tc)
                lines += [text for text in (self.paragraph(p) for p in cell.paragraphs) if text.strip()]
        return lines

    def paragraph(self, paragraph) -> str:
        parts = []
        for run in paragraph._p.iter(f"{W}r"):
            text = "".join(_run_text(run))
            if not text:
                continue
            encoding, upper = legacy.font_encoding(self.font(run, paragraph))
            if encoding:
                text = legacy.to_unicode(text, encoding, upper)
                if text.strip():
                    self.converted.add(encoding)
            parts.append(text)
        label = self.numbering.label(paragraph, self.styles)
        text = re.sub(r"[ \t]+", " ", "".join(parts)).strip()
        return f"{label} {text}" if label and text else text

    def table(self, table) -> list[str]:
        rows = []
        for row in table.rows:
            cells, seen = [], set()
            for cell in row.cells:
                if cell._tc in seen:  # a merged cell repeats across the columns it spans
                    continue
                seen.add(cell._tc)
                text = " ".join(filter(None, (self.paragraph(p) for p in cell.paragraphs)))
                cells.append(text)
            rows.append(cells)
        return table_lines(rows)

    def font(self, run, paragraph) -> str | None:
        """The font a run is shown in: its own, its character style's, the paragraph style chain's,
        then the document default."""
        own = _rfonts_name(run.find(f"{W}rPr/{W}rFonts"))
        if own:
            return own
        style_id = run.find(f"{W}rPr/{W}rStyle")
        ids = [style_id.get(f"{W}val")] if style_id is not None else []
        p_style = paragraph._p.find(f"{W}pPr/{W}pStyle")
        ids.append(p_style.get(f"{W}val") if p_style is not None else self.default_style)
        for sid in ids:
            style = self.styles.get(sid)
            while style is not None:
                name = _rfonts_name(style.element.find(f"{W}rPr/{W}rFonts"))
                if name:
                    return name
                style = style.base_style
        return self.default_font


# What only the header or the signature block of a document holds.
_LAYOUT = re.compile(r"CỘNG HÒA XÃ HỘI CHỦ NGHĨA|CỘNG HOÀ XÃ HỘI CHỦ NGHĨA|Độc lập\s*[-–]\s*Tự do|ĐẢNG CỘNG SẢN VIỆT NAM|"
                     r"^Nơi nhận\s*:|^(?:T/?M|K/?T|T/?L|TUQ)\.?\s", re.I | re.M)


def _is_layout(table) -> bool:
    """A small table whose cells hold the motto, the recipients list or a signature role line."""
    if len(table.rows) > 4:
        return False
    text = "\n".join(p.text.strip() for row in table.rows for cell in row.cells for p in cell.paragraphs)
    return bool(_LAYOUT.search(text) or _LAYOUT.search(legacy.convert(text)[0]))


def _body_items(element):
    """Paragraphs and tables of the body in order, also inside content controls (w:sdt), where Word
    puts cover pages and building blocks."""
    for child in element.iterchildren():
        if child.tag in (f"{W}p", f"{W}tbl"):
            yield child
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from _body_items(child)


def _rfonts_name(rfonts) -> str | None:
    """The font for non-ASCII Latin text (hAnsi), where legacy Vietnamese letters sit, else ascii."""
    if rfonts is None:
        return None
    return rfonts.get(f"{W}hAnsi") or rfonts.get(f"{W}ascii")


def _run_text(run):
    for child in run.iterchildren():
        tag = child.tag
        if tag == f"{W}t":
            yield child.text or ""
        elif tag == f"{W}tab":
            yield "\t"
        elif tag in (f"{W}br", f"{W}cr"):
            yield " "
        elif tag == f"{W}noBreakHyphen":
            yield "-"


_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format(n: int, fmt: str) -> str:
    return {
        "lowerLetter": _letters(n), "upperLetter": _letters(n).upper(),
        "lowerRoman": _roman(n), "upperRoman": _roman(n).upper(),
        "decimalZero": f"{n:02d}",
    }.get(fmt, str(n))


class _Numbering:
    """Counts list items per numbering instance and level, as Word shows them."""

    def __init__(self, document) -> None:
        self.levels: dict[str, dict[int, dict]] = {}   # numId -> ilvl -> {fmt, text, start}
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for node in root.findall(f"{W}abstractNum"):
            abstract[node.get(f"{W}abstractNumId")] = {
                int(lvl.get(f"{W}ilvl")): self._level(lvl) for lvl in node.findall(f"{W}lvl")}
        for num in root.findall(f"{W}num"):
            ref = num.find(f"{W}abstractNumId")
            levels = {k: dict(v) for k, v in abstract.get(ref.get(f"{W}val") if ref is not None else None, {}).items()}
            for override in num.findall(f"{W}lvlOverride"):
                ilvl = int(override.get(f"{W}ilvl"))
                start = override.find(f"{W}startOverride")
                if start is not None and ilvl in levels:
                    levels[ilvl]["start"] = int(start.get(f"{W}val"))
                if override.find(f"{W}lvl") is not None:
                    levels[ilvl] = self._level(override.find(f"{W}lvl"))
            self.levels[num.get(f"{W}numId")] = levels

    @staticmethod
    def _level(lvl) -> dict:
        def val(tag: str, default: str) -> str:
            node = lvl.find(f"{W}{tag}")
            return node.get(f"{W}val") if node is not None and node.get(f"{W}val") is not None else default
        return {"fmt": val("numFmt", "decimal"), "text": val("lvlText", "%1."), "start": int(val("start", "1"))}

    def label(self, paragraph, styles: dict) -> str | None:
        num_id, ilvl = self._num_pr(paragraph, styles)
        if num_id is None or num_id == "0" or num_id not in self.levels:
            return None
        levels = self.levels[num_id]
        level = levels.get(ilvl)
        if level is None:
            return None
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, level["start"] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if level["fmt"] == "bullet":
            return "-"
        if level["fmt"] == "none":
            return None

        def number(match: re.Match) -> str:
            k = int(match.group(1)) - 1
            spec = levels.get(k, {"fmt": "decimal", "start": 1})
            return _format(counters.get(k, spec["start"]), spec["fmt"])

        return re.sub(r"%(\d)", number, level["text"]).strip() or None

    @staticmethod
    def _num_pr(paragraph, styles: dict) -> tuple[str | None, int]:
        num_pr = paragraph._p.find(f"{W}pPr/{W}numPr")
        style_id = paragraph._p.find(f"{W}pPr/{W}pStyle")
        style = styles.get(style_id.get(f"{W}val")) if style_id is not None else None
        while num_pr is None and style is not None:
            num_pr = style.element.find(f"{W}pPr/{W}numPr")
            style = style.base_style
        if num_pr is None:
            return None, 0
        num_id = num_pr.find(f"{W}numId")
        ilvl = num_pr.find(f"{W}ilvl")
        return (num_id.get(f"{W}val") if num_id is not None else None,
                int(ilvl.get(f"{W}val")) if ilvl is not None else 0)
