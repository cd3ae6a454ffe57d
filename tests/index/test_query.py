import pytest

from index.query import (Vocabulary, analyze, detect_language, expansions, glossary_terms, load_abbreviations,
                         load_glossary, untranslated)

TEXTS = ["Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.", "Tỷ lệ hộ nghèo giảm khoảng 3% trong năm 2024.",
         "Nghị quyết số 43-NQ/TW của Ban Chấp hành Trung ương", "tỉnh Lạng Sơn năm 2024"]


@pytest.fixture(scope="module")
def vocab():
    return Vocabulary(TEXTS)


def test_language_of_a_query(vocab):
    assert detect_language("chỉ tiêu che phủ rừng năm 2024", vocab) == "vi"
    assert detect_language("che phu rung 2024", vocab) == "vi_nodiac"
    assert detect_language("What is the 2024 forest cover target?", vocab) == "en"
    assert detect_language("Who signed the Lạng Sơn resolution?", vocab) == "en"


def test_diacritics_restored_from_the_corpus_spellings(vocab):
    assert vocab.restore("che phu rung nam 2024") == "che phủ rừng năm 2024"
    assert vocab.restore("ty le ho ngheo la bao nhieu") == "tỷ lệ hộ nghèo là bao nhiêu"
    assert vocab.restore("nghi quyet 43-NQ/TW") == "nghị quyết 43-NQ/TW"


def test_glossary_maps_english_terms_longest_first():
    glossary = load_glossary()
    assert glossary_terms("What is the 2024 forest cover target?", glossary) == (["che phủ rừng", "chỉ tiêu"], 1.0)
    assert "tỷ lệ hộ nghèo" in glossary_terms("poverty rate in 2024", glossary)[0]
    terms, translated = glossary_terms("Which districts will host the defensive-zone exercises?", glossary)
    assert terms == [] and translated == 0.0   # nothing known: the dense ranking decides alone


def test_analyze_keeps_numbers_phrases_and_names_of_an_english_question(vocab):
    query = analyze('Who signed "Nghị quyết số 43-NQ/TW" in Lạng Sơn?', vocab, load_glossary())
    assert query.lang == "en" and query.numbers == ["43-nq/tw"] and query.phrases == ["Nghị quyết số 43-NQ/TW"]
    assert "Lạng" in query.vietnamese and "43-NQ/TW" in query.vietnamese


def test_an_english_question_carries_vietnamese_names_and_quoted_words(vocab):
    query = analyze('What three things make up Bắc Giang\'s "3 an" motto?', vocab, load_glossary())
    assert "Giang" in query.vietnamese.split() and "3 an" in query.vietnamese
    assert untranslated("Which Lạng Sơn Party program implements 20-NQ/TW?") == ["Lạng", "Sơn", "20-NQ/TW"]


def test_abbreviations_expand_both_ways():
    abbreviations = load_abbreviations()
    assert expansions("tỷ lệ người dân có thẻ BHYT", abbreviations) == ["bảo hiểm y tế"]
    assert expansions("ty le nguoi dan co the bao hiem y te", abbreviations) == ["BHYT"]
    assert expansions("Nghị quyết số 43-NQ/TW", abbreviations) == []   # "TW" inside a document number stays
    assert expansions("the 14th conference", abbreviations) == ["lần thứ 14"]
