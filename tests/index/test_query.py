import pytest

from index.query import Vocabulary, analyze, detect_language, glossary_terms, load_glossary

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
    assert glossary_terms("What is the 2024 forest cover target?", glossary)[:1] == ["che phủ rừng"]
    assert "tỷ lệ hộ nghèo" in glossary_terms("poverty rate in 2024", glossary)


def test_analyze_keeps_numbers_phrases_and_names_of_an_english_question(vocab):
    query = analyze('Who signed "Nghị quyết số 43-NQ/TW" in Lạng Sơn?', vocab, load_glossary())
    assert query.lang == "en" and query.numbers == ["43-nq/tw"] and query.phrases == ["Nghị quyết số 43-NQ/TW"]
    assert "Lạng" in query.vietnamese and "43-NQ/TW" in query.vietnamese
