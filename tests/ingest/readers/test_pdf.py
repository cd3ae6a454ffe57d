"""PDF reader on PDFs built from the seed resolution: text layer, legacy fonts, scans (real OCR)."""
from __future__ import annotations

import shutil
import time
import unicodedata

import pytest
from rapidfuzz.distance import Levenshtein

from ingest.readers import read
from tests.fixtures_formats import (FOREST, HEADER, ODD_NAME, PdfFixture, build_pdf, build_scanned_pdf,
                                    check_common, forest_line, junk, refuse, seed_lines)

OCR_LINE_SIMILARITY = 0.90   # normalised Levenshtein similarity the OCR'd forest-cover line must reach


@pytest.fixture(scope="module")
def text_pdf(tmp_path_factory) -> PdfFixture:
    return build_pdf(tmp_path_factory.mktemp("pdf") / "nghi-quyet.pdf")


def lines_with_pages(extracted) -> list[tuple[str, int]]:
    lines = extracted.text.split("\n")
    assert extracted.pages is not None and len(extracted.pages) == len(lines)
    return list(zip(lines, extracted.pages))


def rejoin(pairs: list[tuple[str, int]], source: list[str]) -> list[str]:
    """Paragraphs with the pieces a page break cut apart joined again (the ingest cleaner's job)."""
    out: list[tuple[str, int]] = []
    for text, page in pairs:
        if not text:
            continue
        if out and out[-1][0] not in source and page == out[-1][1] + 1:
            out[-1] = (f"{out[-1][0]} {text}", page)
        else:
            out.append((text, page))
    return [text for text, _ in out]


def forest_hits(pairs: list[tuple[str, int]]) -> list[tuple[int, str, int]]:
    return [(n, text, page) for n, (text, page) in enumerate(pairs, start=1) if FOREST in text]


def test_text_layer_forest_line_and_page(text_pdf):
    extracted = read(text_pdf.path)
    pairs = lines_with_pages(extracted)
    hits = forest_hits(pairs)
    assert [(text, page) for _, text, page in hits] == [(forest_line(seed_lines()), text_pdf.page_of[forest_line(seed_lines())])]
    assert hits[0][2] == 2  # the fixture puts it on page 2: a page number that is not trivially 1
    assert extracted.converted_from is None and extracted.ocr is False


def test_text_layer_paragraphs_in_reading_order_without_headers_footers(text_pdf):
    pairs = lines_with_pages(read(text_pdf.path))
    source = seed_lines()
    assert rejoin(pairs, source) == source          # every paragraph whole, in order, nothing added
    texts = [text for text, _ in pairs]
    assert not any(HEADER in t or t.startswith("Trang ") for t in texts)
    assert all(texts[i] == "" for i in range(1, len(texts), 2))  # a blank line between paragraphs
    assert text_pdf.pages >= 5 and max(page for _, page in pairs) == text_pdf.pages


@pytest.mark.parametrize("encoding", ["TCVN3", "VNI"])
def test_legacy_font_text_layer_is_converted(tmp_path, encoding):
    fixture = build_pdf(tmp_path / f"{encoding}.pdf", encoding=encoding)
    extracted = read(fixture.path)
    assert extracted.converted_from == encoding
    pairs = lines_with_pages(extracted)
    line = forest_line(seed_lines())
    assert [(text, page) for _, text, page in forest_hits(pairs)] == [(line, fixture.page_of[line])]
    texts = [text for text, _ in pairs]
    assert "NGHỊ QUYẾT" in texts  # TCVN3: set in ".VnTimeH", whose lowercase codes show as capitals
    if encoding == "VNI":
        assert rejoin(pairs, seed_lines()) == seed_lines()


def test_legacy_text_layer_without_legacy_font_names_is_detected(tmp_path):
    fixture = build_pdf(tmp_path / "renamed.pdf", encoding="VNI", font_names=False)
    extracted = read(fixture.path)
    assert extracted.converted_from == "VNI"
    assert rejoin(lines_with_pages(extracted), seed_lines()) == seed_lines()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, text_pdf):
    """The forest-cover page and the page before it, as a scan (no text layer)."""
    page = text_pdf.page_of[forest_line(seed_lines())]
    path = tmp_path_factory.mktemp("scan") / "scan.pdf"
    reference = build_scanned_pdf(path, text_pdf, [page - 1, page])
    started = time.perf_counter()
    extracted = read(path)
    return path, reference, extracted, time.perf_counter() - started


def test_scanned_pdf_is_read_by_ocr(scanned):
    path, reference, extracted, seconds = scanned
    assert extracted.ocr is True
    pairs = lines_with_pages(extracted)
    line = unicodedata.normalize("NFC", forest_line(seed_lines()))
    best = max(pairs, key=lambda pair: Levenshtein.normalized_similarity(pair[0], line))
    assert Levenshtein.normalized_similarity(best[0], line) >= OCR_LINE_SIMILARITY, best
    assert best[1] == 2  # second page of the scan
    # The running header and "Trang N/M" repeat on both pages: dropped from OCR text too.
    assert not any(text.startswith("Trang ") for text, _ in pairs)
    page_two = " ".join(" ".join(text for text, page in pairs if page == 2).split())
    reference_two = " ".join(" ".join(reference[2]).split())
    assert 1 - Levenshtein.distance(page_two, reference_two) / len(reference_two) >= 0.95
    assert seconds < 120


def test_scanned_pdf_without_tesseract_says_needs_ocr(scanned, monkeypatch, tmp_path):
    path = scanned[0]
    python_only = tmp_path / "bin"
    python_only.mkdir()
    monkeypatch.setenv("PATH", str(python_only))  # a machine where tesseract is not installed
    assert shutil.which("tesseract") is None
    refuse(path, r"^needs OCR: install tesseract-ocr and tesseract-ocr-vie$")


def test_scanned_pdf_without_vietnamese_data_says_needs_ocr(scanned, monkeypatch, tmp_path):
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))  # tesseract-ocr without tesseract-ocr-vie
    refuse(scanned[0], r"^needs OCR: install tesseract-ocr and tesseract-ocr-vie \(Vietnamese language data 'vie' is missing\)$")


def test_bad_pdfs_are_refused_with_a_reason(tmp_path, text_pdf):
    check_common(tmp_path, ".pdf")
    refuse(junk(tmp_path, ".pdf"), r"^not a PDF file \(no %PDF header\)$")
    data = text_pdf.path.read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(data[:1024] + bytes(len(data) - 1024))  # header kept, the rest zeroed
    refuse(broken, r"^(corrupt or unreadable PDF \(.+\)|PDF has no pages)$")
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"%PDF-1.7\n" + b"garbage " * 1000)
    refuse(fake, r"^(corrupt or unreadable PDF \(.+\)|PDF has no pages)$")


def test_password_protected_pdf(tmp_path):
    from fpdf import FPDF

    from tests.fixtures_formats import FONT

    def protected(user_password: str | None):
        pdf = FPDF()
        pdf.add_font("serif", "", str(FONT))
        pdf.add_page()
        pdf.set_font("serif", size=12)
        pdf.multi_cell(0, 6, "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.")
        pdf.set_encryption(owner_password="chu-so-huu", user_password=user_password)
        path = tmp_path / f"locked-{bool(user_password)}.pdf"
        pdf.output(str(path))
        return path

    refuse(protected("mat-khau"), r"^password-protected PDF: save an unprotected copy to ingest it$")
    # Only an owner password (printing/copying restrictions): it opens without one, so it is read.
    assert FOREST in read(protected(None)).text


def test_odd_file_name(tmp_path, text_pdf):
    odd = tmp_path / ODD_NAME.format(suffix="pdf")
    odd.write_bytes(text_pdf.path.read_bytes())
    assert FOREST in read(odd).text
