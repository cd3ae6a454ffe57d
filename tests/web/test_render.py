"""Escaping, highlighting, citation HTML, upload names and session cookies, without a server."""
from __future__ import annotations

import io

import pytest

from web import render
from web.auth import Auth
from web.settings import Settings
from web.uploads import UploadError, safe_name, save

EVIL = "<script>alert('x')</script> {{7*7}} ${1+1} `x`"


def cite(text: str) -> dict:
    return {"doc": {"id": "d1", "title": "Nghị quyết <b>x</b>", "issuer": "UBND", "date": "2023-12-08",
                    "province": "Lạng Sơn"}, "section": "II › 3", "line_start": 56, "line_end": 57, "page": None,
            "text": text, "quote": f"Nghị quyết \"{EVIL}\""}


def test_escape_leaves_no_markup_or_template_syntax():
    out = render.esc(EVIL)
    assert "<" not in out and ">" not in out and "{" not in out and "$" not in out and "`" not in out
    assert out.startswith("&lt;script&gt;")


def test_marked_overlapping_layers():
    text = "tỷ lệ che phủ rừng đạt 64,6% <b>"
    out = render.marked(text, [("hl", [(6, 18)]), ("fig", [(19, 29)]), ("ans", [(0, 29)])])
    assert '<mark class="hl ans">che phủ rừng</mark>' in out
    assert '<mark class="fig ans">đạt 64,6%</mark>' in out            # trailing space kept outside the mark
    assert out.endswith("&lt;b&gt;")


def test_answer_html_escapes_documents_and_marks_figures():
    result = {"answer": {"text": "Tỷ lệ đạt 64,6%.", "figures": [[6, 15]], "citations": [cite(f"(16) Tỷ lệ đạt 64,6%. {EVIL}")],
                         "other_figures": [dict(cite("Tỷ lệ đạt trên 37,7%."), statement="Tỷ lệ đạt trên 37,7%.")]},
              "restored": None}
    out = render.answer_html(result, "vi", lambda text: [(0, 5)] if text.startswith("(16)") else [])
    assert "<script>" not in out and "<b>x</b>" not in out and "{{" not in out
    assert '<mark class="fig">đạt 64,6%</mark>' in out and "[1]" in out and "[2]" in out
    assert 'href="/view/d1?from=56&amp;to=57#L53"' in out and "dòng 56–57" in out
    assert "Văn bản khác nêu số liệu khác" in out and "Lạng Sơn:" in out


def test_answer_refs_link_to_their_citations_and_confidence_is_in_words():
    result = {"answer": {"text": "Tỷ lệ đạt 64,6%.", "figures": [], "citations": [cite("a"), cite("b")], "other_figures": []},
              "restored": None}
    out = render.answer_html(result, "vi", turn=3, level="medium", read_as=f"Tỷ lệ {EVIL}")
    assert '<a href="#qa-c3-1">[1]</a>' in out and '<a href="#qa-c3-2">[2]</a>' in out
    assert 'id="qa-c3-1"' in out and 'id="qa-c3-2"' in out
    assert "Độ tin cậy: <b>trung bình</b>" in out and "0." not in out
    assert "Hiểu là: Tỷ lệ &lt;script&gt;" in out and "<script>" not in out
    assert "Confidence: <b>high</b>" in render.answer_html(result, "en", level="high")


def test_citations_are_labelled_in_english_and_keep_the_vietnamese_quote():
    row = cite("Tỷ lệ đạt 64,6%.")
    row["doc"].update(type="Nghị quyết", number="12/NQ-HĐND")
    result = {"answer": {"text": "Tỷ lệ đạt 64,6%.", "figures": [], "citations": [row], "other_figures": []}}
    en = render.answer_html(result, "en", level="high")
    for label in ("Answer (quoted from the document, in Vietnamese)", "Type:</span> Resolution (Nghị quyết)",
                  "No.:</span> 12/NQ-HĐND", "Issued by:</span> UBND", "Date:</span> 08/12/2023",
                  "Province:</span> Lạng Sơn", "Section:</span> II › 3", "lines 56–57", "Cite as (Vietnamese):"):
        assert label in en, label
    assert 'lang="vi">Nghị quyết &quot;&lt;script&gt;' in en            # the quotable reference, escaped
    vi = render.answer_html(result, "vi", level="high")
    assert "Số:</span> 12/NQ-HĐND" in vi and "Ngày:</span> 08/12/2023" in vi and "Cite as" not in vi


def test_search_results_show_no_raw_score():
    row = dict(cite("Tỷ lệ đạt 64,6%."), rank=1, score=0.0489, highlights=[], also_in=[])
    out = render.results_html({"results": [row], "took_ms": 5}, "vi", "high")
    assert "0.0489" not in out and "điểm" not in out and "Độ tin cậy: <b>cao</b>" in out


def test_no_answer_is_plain():
    assert "Không tìm thấy" in render.answer_html({"answer": None, "results": []}, "vi")
    assert "No answer" in render.answer_html({"answer": None, "results": []}, "en")


@pytest.mark.parametrize("name", ["../a.txt", "a/../../b.txt", "/etc/passwd.txt", "a\\b.txt", "..", ".env.txt",
                                  "x.meta.json", "nul\x00.txt", "a<b>.txt", "", "x" * 300 + ".txt"])
def test_unsafe_names_are_rejected(name):
    with pytest.raises(UploadError):
        safe_name(name)


def test_safe_names_and_types():
    assert safe_name("Nghị quyết số 12 (bản sửa).txt") == "Nghị quyết số 12 (bản sửa).txt"
    with pytest.raises(UploadError) as err:
        safe_name("macro.docm")
    assert err.value.status == 415 and ".txt" in str(err.value)


def test_save_enforces_the_size_limit(tmp_path):
    with pytest.raises(UploadError) as err:
        save(io.BytesIO(b"x" * 2000), "a.txt", tmp_path, 1000)
    assert err.value.status == 413 and not list(tmp_path.iterdir())
    tmp, final = save(io.BytesIO(b"hello"), "a.txt", tmp_path, 1000)
    assert tmp.name.startswith(".") and final == tmp_path / "a.txt" and tmp.read_bytes() == b"hello"


def test_session_cookie_is_signed():
    auth = Auth(Settings(admin_tokens=["t"], secret="s"))
    value = auth.session("chi", "admin")
    assert auth.read_session(value) == ("chi", "admin")
    body, mac = value.split(".")
    assert auth.read_session(body + "." + "0" * len(mac)) is None
    assert Auth(Settings(admin_tokens=["t"], secret="other")).read_session(value) is None
    assert auth.identify({"authorization": "Bearer t"}) == ("token", "admin")
    assert auth.identify({}) is None
    assert Auth(Settings(reader_tokens=[], admin_tokens=[], users={})).identify({}) == ("anonymous", "admin")
