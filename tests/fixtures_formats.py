"""Real-world format fixtures built at test time from the seed resolution (corpus/001: the Lạng Sơn
People's Council resolution on the 2024 plan), never committed as binaries.

- `build_pdf`: a PDF with a text layer (fpdf2, DejaVu Serif from fonts-dejavu-core), a running
  header and a "Trang N/M" footer on every page; it records the page of every source line and the
  body text of every page.
- `build_scanned_pdf`: pages of that PDF rendered to images (pypdfium2) and saved as an image-only
  PDF (Pillow), so only OCR can read it.
- `build_docx`: python-docx with headings, a bulleted list, a numbered list, a table, optionally
  in TCVN3 (".VnTime"/".VnTimeH" runs) or VNI ("VNI-Times" runs).
- `build_html`: the resolution inside a portal page with menus, sidebar, footer and scripts.
- `build_legacy_txt`: the resolution as 8-bit TCVN3 or VNI bytes.
- `refuse`, `zero_byte`, `junk`, `huge`, `check_common`: bad inputs and the check that a reader
  refuses them with a one-line reason, quickly.
"""
from __future__ import annotations

import itertools
import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingest import legacy
from ingest.readers import ReadError, read

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "001_1a7c978e25c4247f.txt"
CORPUS_FILES = sorted((ROOT / "corpus").glob("*.txt"))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")
FOREST = "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%"
HEADER = "HĐND TỈNH LẠNG SƠN – Nghị quyết về kế hoạch năm 2024"
MENU = ["Trang chủ", "Giới thiệu chung", "Thủ tục hành chính", "Đăng nhập hệ thống", "Sơ đồ cổng"]
SIDEBAR = "Lễ hội Kỳ Lừa năm 2024 thu hút hàng nghìn du khách"
FOOTER = "Bản quyền thuộc Cổng thông tin điện tử tỉnh Lạng Sơn"
SCRIPT = "trackingCodeUA12345"
TABLE = [["Chỉ tiêu", "Kế hoạch năm 2024", "Đơn vị"],
         ["Trồng rừng mới", "9.000", "ha"],
         ["Tỷ lệ che phủ rừng", "64,6", "%"]]


def seed_lines(limit: int | None = None) -> list[str]:
    """The resolution's non-empty lines (NFC), up to the signature block."""
    lines = [unicodedata.normalize("NFC", line.strip()) for line in SEED.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    end = next((i for i, line in enumerate(lines) if line.startswith("Nơi nhận")), len(lines))
    return lines[:end][:limit]


def forest_line(lines: list[str]) -> str:
    return next(line for line in lines if FOREST in line)


# ---------------------------------------------------------------- PDF

@dataclass
class PdfFixture:
    path: Path
    pages: int
    page_of: dict[str, int] = field(default_factory=dict)          # source line -> page it starts on
    body: dict[int, list[str]] = field(default_factory=dict)       # page -> its body text lines as printed


def legacy_font(name: str, folder: Path) -> Path:
    """DejaVu Serif renamed to a legacy font name (".VnTime", ".VnTimeH", "VNI-Times"), so the PDF
    names the font the way a PDF printed from an old document does."""
    from fontTools.ttLib import TTFont

    target = folder / f"{name.strip('.')}.ttf"
    if not target.exists():
        font = TTFont(str(FONT))
        table = font["name"]
        table.names = [rec for rec in table.names if rec.nameID not in (16, 17, 21, 22)]
        for rec in list(table.names):
            if rec.nameID in (1, 4, 6):
                table.setName(name, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
            elif rec.nameID == 2:
                table.setName("Regular", rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        font.save(str(target))
    return target


def build_pdf(path: Path, lines: list[str] | None = None, encoding: str | None = None,
              font_names: bool = True) -> PdfFixture:
    """A text-layer PDF of the resolution: one paragraph per source line, lines wrapped by fpdf2,
    2 mm between paragraphs, a running header and a page-number footer on each page.
    With `encoding` the text layer holds TCVN3/VNI characters in fonts named like the legacy ones,
    as PDFs printed from old documents do (TCVN3: all-caps lines in ".VnTimeH", the rest ".VnTime");
    `font_names=False` keeps the legacy characters but names the font DejaVu (a re-saved PDF)."""
    from fpdf import FPDF

    lines = lines if lines is not None else seed_lines()
    put = (lambda s: legacy.from_unicode(s, encoding)) if encoding else (lambda s: s)

    legacy_names = encoding is not None and font_names

    def font_for(line: str, bold: bool) -> tuple[str, str]:
        if not legacy_names:
            return "serif", "B" if bold else ""
        if encoding == legacy.TCVN3:
            return (".VnTimeH" if line.isupper() else ".VnTime"), ""
        return "VNI-Times", ""

    class Doc(FPDF):
        def header(self) -> None:
            self.set_font(*font_for(HEADER, False), size=9)
            self.cell(0, 5, put(HEADER), align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font(*font_for("", False), size=9)
            self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")

    pdf = Doc(format="A4")
    if legacy_names:
        for name in ((".VnTime", ".VnTimeH") if encoding == legacy.TCVN3 else ("VNI-Times",)):
            pdf.add_font(name, "", str(legacy_font(name, path.parent)))
    else:
        pdf.add_font("serif", "", str(FONT))
        pdf.add_font("serif", "B", str(FONT_BOLD))
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    fixture = PdfFixture(path, 0)
    for line in lines:
        bold = line.isupper() or bool(re.match(r"^(?:[IVX]+\.|Điều \d+\.)", line))
        pdf.set_font(*font_for(line, bold), size=11)
        # fpdf2 wraps at soft hyphens (U+00AD) and drops them, but in TCVN3 that code is the letter
        # "ư": wrap with a stand-in ("¯", unused by TCVN3 and the seed) and print the real code.
        wrapped = pdf.multi_cell(0, 5.5, put(line).replace("\xad", "¯"), dry_run=True, output="LINES")
        for n, visual in enumerate(visual.replace("¯", "\xad") for visual in wrapped):
            pdf.cell(0, 5.5, visual, new_x="LMARGIN", new_y="NEXT")
            page = pdf.page_no()
            if n == 0:
                fixture.page_of.setdefault(line, page)
            fixture.body.setdefault(page, []).append(visual)
        pdf.ln(2)
    fixture.pages = pdf.page_no()
    pdf.output(str(path))
    return fixture


def build_scanned_pdf(path: Path, source: PdfFixture, pages: list[int], dpi: int = 300,
                      degrade: bool = False) -> dict[int, list[str]]:
    """The given pages of a text PDF as images only (a scan): returns page (in the new file) -> the
    body text printed on it, the reference for OCR accuracy. `degrade` makes it look like an office
    scan: 200 dpi, tilted 0.7°, slightly blurred, with speckle noise, stored as JPEG."""
    import random

    import pypdfium2
    from PIL import Image, ImageFilter

    if degrade:
        dpi = 200
    document = pypdfium2.PdfDocument(str(source.path))
    images = [document[p - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for p in pages]
    document.close()
    if degrade:
        rng = random.Random(4)
        for n, image in enumerate(images):
            image = image.rotate(0.7, resample=Image.BICUBIC, fillcolor=255).filter(ImageFilter.GaussianBlur(0.6))
            pixels = image.load()
            for _ in range(image.width * image.height // 400):  # 0.25 % speckles
                pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 255))
            images[n] = image
    options = {"quality": 60} if degrade else {}
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:], **options)
    return {i: source.body[p] for i, p in enumerate(pages, start=1)}


# ---------------------------------------------------------------- DOCX

def _runs(paragraph, text: str, encoding: str | None) -> None:
    """Add `text` as runs. TCVN3: capitals in the all-caps font ".VnTimeH", the rest in ".VnTime"
    (how ABC users typed "Ủy ban"); VNI: one "VNI-Times" run; Unicode: one Times New Roman run."""
    if encoding is None:
        paragraph.add_run(text).font.name = "Times New Roman"
        return
    if encoding == legacy.VNI:
        paragraph.add_run(legacy.from_unicode(text, encoding)).font.name = "VNI-Times"
        return
    for caps, chars in itertools.groupby(text, key=str.isupper):
        run = paragraph.add_run(legacy.from_unicode("".join(chars), encoding))
        run.font.name = ".VnTimeH" if caps else ".VnTime"


def build_docx(path: Path, encoding: str | None = None) -> list[str]:
    """A .docx of the resolution. Lines "I. ..." are Heading 1, short "1. ..." / "3.1. ..." lines
    Heading 2, "- ..." lines a bulleted list, the numbered items of part II a numbered list (Word
    numbers them), and after the environment targets a table. Returns the lines as a reader should
    give them back (list numbers and bullets as text, table rows as "Header: value; ...")."""
    import docx

    document = docx.Document()
    expected: list[str] = []
    part = None
    for line in seed_lines():
        if re.match(r"^(?:[IVX]+\.|Điều \d+\.) ", line):
            part = line.split(".")[0]
            _runs(document.add_paragraph(style="Heading 1"), line, encoding)
        elif re.match(r"^\d+(?:\.\d+)*\.? \S", line) and len(line) < 60:
            _runs(document.add_paragraph(style="Heading 2"), line, encoding)
        elif line.startswith("- "):
            _runs(document.add_paragraph(style="List Bullet"), line[2:], encoding)
        elif part == "II" and re.match(r"^\d+\. ", line):
            _runs(document.add_paragraph(style="List Number"), line.split(" ", 1)[1], encoding)
        else:
            _runs(document.add_paragraph(), line, encoding)
        expected.append(line)
        if line.startswith("- ") and FOREST in line:
            table = document.add_table(rows=len(TABLE), cols=len(TABLE[0]))
            for row, values in zip(table.rows, TABLE):
                for cell, value in zip(row.cells, values):
                    cell.paragraphs[0].text = ""
                    _runs(cell.paragraphs[0], value, encoding)
            expected += ["; ".join(f"{h}: {v}" for h, v in zip(TABLE[0], row)) for row in TABLE[1:]]
    document.save(str(path))
    return expected


# ---------------------------------------------------------------- HTML

def build_html(path: Path) -> list[str]:
    """The resolution as an article in a provincial portal page; returns its lines."""
    from html import escape

    lines = seed_lines()
    body, in_list = [], False
    for line in lines:
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{escape(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        tag = "h2" if re.match(r"^(?:[IVX]+\.|\d+(?:\.\d+)*\.?) \S", line) and len(line) < 60 else "p"
        body.append(f"<{tag}>{escape(line)}</{tag}>")
    if in_list:
        body.append("</ul>")
    menu = "".join(f'<li><a href="/m{i}">{escape(m)}</a></li>' for i, m in enumerate(MENU))
    page = f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Nghị quyết về kế hoạch năm 2024</title>
<script>var {SCRIPT} = "UA-1"; document.write("<div>Đăng nhập</div>");</script>
<style>.menu li {{ display: inline; }}</style></head>
<body>
<header><div class="logo">Cổng thông tin điện tử tỉnh Lạng Sơn</div>
<nav class="menu"><ul>{menu}</ul></nav>
<form><input type="search" placeholder="Tìm kiếm"><button>Tìm</button></form></header>
<div class="breadcrumb"><a href="/">Trang chủ</a> › <a href="/vb">Văn bản</a></div>
<aside class="sidebar"><h3>Tin nổi bật</h3><ul><li><a href="/t1">{escape(SIDEBAR)}</a></li>
<li><a href="/t2">Hội nghị xúc tiến đầu tư tỉnh Lạng Sơn</a></li></ul></aside>
<main><article class="content"><h1>{escape(lines[0])}</h1>
{chr(10).join(body[1:])}
</article></main>
<footer><p>{escape(FOOTER)}</p><p>Địa chỉ: số 2 đường Hoàng Văn Thụ</p></footer>
<script src="/js/app.js"></script><script>window.{SCRIPT}_loaded = true;</script>
</body></html>"""
    path.write_text(page, encoding="utf-8")
    return lines


# ---------------------------------------------------------------- legacy .txt

def build_legacy_txt(path: Path, encoding: str) -> str:
    """The resolution as an 8-bit text file in TCVN3 or VNI (Windows code page bytes); returns the
    Unicode text the reader must give back. TCVN3 has no capitals with tones (they were typed as
    lowercase codes in the all-caps font): all-caps lines are recovered, a capital with a tone in
    a mixed-case line ("Ủy ban") comes back in lowercase."""
    text = "\n".join(seed_lines()) + "\n"
    path.write_bytes(legacy.from_unicode(text, encoding).encode("cp1252"))
    if encoding == legacy.TCVN3:
        return "".join(line if line.isupper() else "".join(
            ch.lower() if ch.isupper() and not ch.isascii() and ch not in "ĂÂÊÔƠƯĐ" else ch for ch in line)
            for line in text.splitlines(keepends=True))
    return text


# ---------------------------------------------------------------- bad inputs

HUGE = 500 * 1024 * 1024


def refuse(path: Path, reason: str, seconds: float = 2.0) -> str:
    """read(path) raises ReadError matching `reason` (a regex) within `seconds`; returns the message."""
    started = time.perf_counter()
    with pytest.raises(ReadError, match=reason) as info:
        read(path)
    assert time.perf_counter() - started < seconds
    message = str(info.value)
    assert message and "\n" not in message
    return message


def zero_byte(folder: Path, suffix: str) -> Path:
    path = folder / f"empty{suffix}"
    path.write_bytes(b"")
    return path


def junk(folder: Path, suffix: str) -> Path:
    path = folder / f"junk{suffix}"
    path.write_bytes(random.Random(7).randbytes(64 * 1024))
    return path


def huge(folder: Path, suffix: str) -> Path:
    """A sparse 500 MB file: instant to make, and reading it would take seconds and memory."""
    path = folder / f"huge{suffix}"
    with open(path, "wb") as f:
        f.truncate(HUGE)
    return path


def check_common(folder: Path, suffix: str) -> None:
    refuse(zero_byte(folder, suffix), r"^empty file \(0 bytes\)$")
    refuse(huge(folder, suffix), r"^file too large: 500\.0 MB > \d+ MB limit \(INGEST_MAX_[A-Z]+_MB\)$", seconds=0.5)


ODD_NAME = "Nghị quyết #12 (bản cuối) ; $HOME 'x' & [1]\u200b\n-v.{suffix}"  # shell characters, newline, leading dash
