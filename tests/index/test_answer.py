"""Figures and sentences of an answer: list markers are not figures, the same figure written twice is one."""
from core.text import content_words
from index.answer import best_sentence, figure_values, figures, sentences


def spans(text):
    return [text[s:e] for s, e in figures(text)]


def test_list_markers_are_not_figures():
    assert spans("(1) Tốc độ tăng trưởng kinh tế (GRDP): 7 - 7,5%.") == ["7 - 7,5%"]
    assert spans("2. Tổng thu ngân sách 7.485 tỷ đồng; 3. Trồng rừng 9.000 ha.") == ["7.485", "9.000"]
    assert spans("Xây dựng thêm 10 xã đạt chuẩn (chiếm 12%).") == ["10", "12%"]


def test_the_same_figure_written_differently_is_one_value_and_years_are_not_values():
    assert figure_values("GRDP: 7 - 7,5%") == figure_values("GRDP đạt 7–7,5 %") == {"7-7,5%"}
    assert figure_values("Năm 2025, thu hút trên 4,4 triệu lượt khách") == {"trên4,4"}


def test_sentences_drop_every_list_marker_before_them():
    assert sentences("- (1) Tốc độ tăng trưởng: 7 - 7,5%. 2. Thu ngân sách 7.485 tỷ đồng.") == [
        "Tốc độ tăng trưởng: 7 - 7,5%.", "Thu ngân sách 7.485 tỷ đồng."]


def test_a_line_break_ends_a_sentence():
    text = "Trách nhiệm của người sử dụng trái phép chất ma túy\n2. Chấp hành việc quản lý của Ủy ban nhân dân cấp xã"
    assert sentences(text) == ["Trách nhiệm của người sử dụng trái phép chất ma túy",
                               "Chấp hành việc quản lý của Ủy ban nhân dân cấp xã"]
    assert best_sentence(text, content_words("chấp hành quản lý")) == "Chấp hành việc quản lý của Ủy ban nhân dân cấp xã"


PASSAGE = ("Tỷ lệ chất thải rắn được thu gom xử lý đạt 86,7%. "
           "Cụm công nghiệp có hệ thống xử lý nước thải tập trung đạt 65,8%.")


def test_the_answer_sentence_is_the_one_sharing_most_words_unless_closeness_is_given():
    assert best_sentence(PASSAGE, {"thu", "gom", "xử", "lý"}).startswith("Tỷ lệ chất thải rắn")
    closer_second = lambda options: [0.2, 0.7][:len(options)]
    assert best_sentence(PASSAGE, {"thu", "gom", "xử", "lý"}, closer_second).startswith("Cụm công nghiệp")
    assert best_sentence("Một câu duy nhất 12%.", set(), lambda options: 1 / 0) == "Một câu duy nhất 12%."
