from ingest.clean import blocks, clean_line


def test_markdown_emphasis_and_signature_marks_are_removed():
    assert clean_line("Nghị quyết này được phổ biến đến chi bộ. *HB*") == "Nghị quyết này được phổ biến đến chi bộ."
    assert clean_line("*M*") == ""
    assert clean_line("căn cứ **07** Chương trình") == "căn cứ 07 Chương trình"
    assert clean_line("(*thực hiện thường xuyên*)") == "(thực hiện thường xuyên)"


def test_latex_becomes_plain_symbols():
    line = r"giảm tai nạn giao thông cả 3 tiêu chí $\geq 5\%$; giảm phạm pháp hình sự $\geq 3\%$."
    assert clean_line(line) == "giảm tai nạn giao thông cả 3 tiêu chí ≥ 5%; giảm phạm pháp hình sự ≥ 3%."


def test_footnote_markers_leave_the_body_text():
    assert clean_line("quy định của Tỉnh ủy¹ và") == "quy định của Tỉnh ủy và"


def test_paragraph_cut_by_a_page_break_is_joined_with_both_line_numbers():
    text = "Thường xuyên kiểm tra việc thực hiện Nghị\n\nquyết số 43-NQ/TW và Kế hoạch này.\n"
    [block] = blocks(text)
    assert block.text == "Thường xuyên kiểm tra việc thực hiện Nghị quyết số 43-NQ/TW và Kế hoạch này."
    assert (block.line_start, block.line_end) == (1, 3)


def test_paragraph_joined_across_a_footnote_the_page_break_left_in_it():
    text = "- Lãnh đạo thực hiện quy định; Phát\n\n¹ Quy định số 1877-QĐ/TU, ngày 05/7/2019.\n\nhuy vai trò của Ban Chỉ đạo.\n"
    body, note = blocks(text)
    assert body.text == "- Lãnh đạo thực hiện quy định; Phát huy vai trò của Ban Chỉ đạo."
    assert (body.line_start, body.line_end) == (1, 5)
    assert note.text == "Quy định số 1877-QĐ/TU, ngày 05/7/2019." and note.line_start == 3


def test_finished_sentences_and_headings_are_not_joined():
    assert len(blocks("Câu thứ nhất.\n\nsau đó câu khác.\n")) == 2
    assert len(blocks("CỦA BAN CHẤP HÀNH ĐẢNG BỘ TỈNH\nvề nhiệm vụ lãnh đạo năm 2024\n")) == 2


def test_two_headings_fused_on_one_line_are_split():
    first, second = blocks("I. MỤC ĐÍCH, YÊU CẦU**1. Mục đích**\n")
    assert (first.text, second.text) == ("I. MỤC ĐÍCH, YÊU CẦU", "1. Mục đích")


def test_header_lines_of_lowercase_text_stay_apart_but_a_cut_before_a_number_is_joined():
    header = "ubnd tỉnh cao bằng\nsố: 12/KH-UBND\ncao bằng, ngày 05 tháng 01 năm 2025\nkế hoạch\ntriển khai năm 2025\n"
    assert [b.text for b in blocks(header)] == ["ubnd tỉnh cao bằng", "số: 12/KH-UBND",
                                                "cao bằng, ngày 05 tháng 01 năm 2025", "kế hoạch", "triển khai năm 2025"]
    [cut] = blocks("Các cấp ủy tổ chức quán triệt và triển khai thực hiện Nghị quyết\nsố 43-NQ/TW của Trung ương.\n")
    assert cut.text.endswith("Nghị quyết số 43-NQ/TW của Trung ương.")
