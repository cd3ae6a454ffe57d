"""Every format, ingested like the corpus: the forest-cover question finds its line, page and section."""
import pytest

from index.engine import Engine, Filters, ingest
from tests.fixtures_formats import (FOREST, build_docx, build_html, build_legacy_txt, build_pdf, build_scanned_pdf,
                                    forest_line, seed_lines)


def search(engine, *args, **kwargs) -> dict:
    """The engine's answer as the JSON object the CLI and the API print."""
    return engine.search(*args, **kwargs).model_dump()


SECTION = "3.3 Các chỉ tiêu môi trường"


@pytest.fixture(scope="module")
def formats(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("formats")
    pdf = build_pdf(folder / "text-layer.pdf")
    page = pdf.page_of[forest_line(seed_lines())]
    build_scanned_pdf(folder / "scanned.pdf", pdf, [page - 1, page])
    build_docx(folder / "word.docx")
    build_docx(folder / "word-tcvn3.docx", encoding="TCVN3")
    build_html(folder / "portal.html")
    build_legacy_txt(folder / "tcvn3.txt", "TCVN3")
    build_legacy_txt(folder / "vni.txt", "VNI")
    index = tmp_path_factory.mktemp("formats-index")
    summary = ingest([folder], embedder, index)
    return Engine(index, embedder), summary, page


def test_every_file_is_ingested(formats):
    engine, summary, _ = formats
    assert summary.added == 7 and not summary.errors
    converted = {d.source.split("/")[-1]: d.meta.converted_from for d in engine.documents.values()}
    assert converted["tcvn3.txt"] == "TCVN3" and converted["vni.txt"] == "VNI"
    assert converted["word-tcvn3.docx"] == "TCVN3" and converted["word.docx"] is None
    assert {d.meta.ocr for d in engine.documents.values() if d.source.endswith("scanned.pdf")} == {True}


@pytest.mark.parametrize("name", ["text-layer.pdf", "scanned.pdf", "word.docx", "word-tcvn3.docx", "portal.html",
                                  "tcvn3.txt", "vni.txt"])
def test_forest_question_finds_the_line_in_each_format(formats, name):
    engine, _, page = formats
    [doc] = [d for d in engine.documents.values() if d.source.endswith("/" + name)]
    response = search(engine, "What is the 2024 forest cover target?", filters=Filters(doc=doc.id))
    assert response["answer"] and FOREST in response["answer"]["text"]
    top = response["results"][0]
    assert FOREST in top["text"]
    assert top["section"].endswith(SECTION) or top["section"].endswith("Các chỉ tiêu môi trường")
    if name == "text-layer.pdf":
        assert top["page"] == page
    if name == "scanned.pdf":
        assert top["page"] == 2
