"""DOCX reader on .docx files built with python-docx from the seed resolution."""
from __future__ import annotations

import zipfile

import pytest

from ingest.readers import read
from tests.fixtures_formats import (FOREST, ODD_NAME, TABLE, build_docx, check_common, forest_line, junk, refuse,
                                    seed_lines)


def body(extracted) -> list[str]:
    return [line for line in extracted.text.split("\n") if line]


def test_paragraphs_headings_lists_and_tables(tmp_path):
    expected = build_docx(tmp_path / "nghi-quyet.docx")
    extracted = read(tmp_path / "nghi-quyet.docx")
    assert body(extracted) == expected
    assert extracted.converted_from is None and extracted.ocr is False and extracted.pages is None
    lines = body(extracted)
    # bullets rendered as "- ", Word's own numbering rendered as "1." ... "15."
    assert forest_line(seed_lines()) in lines and forest_line(seed_lines()).startswith("- ")
    assert any(line.startswith("10. Tiếp tục thực hiện chuyển đổi số") for line in lines)
    assert any(line.startswith("15. Đẩy mạnh thông tin tuyên truyền") for line in lines)
    # a table row is one line with its column headers
    assert "Chỉ tiêu: Tỷ lệ che phủ rừng; Kế hoạch năm 2024: 64,6; Đơn vị: %" in lines
    assert not any(line == "; ".join(TABLE[0]) for line in lines)
    # paragraphs are separated by blank lines
    text_lines = extracted.text.split("\n")
    assert text_lines[1] == "" and text_lines[0] == "NGHỊ QUYẾT"


@pytest.mark.parametrize("encoding", ["TCVN3", "VNI"])
def test_legacy_font_runs_are_converted_exactly(tmp_path, encoding):
    expected = build_docx(tmp_path / f"{encoding}.docx", encoding=encoding)
    extracted = read(tmp_path / f"{encoding}.docx")
    assert extracted.converted_from == encoding
    assert body(extracted) == expected  # capitals too: ".VnTimeH" runs come back upper-cased
    assert forest_line(seed_lines()) in body(extracted)


def test_legacy_font_from_the_paragraph_style(tmp_path):
    """Runs with no font of their own inherit ".VnTime" from the Normal style."""
    import docx

    from ingest.legacy import from_unicode

    document = docx.Document()
    document.styles["Normal"].font.name = ".VnTime"
    document.add_paragraph(from_unicode(FOREST, "TCVN3"))
    document.save(str(tmp_path / "style.docx"))
    extracted = read(tmp_path / "style.docx")
    assert extracted.text == FOREST and extracted.converted_from == "TCVN3"


def test_bad_docx_files_are_refused(tmp_path):
    check_common(tmp_path, ".docx")
    refuse(junk(tmp_path, ".docx"), r"^not a \.docx file \(not a ZIP package\)$")
    old = tmp_path / "old.docx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    refuse(old, r"^old binary Word \(\.doc\) file named \.docx: save it as \.docx$")
    other_zip = tmp_path / "other.docx"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("hello.txt", "not a word document")
    refuse(other_zip, r"^corrupt \.docx \(.+\)$")
    truncated = tmp_path / "truncated.docx"
    build_docx(tmp_path / "whole.docx")
    data = (tmp_path / "whole.docx").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    refuse(truncated, r"^corrupt \.docx \(.+\)$")
    empty = tmp_path / "blank.docx"
    import docx

    docx.Document().save(str(empty))
    refuse(empty, r"^no text in \.docx$")


def test_odd_file_name(tmp_path):
    build_docx(tmp_path / "x.docx")
    odd = tmp_path / ODD_NAME.format(suffix="docx")
    (tmp_path / "x.docx").rename(odd)
    assert FOREST in read(odd).text


def test_paragraphs_inside_content_controls(tmp_path):
    """Word keeps cover pages and building blocks in content controls (w:sdt): their text counts."""
    import docx
    from docx.oxml import OxmlElement

    document = docx.Document()
    document.add_paragraph("Trước")
    inside = document.add_paragraph(FOREST)
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    inside._p.addprevious(sdt)
    sdt.append(content)
    content.append(inside._p)
    document.add_paragraph("Sau")
    document.save(str(tmp_path / "sdt.docx"))
    assert read(tmp_path / "sdt.docx").text.split("\n") == ["Trước", "", FOREST, "", "Sau"]


def test_header_and_signature_tables_are_read_as_the_page_shows_them(tmp_path):
    """An uploaded plan as Word lays it out: the issuer and number beside the motto and date in a
    two-column table, the type and subject in Title Case, a data table, and the recipients list
    beside the signature block in another table."""
    import docx

    from ingest.chunk import chunk_blocks
    from ingest.clean import blocks
    from ingest.metadata import extract

    document = docx.Document()
    header = document.add_table(rows=2, cols=2)
    cells = [["Ủy Ban Nhân Dân\nTỉnh Cao Bằng", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"],
             ["Số: 45/KH-UBND", "Cao Bằng, ngày 12 tháng 3 năm 2025"]]
    for row, values in zip(header.rows, cells):
        for cell, value in zip(row.cells, values):
            cell.paragraphs[0].text = value.split("\n")[0]
            for more in value.split("\n")[1:]:
                cell.add_paragraph(more)
    document.add_paragraph("Kế Hoạch", style="Title")
    document.add_paragraph("Triển Khai Phát Triển Du Lịch Năm 2025")
    document.add_paragraph("I. Chỉ Tiêu", style="Heading 1")
    data = document.add_table(rows=3, cols=2)
    for row, values in zip(data.rows, [["Chỉ tiêu", "Năm 2025"], ["Lượt khách", "1,5 triệu"], ["Doanh thu", "2.100 tỷ"]]):
        for cell, value in zip(row.cells, values):
            cell.paragraphs[0].text = value
    signature = document.add_table(rows=1, cols=2)
    left, right = signature.rows[0].cells
    left.paragraphs[0].text = "Nơi nhận:"
    left.add_paragraph("- Các sở, ban, ngành;")
    left.add_paragraph("- Lưu: VT.")
    right.paragraphs[0].text = "TM. ỦY BAN NHÂN DÂN"
    for line in ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "(Đã ký)", "Lê Thị Hoa"):
        right.add_paragraph(line)
    document.save(str(tmp_path / "ke-hoach.docx"))

    extracted = read(tmp_path / "ke-hoach.docx")
    lines = body(extracted)
    assert lines[:4] == ["Ủy Ban Nhân Dân", "Tỉnh Cao Bằng", "Số: 45/KH-UBND", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert "Chỉ tiêu: Lượt khách; Năm 2025: 1,5 triệu" in lines
    assert lines[-6:] == ["- Lưu: VT.", "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "(Đã ký)", "Lê Thị Hoa"]
    paragraphs = blocks(extracted.text)
    meta = extract(paragraphs, extracted.text)
    assert (meta.type, meta.title) == ("Kế hoạch", "Kế hoạch triển khai phát triển du lịch năm 2025")
    assert (meta.number, meta.province, meta.date, meta.signer) == ("45/KH-UBND", "Cao Bằng", "2025-03-12", "Lê Thị Hoa")
    chunks = chunk_blocks("d", paragraphs, meta.title)
    rows = [c for c in chunks if c.text.startswith("Chỉ tiêu:")]
    assert len(rows) == 2 and all(c.section == ["I. Chỉ Tiêu"] for c in rows)
    assert chunks[-1].section == ["Chữ ký"] and chunks[-1].text.endswith("Lê Thị Hoa")
