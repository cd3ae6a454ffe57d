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


def test_confidence_is_the_engines_own_calibrated_probability():
    answered = {"text": "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.", "citations": []}
    assert confidence({"answer": answered, "answer_probability": 0.97}) == "high"
    assert confidence({"answer": answered, "answer_probability": 0.8}) == "medium"
    assert confidence({"answer": answered, "answer_probability": 0.6}) == "low"
    assert confidence({"answer": answered, "answer_probability": None}) == "high"   # a quoted phrase, found literally
    assert confidence({"answer": None, "answer_probability": 0.97}) == "none"
