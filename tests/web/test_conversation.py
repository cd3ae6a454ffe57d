"""Follow-up questions read with the previous question's topic, and answer confidence levels (index.engine's pure functions)."""
from __future__ import annotations

import pytest

from index.engine import confidence, follow_up

PROVINCES = {"Lạng Sơn", "Bắc Giang", "Hà Nam"}
FOREST = "Tỷ lệ che phủ rừng năm 2024 là bao nhiêu?"
FOREST_BG = "Tỷ lệ che phủ rừng năm 2024 của Bắc Giang là bao nhiêu?"


@pytest.mark.parametrize("previous, question, expected", [
    (FOREST, "Còn Bắc Giang thì sao?", FOREST_BG),
    (FOREST, "con bac giang thi sao", FOREST_BG),                      # no diacritics, no question mark
    (FOREST, "Còn Bắc Giang?", FOREST_BG),
    (FOREST, "Bắc Giang thì sao?", FOREST_BG),
    (FOREST, "Thế còn tỉnh Bắc Giang?", FOREST_BG),
    (FOREST, "Bắc Giang đạt bao nhiêu?", FOREST_BG),
    (FOREST, "What about Bắc Giang?", FOREST_BG),                      # English follow-up, Vietnamese topic
    (FOREST, "năm 2025 thì sao?", "Tỷ lệ che phủ rừng năm 2025 là bao nhiêu?"),
    (FOREST, "Còn năm sau?", "Tỷ lệ che phủ rừng năm 2025 là bao nhiêu?"),
    (FOREST, "Thế còn Bắc Giang năm 2025?", "Tỷ lệ che phủ rừng năm 2025 của Bắc Giang là bao nhiêu?"),
    ("Tỷ lệ che phủ rừng năm 2024 của Lạng Sơn là bao nhiêu?", "Còn Bắc Giang thì sao?", FOREST_BG),   # replaced
    ("Tỷ lệ che phủ rừng của tỉnh Lạng Sơn?", "còn hà nam", "Tỷ lệ che phủ rừng của tỉnh Hà Nam?"),
    ("che phu rung 2024", "con bac giang thi sao?", "che phu rung 2024 cua bac giang"),   # stays without diacritics
    ("What is the 2024 forest cover target?", "What about Bắc Giang?", "What is the 2024 forest cover target in Bắc Giang?"),
    ("What is the 2024 forest cover target?", "And in 2025?", "What is the 2025 forest cover target?"),
    (FOREST, "Còn kế hoạch 43-NQ/TW thì sao?", "Tỷ lệ che phủ rừng năm 2024 theo kế hoạch 43-NQ/TW là bao nhiêu?"),
    ("Tăng trưởng thứ hai?", "Bắc Giang?", "Tăng trưởng thứ hai của Bắc Giang?"),   # "hai" is no question word
])
def test_a_follow_up_reuses_the_previous_topic(previous, question, expected):
    assert follow_up(previous, question, PROVINCES) == expected


@pytest.mark.parametrize("previous, question", [
    (FOREST, "Dân số Bắc Giang là bao nhiêu?"),               # asks about something of its own
    (FOREST, "Tỷ lệ hộ nghèo của Bắc Giang năm 2025?"),
    (FOREST, "Thu nhập bình quân đầu người?"),               # names no province, year or document
    (FOREST, "Hà Nội thì sao?"),                            # a province the index does not know
    ("Tỷ lệ che phủ rừng là bao nhiêu?", "Còn năm sau?"),   # no year to count from
    ("", "Còn Bắc Giang thì sao?"),                          # nothing before it
])
def test_a_question_of_its_own_is_not_a_follow_up(previous, question):
    assert follow_up(previous, question, PROVINCES) is None


def response(lang="vi", cosine=0.9, passage="Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.",
             query="Tỷ lệ che phủ rừng năm 2024 của Lạng Sơn là bao nhiêu?", answered=True) -> dict:
    cite = {"text": passage, "section": "3. Các chỉ tiêu môi trường", "doc": {"title": "Nghị quyết"}}
    return {"query": query, "lang": lang, "restored": None,
            "answer": {"text": passage, "citations": [cite]} if answered else None,
            "results": [{"text": passage, "dense": cosine}] if answered else []}


def test_confidence_follows_the_answer_decision():
    assert confidence(response(), PROVINCES) == "high"                          # all words, close in meaning
    assert confidence(response(cosine=0.80), PROVINCES) == "medium"             # all words, not close
    assert confidence(response(query="Diện tích trồng lúa của Lạng Sơn?", cosine=0.89), PROVINCES) == "medium"
    assert confidence(response(query="Diện tích trồng lúa của Lạng Sơn?", cosine=0.80), PROVINCES) == "low"
    assert confidence(response(answered=False), PROVINCES) == "none"
    english = "What is the 2024 forest cover target?"
    assert confidence(response("en", 0.90, query=english)) == "high"
    assert confidence(response("en", 0.87, query=english)) == "medium"
    assert confidence(response("en", 0.79, query=english)) == "low"
