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
    assert clause.section == ["Điều 2. Tổ chức thực hiện"]


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
