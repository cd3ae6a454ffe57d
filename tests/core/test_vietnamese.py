from core.vietnamese import fold, has_diacritics, normalize, normalize_tones


def test_tone_marks_move_to_the_first_vowel_of_oa_oe_uy():
    assert normalize_tones("hoá") == "hóa"
    assert normalize_tones("Uỷ ban") == "Ủy ban"
    assert normalize_tones("khoẻ mạnh, thuỷ lợi, Toà án") == "khỏe mạnh, thủy lợi, Tòa án"


def test_tone_marks_left_alone_where_placement_is_not_ambiguous():
    for word in ("quý", "quá", "hoàn", "khuyến", "người", "của", "hóa"):
        assert normalize_tones(word) == word


def test_documents_and_queries_normalise_the_same_way():
    assert normalize("văn hoá") == normalize("văn hóa")
    assert normalize("Ðảng") == "Đảng"  # Icelandic Eth typed for Đ
    assert normalize("Sie\u0302\u0301t") == "Siết"  # decomposed accents -> NFC


def test_fold_strips_diacritics_and_keeps_length():
    text = normalize("Trồng rừng mới, tỷ lệ che phủ rừng ĐẠT 64,6%")
    assert fold(text) == "trong rung moi, ty le che phu rung dat 64,6%"
    assert len(fold(text)) == len(text)


def test_has_diacritics():
    assert has_diacritics("che phủ") and has_diacritics("đ")
    assert not has_diacritics("che phu rung 2024")
