"""HTML reader on a portal page built around the seed resolution."""
from __future__ import annotations

from ingest.legacy import from_unicode
from ingest.readers import read
from tests.fixtures_formats import (FOOTER, FOREST, MENU, ODD_NAME, SCRIPT, SIDEBAR, build_html, check_common,
                                    forest_line, junk, refuse, seed_lines)


def test_main_content_only(tmp_path):
    expected = build_html(tmp_path / "trang.html")
    extracted = read(tmp_path / "trang.html")
    lines = [line for line in extracted.text.split("\n") if line]
    assert lines == expected
    assert forest_line(seed_lines()) in lines
    for noise in [*MENU, SIDEBAR, FOOTER, SCRIPT, "Tin nổi bật", "Tìm kiếm", "document.write"]:
        assert noise not in extracted.text, noise
    assert extracted.converted_from is None


def test_legacy_font_page_is_converted(tmp_path):
    """Old portals set TCVN3 text in <font face=".VnTime">: the characters are the signature."""
    lines = seed_lines()
    paragraphs = [from_unicode(line, "TCVN3") for line in lines[: lines.index(forest_line(lines)) + 3]]
    page = "<html><body><nav><a href='/'>Trang chñ</a></nav><div>" + "".join(
        f'<p><font face=".VnTime">{p}</font></p>' for p in paragraphs) + "</div></body></html>"
    (tmp_path / "cu.htm").write_text(page, encoding="windows-1252")
    extracted = read(tmp_path / "cu.htm")
    assert extracted.converted_from == "TCVN3"
    assert forest_line(lines) in extracted.text.split("\n")
    assert "Trang chñ" not in extracted.text and "Trang chủ" not in extracted.text


def test_bad_html_is_refused(tmp_path):
    check_common(tmp_path, ".html")
    refuse(junk(tmp_path, ".html"), r"^binary content \(NUL bytes\), not an HTML page$")
    (tmp_path / "plain.html").write_text("chỉ là văn bản, không có thẻ nào\n" * 5, encoding="utf-8")
    refuse(tmp_path / "plain.html", r"^not an HTML page \(no HTML tags\)$")
    menu_only = "<html><body><nav><ul>" + "".join(f"<li><a href='/{i}'>{m}</a></li>" for i, m in enumerate(MENU)) \
        + "</ul></nav><script>var x = 1;</script></body></html>"
    (tmp_path / "menu.html").write_text(menu_only, encoding="utf-8")
    refuse(tmp_path / "menu.html", r"^no main text found in the HTML page$")


def test_odd_file_name(tmp_path):
    odd = tmp_path / ODD_NAME.format(suffix="html")
    build_html(odd)
    assert FOREST in read(odd).text
