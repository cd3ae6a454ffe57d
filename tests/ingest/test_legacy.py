"""TCVN3 / VNI detection and conversion."""
from __future__ import annotations

import unicodedata

import pytest

from ingest.legacy import TCVN3, VNI, convert, detect, font_encoding, from_unicode, to_unicode
from tests.fixtures_formats import CORPUS_FILES, FOREST, seed_lines

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
LOWER = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]
ALL = LOWER + [ch.upper() for ch in LOWER]


def test_forest_line_in_both_encodings():
    assert from_unicode(FOREST, TCVN3) == "Trång rõng míi 9.000 ha, tû lÖ che phñ rõng ®¹t 64,6%"
    assert from_unicode(FOREST, VNI) == "Troàng röøng môùi 9.000 ha, tyû leä che phuû röøng ñaït 64,6%"
    for encoding in (TCVN3, VNI):
        assert convert(from_unicode(FOREST, encoding)) == (FOREST, encoding)


def test_vni_every_vietnamese_letter_both_cases():
    word = " ".join(ALL)
    assert to_unicode(from_unicode(word, VNI), VNI) == word


def test_tcvn3_every_lowercase_letter_and_the_capitals_it_has():
    word = " ".join(LOWER + list("ĂÂÊÔƠƯĐ"))
    assert to_unicode(from_unicode(word, TCVN3), TCVN3) == word
    # capitals with a tone exist only in the all-caps fonts: lowercase codes shown as capitals
    assert to_unicode(from_unicode("NGHỊ QUYẾT", TCVN3), TCVN3, upper=True) == "NGHỊ QUYẾT"
    assert to_unicode(from_unicode("NGHỊ QUYẾT", TCVN3), TCVN3) == "NGHị QUYếT"


def test_tcvn3_all_caps_lines_without_font_names():
    text = from_unicode("NGHỊ QUYẾT\nỦy ban nhân dân tỉnh Lạng Sơn\nI. CHỦ ĐỀ, MỤC TIÊU NĂM 2024", TCVN3)
    assert convert(text) == ("NGHỊ QUYẾT\nủy ban nhân dân tỉnh Lạng Sơn\nI. CHỦ ĐỀ, MỤC TIÊU NĂM 2024", TCVN3)


def test_vni_is_not_read_twice():
    """"oâ" is ô; the ô it yields must not be read again as the VNI single code for ơ."""
    assert to_unicode("coâng vieäc cuûa ngöôøi", VNI) == "công việc của người"


@pytest.mark.parametrize("font,expected", [
    (".VnTime", (TCVN3, False)), (".VnTimeH", (TCVN3, True)), (".VnArialH", (TCVN3, True)),
    ("ABCDEF+.VnTime,Bold", (TCVN3, False)), ("VnTimeH-Bold", (TCVN3, True)), (".VnCentury Schoolbook", (TCVN3, False)),
    ("VNI-Times", (VNI, False)), ("VNI-Helve-Condense", (VNI, False)),
    ("Times New Roman", (None, False)), ("Vni", (None, False)), (None, (None, False)),
])
def test_font_names(font, expected):
    assert font_encoding(font) == expected


def test_detection():
    text = "\n".join(seed_lines())
    assert detect(from_unicode(text, TCVN3)) == TCVN3
    assert detect(from_unicode(text, VNI)) == VNI
    for path in CORPUS_FILES:
        assert detect(path.read_text(encoding="utf-8")) is None, path
    assert detect("Où est le café? Très bien, à côté de l'hôtel. © 2024 «Le Monde»") is None
    assert detect("Hello, world") is None
    assert convert("hòa bình, toàn diện") == ("hòa bình, toàn diện", None)  # "oà" here is Unicode
