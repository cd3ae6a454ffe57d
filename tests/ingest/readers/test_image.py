"""Image reader: a page of the seed resolution rendered to PNG, read back by real Tesseract OCR."""
from __future__ import annotations

import shutil

import pytest
from rapidfuzz.distance import Levenshtein

from ingest.readers import read
from tests.fixtures_formats import build_pdf, check_common, forest_line, junk, refuse, seed_lines

OCR_LINE_SIMILARITY = 0.90   # normalised Levenshtein similarity the OCR'd forest-cover line must reach


@pytest.fixture(scope="module")
def page_png(tmp_path_factory):
    """The forest-cover page as a 300 dpi PNG, as a phone or scanner app would save it."""
    import pypdfium2

    folder = tmp_path_factory.mktemp("img")
    fixture = build_pdf(folder / "r.pdf")
    page = fixture.page_of[forest_line(seed_lines())]
    document = pypdfium2.PdfDocument(str(fixture.path))
    document[page - 1].render(scale=300 / 72, grayscale=True).to_pil().save(folder / "trang.png")
    document.close()
    return folder / "trang.png"


def test_png_is_read_by_ocr(page_png):
    extracted = read(page_png)
    assert extracted.ocr is True and extracted.converted_from is None
    lines = extracted.text.split("\n")
    assert extracted.pages == [1] * len(lines)
    line = forest_line(seed_lines())
    best = max(lines, key=lambda candidate: Levenshtein.normalized_similarity(candidate, line))
    assert Levenshtein.normalized_similarity(best, line) >= OCR_LINE_SIMILARITY, best


def test_png_without_tesseract_says_needs_ocr(page_png, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where tesseract is not installed
    assert shutil.which("tesseract") is None
    refuse(page_png, r"^needs OCR: install tesseract-ocr and tesseract-ocr-vie$")


def test_bad_images_are_refused(tmp_path, page_png):
    check_common(tmp_path, ".png")
    refuse(junk(tmp_path, ".jpg"), r"^not a readable image \(.+\)$")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(page_png.read_bytes()[:5000])
    refuse(truncated, r"^not a readable image \(.+\)$")
