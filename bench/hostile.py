"""Hostile files for the fault benchmark and the limit tests: zip and Flate bombs, costly PDF pages, one huge line,
too many passages; and a legitimately large text PDF, which must still read."""
from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from ingest import limits

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")   # fonts-dejavu-core


def small_docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def replace_member(package: bytes, name: str, write) -> bytes:
    """The package with member `name` written by `write(file)` instead, compressed."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for info in source.infolist():
            if info.filename == name:
                with target.open(name, "w", force_zip64=True) as f:
                    write(f)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def docx_bomb(mb: int) -> bytes:
    """A valid small .docx whose word/document.xml unpacks to `mb` MB of XML (a few hundred KB on disk)."""
    def write(f):
        f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
                b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
        block = b"A" * MB
        for _ in range(mb):
            f.write(block)
        f.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return replace_member(small_docx(["Điều 1. Thử nghiệm."]), "word/document.xml", write)


def pdf_file(contents: list[bytes], forms: list[bytes] = ()) -> bytes:
    """A PDF by hand: one page per content stream (already encoded, with its /Filter), Helvetica;
    `forms` are form XObjects (their content, as a content stream) every page may draw as /Fm1, /Fm2..."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    first_form = 4 + 2 * len(contents)
    xobjects = b" ".join(b"/Fm%d %d 0 R" % (n + 1, first_form + n) for n in range(len(forms)))
    kids = []
    for stream in contents:
        kids.append(len(objects) + 2)   # the page's object number; its content follows it
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >>%s >> >>"
                       % (len(objects) + 3, b" /XObject << %s >>" % xobjects if forms else b""))
        objects.append(stream)
    for form in forms:
        objects.append(form.replace(b"<< ", b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                                    b"/Resources << /Font << /F1 3 0 R >> >> ", 1))
    pages = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    objects.insert(1, pages)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def flate(data: bytes) -> bytes:
    packed = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


def text_page(text: str) -> bytes:
    return flate(b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("ascii"))


def flate_bomb(mb: int) -> bytes:
    """A FlateDecode stream of `mb` MB of spaces (~1,000:1, so `mb` KB on disk)."""
    packer = zlib.compressobj(9)
    block = b" " * MB
    packed = b"".join(packer.compress(block) for _ in range(mb)) + packer.flush()
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


def small_pdf() -> bytes:
    return pdf_file([text_page("Dieu 1. Trong moi 500 ha rung ngap man tai huyen ven bien.")])


def pdf_bomb(mb: int) -> bytes:
    """A readable first page, then a page whose content stream inflates to `mb` MB."""
    return pdf_file([text_page("Dieu 1. Trong moi 500 ha rung ngap man tai huyen ven bien."), flate_bomb(mb)])


def text_drawing_pdf(mb: float) -> bytes:
    """One page whose content stream is `mb` MB of text-drawing commands (~16 characters each, every
    one at its own place on the page): cheap to inflate, costly for pdfminer, which makes an object
    of every character and lays the page out before any limit can count them."""
    lines, size, n = [b"BT /F1 6 Tf"], 0, 0
    while size < mb * MB:
        line = b"1 0 0 1 %d %d Tm (Trong moi %04d ha) Tj" % (20 + n // 800, 20 + n % 800, n % 10_000)
        lines.append(line)
        size += len(line) + 1
        n += 1
    return pdf_file([flate(b"\n".join(lines + [b"ET"]))])


def form_drawn_pdf(times: int, chars: int = 100) -> bytes:
    """One page that draws, `times` over, a form of one string of `chars` characters: a few KB that
    pdfminer parses and lays out `times` times (1,000 x 100 characters: the cost of 100,000)."""
    form = flate(b"BT /F1 6 Tf 20 20 Td (%s) Tj ET" % (b"A" * chars))
    page = flate(b"\n".join(b"q 1 0 0 1 0 %d cm /Fm1 Do Q" % (n % 800) for n in range(times)))
    return pdf_file([page], forms=[form])


def broken_zlib_pdf(mb: int) -> bytes:
    """A readable first page, then a page whose zlib data (`mb` MB of spaces after a line of text)
    is cut short, its /Length with it: pdfminer repairs it by inflating a byte at a time and
    appending to what it has, a cost of input x output (8 MB of output took 12-20 s, 16 MB 51 s)."""
    data = b"BT /F1 12 Tf 72 720 Td (Dieu 2. Trong moi 500 ha rung.) Tj ET" + b" " * (mb * MB)
    packed = zlib.compress(data, 9)
    cut = packed[:len(packed) - 64]
    broken = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(cut) + cut + b"\nendstream"
    return pdf_file([text_page("Dieu 1. Trong moi 500 ha rung ngap man tai huyen ven bien."), broken])


def large_text_pdf(chars: int, size: float = 10) -> bytes:
    """A legitimate text PDF of about `chars` characters (the Civil Code has ~250,000-360,000): the
    paragraphs of corpus/ in turn, each numbered so that none repeats, set by fpdf2 in DejaVu Serif
    at `size` pt on A4 (~3,500 characters a page at 10 pt, like a dense printed law)."""
    from fpdf import FPDF

    paragraphs = [line.strip() for path in sorted((ROOT / "corpus").glob("*.txt"))
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pdf = FPDF(format="A4")
    pdf.add_font("serif", "", str(FONT))
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("serif", size=size)
    written, n = 0, 0
    while written < chars:
        text = f"{n // len(paragraphs) + 1}.{paragraphs[n % len(paragraphs)]}"
        pdf.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        written += len(text)
        n += 1
    return bytes(pdf.output())


SMALL_TEXT = "NGHỊ QUYẾT\n\nĐiều 1. Trồng mới 500 ha rừng ngập mặn ven biển.\n".encode()


def long_line() -> bytes:
    """~3.9M characters on one line, every sentence different (identical chunks would be embedded once)."""
    return "".join(f"Trồng rừng mới {n} ha, tỷ lệ che phủ rừng đạt 64,6%. " for n in range(65_000)).encode()


def many_chunks() -> bytes:
    items = [f"- Trồng mới {n} ha rừng ở thôn {n}." for n in range(limits.MAX_CHUNKS.value + 500)]
    return ("NGHỊ QUYẾT\n\n" + "\n\n".join(items) + "\n").encode()   # ~500k characters, under MAX_CHARS


def _writer(name: str, build):
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(build())
        return path
    return write


# name -> write(folder) -> path of the hostile file written there (python -m bench faults)
HOSTILE = {
    "docx zip bomb, 1 GiB declared": _writer("bom.docx", lambda: docx_bomb(1024)),
    "PDF Flate bomb, 1 GiB": _writer("bom.pdf", lambda: pdf_bomb(1024)),
    "PDF page of 1 MB of text-drawing commands": _writer("chu-day.pdf", lambda: text_drawing_pdf(1)),
    "PDF page with 16 MB of zlib data cut short": _writer("zlib-hong.pdf", lambda: broken_zlib_pdf(16)),
    "PDF page drawing a 100-character form 1,000 times": _writer("mau-lap.pdf", lambda: form_drawn_pdf(1000)),
    "one 3.9M-character line": _writer("dong-dai.txt", long_line),
    "10,500 passages": _writer("nhieu-doan.txt", many_chunks),
    "binary noise named .txt": _writer("nhieu.txt", lambda: bytes(range(256)) * 4096),
    "empty file": _writer("rong.txt", lambda: b""),
}
