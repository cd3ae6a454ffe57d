from core.document import SIGNATURE
from ingest.chunk import chunk_blocks
from ingest.clean import blocks
from ingest.structure import heading_level

DOC = """NGHỊ QUYẾT

II- CÁC CHỈ TIÊU CHỦ YẾU

3. Các chỉ tiêu môi trường

(16) Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.

(17) Tỷ lệ dân cư nông thôn được sử dụng nước hợp vệ sinh đạt 98,5%.

Điều 2. Tổ chức thực hiện

1. Giao Ủy ban nhân dân tỉnh tổ chức triển khai thực hiện Nghị quyết.
"""


def test_heading_levels():
    assert heading_level("Điều 2. Tổ chức thực hiện") < heading_level("II- CÁC CHỈ TIÊU") < heading_level("3. Các")
    assert heading_level("3.3 Các chỉ tiêu môi trường") > heading_level("3. Các chỉ tiêu")
    assert heading_level("(16) Trồng rừng mới") is None
    assert heading_level("- Trồng rừng mới") is None


def test_each_target_line_is_a_chunk_with_its_section_path_and_line():
    chunks = chunk_blocks("d", blocks(DOC), "Nghị quyết – Lạng Sơn")
    forest = next(c for c in chunks if "che phủ rừng" in c.text)
    assert forest.text == "(16) Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%."
    assert forest.section_path == "II- CÁC CHỈ TIÊU CHỦ YẾU › 3. Các chỉ tiêu môi trường"
    assert (forest.line_start, forest.line_end) == (7, 7)
    assert forest.embed_text.startswith("Nghị quyết – Lạng Sơn › II- CÁC CHỈ TIÊU CHỦ YẾU › 3. Các chỉ tiêu môi trường: ")


def test_title_like_headings_are_context_not_chunks_and_clauses_are_chunks():
    chunks = chunk_blocks("d", blocks(DOC), "")
    texts = [c.text for c in chunks]
    assert "3. Các chỉ tiêu môi trường" not in texts
    clause = next(c for c in chunks if c.text.startswith("1. Giao"))
    assert clause.section == ["Điều 2. Tổ chức thực hiện", "khoản 1"]


def test_long_paragraph_is_split_but_keeps_its_lines():
    long = "Tăng cường quản lý nhà nước về đất đai; " * 40
    chunks = chunk_blocks("d", blocks("I- NHIỆM VỤ\n\n" + long + "\n"), "")
    assert len(chunks) > 1 and all(len(c.text) <= 500 for c in chunks)
    assert all(c.line_start == 3 for c in chunks)


def test_chunk_ids_are_content_hashes():
    a = chunk_blocks("d", blocks(DOC), "t")
    b = chunk_blocks("d", blocks(DOC), "t")
    c = chunk_blocks("d", blocks(DOC.replace("64,6%", "65%")), "t")
    assert [x.id for x in a] == [x.id for x in b]
    assert {x.id for x in a} ^ {x.id for x in c} and len({x.id for x in a} & {x.id for x in c}) == len(a) - 1


LAW = """LUẬT PHÒNG, CHỐNG MA TÚY

Chương III
QUẢN LÝ NGƯỜI SỬ DỤNG TRÁI PHÉP CHẤT MA TÚY

Điều 24. Trách nhiệm của người sử dụng trái phép chất ma túy

1. Cung cấp đầy đủ, chính xác thông tin về hành vi sử dụng trái phép chất ma túy của mình.

2. Chấp hành việc quản lý của Ủy ban nhân dân cấp xã.

Điều 25. Trách nhiệm của gia đình, cơ quan, tổ chức, cộng đồng trong quản lý người sử dụng trái phép chất ma túy

1. Gia đình người sử dụng trái phép chất ma túy có trách nhiệm sau đây:

a) Quản lý, giáo dục người sử dụng trái phép chất ma túy;

b) Cung cấp thông tin về hành vi sử dụng trái phép chất ma túy.

2. Cơ quan, tổ chức, cộng đồng phối hợp với Ủy ban nhân dân cấp xã.
"""


def test_law_levels_part_chapter_section_article_clause_point():
    levels = [heading_level(t) for t in ("PHẦN THỨ NHẤT", "Chương III", "Mục 2", "Điều 24. Trách nhiệm",
                                         "1. Cung cấp", "a) Quản lý")]
    assert levels == sorted(levels) and len(set(levels)) == 6
    assert heading_level("CHƯƠNG II") == heading_level("Chương II") and heading_level("ĐIỀU 5. Giải thích từ ngữ")
    assert heading_level("Phần lớn các xã đạt chuẩn") is None and heading_level("Mục tiêu tổng quát") is None


def test_a_clause_is_cited_with_its_article_and_carries_the_article_title_into_the_embedded_text():
    chunks = chunk_blocks("d", blocks(LAW), "Luật Phòng, chống ma túy")
    clause = next(c for c in chunks if c.text.startswith("2. Chấp hành"))
    assert clause.section == ["Chương III. QUẢN LÝ NGƯỜI SỬ DỤNG TRÁI PHÉP CHẤT…",
                              "Điều 24. Trách nhiệm của người sử dụng trái phép…", "khoản 2"]
    assert "› Điều 24. Trách nhiệm của người sử dụng trái phép chất ma túy: 2. Chấp hành" in clause.embed_text
    point = next(c for c in chunks if c.text.startswith("a) Quản lý"))
    assert point.section[1:] == ["Điều 25. Trách nhiệm của gia đình, cơ quan, tổ…", "khoản 1", "điểm a"]
    assert point.headings[-1] == "Điều 25. Trách nhiệm của gia đình, cơ quan, tổ…"  # what the lexical index sees
    # the whole article title (what tells Điều 25 from Điều 24) and the clause's lead-in travel with the point
    assert ("Điều 25. Trách nhiệm của gia đình, cơ quan, tổ chức, cộng đồng trong quản lý người sử dụng trái phép "
            "chất ma túy › 1. Gia đình người sử dụng trái phép chất ma túy có trách nhiệm sau đây: a) Quản lý"
            ) in point.embed_text
    # headings and lead-ins are context, not passages of their own
    assert not any(c.text.startswith(("Chương", "Điều", "1. Gia đình")) for c in chunks)
    assert next(c for c in chunks if c.text.startswith("2. Cơ quan")).section[-1] == "khoản 2"


def test_resolution_parts_keep_their_own_numbering():
    chunks = chunk_blocks("d", blocks("Điều 1. Thông qua\n\nI. MỤC TIÊU\n\n1. Các chỉ tiêu\n\na) Trồng rừng mới 9.000 ha.\n"), "")
    [point] = chunks
    assert point.section == ["Điều 1. Thông qua", "I. MỤC TIÊU", "1. Các chỉ tiêu"]


def test_table_rows_at_the_end_are_not_a_signature():
    text = DOC + "\nChỉ tiêu: Trồng rừng mới; Kế hoạch: 9.000; Đơn vị: ha\n\nChỉ tiêu: Che phủ rừng; Kế hoạch: 64,6\n"
    chunks = chunk_blocks("d", blocks(text), "")
    rows = [c for c in chunks if c.text.startswith("Chỉ tiêu:")]
    assert len(rows) == 2 and all(c.section[0] == "Điều 2. Tổ chức thực hiện" for c in rows)
    assert not any(c.section == [SIGNATURE] for c in chunks)
    signed = chunk_blocks("d", blocks(DOC + "\nTM. ỦY BAN NHÂN DÂN\n\nCHỦ TỊCH\n\nNguyễn Văn Hùng\n"), "")
    assert signed[-1].section == [SIGNATURE] and signed[-1].text == "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH Nguyễn Văn Hùng"
