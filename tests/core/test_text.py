import unicodedata

from core.text import canonical_query


def test_unicode_forms_tone_placement_and_spacing_give_one_query():
    typed = ["Chỉ tiêu văn hóa năm 2024", unicodedata.normalize("NFD", "Chỉ tiêu văn hóa năm 2024"),
             "Chỉ tiêu văn hoá năm 2024", "  Chỉ  tiêu\tvăn hoá\n năm 2024 "]
    assert {canonical_query(t) for t in typed} == {"Chỉ tiêu văn hóa năm 2024"}
    assert canonical_query("công trình thuỷ lợi") == canonical_query("công trình thủy lợi") == "công trình thủy lợi"


def test_case_and_diacritics_are_kept():
    assert canonical_query("Hòa Bình") != canonical_query("hòa bình")
    assert canonical_query("lương") != canonical_query("lượng") != canonical_query("luong")
    assert canonical_query("Quý") == "Quý"   # "qu" is a consonant: nothing to move


def test_result_is_nfc():
    out = canonical_query(unicodedata.normalize("NFD", "Lạng Sơn"))
    assert out == "Lạng Sơn" and unicodedata.is_normalized("NFC", out)
