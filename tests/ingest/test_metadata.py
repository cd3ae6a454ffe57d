import json

import pytest

from ingest.clean import blocks
from ingest.metadata import apply_overrides, extract, read_sidecar
from tests.conftest import CORPUS


def meta_of(name):
    text = (CORPUS / name).read_text(encoding="utf-8")
    return extract(blocks(text), text)


def test_party_resolution_header():
    meta = meta_of("000_40b5a0639ebd00a3.txt")
    assert meta.type == "Nghị quyết"
    assert meta.title == "Nghị quyết về nhiệm vụ năm 2024"
    assert meta.issuer == "Ban Chấp hành Đảng bộ tỉnh Lạng Sơn"
    assert (meta.province, meta.province_source) == ("Lạng Sơn", "header")
    assert (meta.date, meta.date_kind) == ("2023-12-06", "issued")
    assert meta.signer == "Nguyễn Quốc Đoàn"


def test_council_resolution_date_is_the_adoption_not_a_cited_law():
    meta = meta_of("001_1a7c978e25c4247f.txt")
    assert meta.issuer == "Hội đồng nhân dân tỉnh Lạng Sơn"
    assert (meta.date, meta.date_kind) == ("2023-12-08", "adopted")
    assert meta.title == "Nghị quyết về mục tiêu, nhiệm vụ kế hoạch năm 2024"


def test_province_inferred_from_the_text_when_the_header_has_none():
    meta = meta_of("003_25c15fb9f0684aa2.txt")
    assert (meta.province, meta.province_source) == ("Bắc Giang", "text")
    assert meta.issuer == "Ban Chấp hành Đảng bộ tỉnh Bắc Giang"


def test_plan_and_action_program():
    plan = meta_of("002_c9ca5d0d8e180833.txt")
    assert plan.type == "Kế hoạch" and "43-NQ/TW" in plan.title
    assert plan.issuer == "Ban Thường vụ Tỉnh ủy Lạng Sơn" and plan.signer == "Hoàng Văn Nghiệm"
    program = meta_of("004_24b3f513e30adf65.txt")
    assert program.type == "Chương trình hành động" and program.signer == "Nguyễn Quốc Đoàn"


def test_document_number_from_header():
    text = "TỈNH ỦY BẮC GIANG\nSố: 12-NQ/TU\n\nNGHỊ QUYẾT\nvề nhiệm vụ năm 2024\n\nI- MỤC TIÊU\n"
    meta = extract(blocks(text), text)
    assert meta.number == "12-NQ/TU" and meta.province == "Bắc Giang"


def test_sidecar_overrides_fields_and_rejects_unknown_ones(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("x", encoding="utf-8")
    (tmp_path / "a.txt.meta.json").write_text(json.dumps({"date": "2023-12-07", "province": "Bắc Giang"}))
    meta = apply_overrides(meta_of("003_25c15fb9f0684aa2.txt"), read_sidecar(doc))
    assert (meta.date, meta.province, meta.province_source) == ("2023-12-07", "Bắc Giang", "sidecar")
    (tmp_path / "a.txt.meta.json").write_text(json.dumps({"provnce": "x"}))
    with pytest.raises(ValueError, match="unknown field"):
        read_sidecar(doc)


# Headers as the documents print them (the top-left issuer block, the national motto, the number,
# place and date, the type line and the subject), one per kind of document. A PDF often puts the two
# header columns on one line ("Số: 236/QĐ-TTg Hà Nội, ngày ..."); TCVN3 text gives lowercase lines.
LAW = """QUỐC HỘI
--------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Luật số: 91/2015/QH13
Hà Nội, ngày 24 tháng 11 năm 2015

BỘ LUẬT
DÂN SỰ

Căn cứ Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam;
Quốc hội ban hành Bộ luật dân sự.

PHẦN THỨ NHẤT
QUY ĐỊNH CHUNG

Chương I
NHỮNG QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh
Bộ luật này quy định địa vị pháp lý, chuẩn mực pháp lý về cách ứng xử của cá nhân, pháp nhân.
"""

DECREE = """CHÍNH PHỦ
-------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Số: 15/2020/NĐ-CP
Hà Nội, ngày 03 tháng 02 năm 2020

NGHỊ ĐỊNH
QUY ĐỊNH XỬ PHẠT VI PHẠM HÀNH CHÍNH TRONG LĨNH VỰC BƯU CHÍNH, VIỄN THÔNG,
TẦN SỐ VÔ TUYẾN ĐIỆN, CÔNG NGHỆ THÔNG TIN VÀ GIAO DỊCH ĐIỆN TỬ

Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;
Chính phủ ban hành Nghị định quy định xử phạt vi phạm hành chính.

Chương I
QUY ĐỊNH CHUNG
"""

CIRCULAR = """BỘ TÀI CHÍNH
--------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Số: 05/2024/TT-BTC
Hà Nội, ngày 26 tháng 01 năm 2024

THÔNG TƯ
Hướng dẫn quản lý, sử dụng kinh phí thực hiện chương trình mục tiêu quốc gia

Căn cứ Luật Ngân sách nhà nước ngày 25 tháng 6 năm 2015;
Bộ trưởng Bộ Tài chính ban hành Thông tư hướng dẫn.

Điều 1. Phạm vi điều chỉnh
"""

PM_DECISION = """THỦ TƯỚNG CHÍNH PHỦ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
------- Độc lập - Tự do - Hạnh phúc
Số: 236/QĐ-TTg Hà Nội, ngày 23 tháng 02 năm 2018
QUYẾT ĐỊNH
VỀ VIỆC PHÊ DUYỆT ĐIỀU CHỈNH QUY HOẠCH PHÁT TRIỂN ĐIỆN LỰC TỈNH HÒA BÌNH
THỦ TƯỚNG CHÍNH PHỦ
Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;
QUYẾT ĐỊNH:
Điều 1. Phê duyệt điều chỉnh quy hoạch.
"""

PROVINCE_DECISION_TITLE_CASE = """Ủy Ban Nhân Dân
Tỉnh Hà Giang

Số: 1520/QĐ-UBND

Hà Giang, ngày 15 tháng 8 năm 2023

Quyết Định

Về Việc Phê Duyệt Kế Hoạch Trồng Rừng Năm 2024

Chủ Tịch Ủy Ban Nhân Dân Tỉnh Hà Giang

Căn cứ Luật Lâm nghiệp ngày 15 tháng 11 năm 2017;

Điều 1. Phê duyệt kế hoạch trồng rừng năm 2024 với các nội dung sau.
"""

COUNCIL_RESOLUTION = """HỘI ĐỒNG NHÂN DÂN
TỈNH QUẢNG NINH
-------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Số: 01/2024/NQ-HĐND
Quảng Ninh, ngày 18 tháng 01 năm 2024

NGHỊ QUYẾT
Quy định mức hỗ trợ đối với người hoạt động không chuyên trách ở cấp xã

HỘI ĐỒNG NHÂN DÂN TỈNH QUẢNG NINH
KHÓA XIV - KỲ HỌP THỨ 17

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;

QUYẾT NGHỊ:

Điều 1. Phạm vi điều chỉnh
"""

PARTY_RESOLUTION = """BAN CHẤP HÀNH TRUNG ƯƠNG
*
Số 43-NQ/TW
ĐẢNG CỘNG SẢN VIỆT NAM
Hà Nội, ngày 24 tháng 11 năm 2023

NGHỊ QUYẾT
HỘI NGHỊ LẦN THỨ TÁM BAN CHẤP HÀNH TRUNG ƯƠNG ĐẢNG KHÓA XIII
về tiếp tục phát huy truyền thống, sức mạnh đại đoàn kết toàn dân tộc, xây dựng đất nước ta ngày càng phồn vinh, hạnh phúc

I- TÌNH HÌNH VÀ NGUYÊN NHÂN
Khối đại đoàn kết toàn dân tộc, trong đó có đồng bào ta và người Việt Nam định cư ở nước ngoài, vì hòa bình.
"""

OFFICIAL_LETTER = """ỦY BAN NHÂN DÂN
TỈNH LẠNG SƠN
-------
Số: 1234/UBND-KT
V/v triển khai thực hiện Nghị quyết số 43-NQ/TW
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
---------------
Lạng Sơn, ngày 10 tháng 5 năm 2024

Kính gửi: Các sở, ban, ngành tỉnh.

Thực hiện chỉ đạo của Ban Thường vụ Tỉnh ủy, Ủy ban nhân dân tỉnh đề nghị các cơ quan triển khai thực hiện.

Nơi nhận:
- Như trên;
- Lưu: VT, KT.
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
(Đã ký)
Đoàn Thu Hà
"""

REPORT = """TỈNH ỦY HÀ GIANG
*
Số 215-BC/TU
ĐẢNG CỘNG SẢN VIỆT NAM
Hà Giang, ngày 20 tháng 6 năm 2024

BÁO CÁO
sơ kết công tác 6 tháng đầu năm, phương hướng, nhiệm vụ 6 tháng cuối năm 2024

I- KẾT QUẢ THỰC HIỆN
"""

# TCVN3 text (no toned capitals: typed lowercase in the all-caps font), one line per paragraph.
PLAN_TCVN3 = """ubnd tỉnh cao bằng
số: 12/KH-UBND
cao bằng, ngày 05 tháng 01 năm 2025
kế hoạch
triển khai thực hiện nhiệm vụ phát triển du lịch năm 2025
Căn cứ Nghị quyết của Hội đồng nhân dân tỉnh về kế hoạch phát triển kinh tế - xã hội năm 2025;
I. MỤC ĐÍCH, YÊU CẦU
"""

# An uploaded plan whose first line is the type alone, with the signature block at its end.
UPLOADED_PLAN = """KẾ HOẠCH
Triển khai công tác chuyển đổi số trên địa bàn tỉnh năm 2025

I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
Đẩy mạnh chuyển đổi số trong các cơ quan nhà nước.

Nơi nhận:
- Các sở, ban, ngành;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Nguyễn Văn Hùng
"""


# The same, where a page-break repair joined the subject and who decides into one paragraph.
RESOLUTION_TCVN3 = """nghị quyết
về mục tiêu, nhiệm vụ kế hoạch năm 2024
hội đồng nhân dân tỉnh lạng sơn
khóa xvii, kỳ họp thứ hai mươi mốt
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Điều 1. Thông qua kế hoạch.
"""


def read_header(text):
    return extract(blocks(text), text)


@pytest.mark.parametrize("text, expected", [
    (LAW, dict(type="Bộ luật", title="Bộ luật Dân sự", number="91/2015/QH13", issuer="Quốc hội",
               province=None, place="Hà Nội", date="2015-11-24", year=2015)),
    ("BỘ LUẬT DÂN SỰ NĂM 2015\n\nĐiều 1. Phạm vi điều chỉnh\n",
     dict(type="Bộ luật", title="Bộ luật Dân sự năm 2015", province=None, date=None, year=2015)),
    ("LUẬT PHÒNG, CHỐNG MA TÚY\n\nĐiều 1. Phạm vi điều chỉnh\n\nLuật này quy định về phòng, chống ma túy; "
     "người Việt Nam định cư ở nước ngoài; vì hòa bình.\n",
     dict(type="Luật", title="Luật Phòng, chống ma túy", province=None, year=None)),
    (DECREE, dict(type="Nghị định", number="15/2020/NĐ-CP", issuer="Chính phủ", province=None, date="2020-02-03",
                  title="Nghị định quy định xử phạt vi phạm hành chính trong lĩnh vực bưu chính, viễn thông, "
                        "tần số vô tuyến điện, công nghệ thông tin và giao dịch điện tử")),
    (CIRCULAR, dict(type="Thông tư", number="05/2024/TT-BTC", issuer="Bộ Tài chính", province=None,
                    date="2024-01-26", title="Thông tư hướng dẫn quản lý, sử dụng kinh phí thực hiện chương "
                                             "trình mục tiêu quốc gia")),
    (PM_DECISION, dict(type="Quyết định", number="236/QĐ-TTg", issuer="Thủ tướng Chính phủ", province=None,
                       place="Hà Nội",
                       date="2018-02-23", title="Quyết định về việc phê duyệt điều chỉnh quy hoạch phát triển "
                                                "điện lực tỉnh Hòa Bình")),
    (PROVINCE_DECISION_TITLE_CASE, dict(type="Quyết định", number="1520/QĐ-UBND", province="Hà Giang",
                                        province_source="header", issuer="Ủy ban nhân dân tỉnh Hà Giang",
                                        date="2023-08-15", title="Quyết định về việc phê duyệt kế hoạch trồng "
                                                                 "rừng năm 2024")),
    (COUNCIL_RESOLUTION, dict(type="Nghị quyết", number="01/2024/NQ-HĐND", province="Quảng Ninh",
                              issuer="Hội đồng nhân dân tỉnh Quảng Ninh", date="2024-01-18",
                              title="Nghị quyết quy định mức hỗ trợ đối với người hoạt động không chuyên trách "
                                    "ở cấp xã")),
    (PARTY_RESOLUTION, dict(type="Nghị quyết", number="43-NQ/TW", issuer="Ban Chấp hành Trung ương Đảng",
                            province=None, date="2023-11-24", year=2023,
                            subject="về tiếp tục phát huy truyền thống, sức mạnh đại đoàn kết toàn dân tộc, xây "
                                    "dựng đất nước ta ngày càng phồn vinh, hạnh phúc")),
    (OFFICIAL_LETTER, dict(type="Công văn", number="1234/UBND-KT", province="Lạng Sơn", date="2024-05-10",
                           issuer="Ủy ban nhân dân tỉnh Lạng Sơn", signer="Đoàn Thu Hà",
                           title="Công văn về việc triển khai thực hiện Nghị quyết số 43-NQ/TW")),
    (REPORT, dict(type="Báo cáo", number="215-BC/TU", issuer="Tỉnh ủy Hà Giang", province="Hà Giang",
                  date="2024-06-20", title="Báo cáo sơ kết công tác 6 tháng đầu năm, phương hướng, nhiệm vụ 6 "
                                           "tháng cuối năm 2024")),
    (PLAN_TCVN3, dict(type="Kế hoạch", number="12/KH-UBND", province="Cao Bằng", place="Cao Bằng",
                      date="2025-01-05", year=2025,
                      issuer="Ủy ban nhân dân tỉnh Cao Bằng",
                      title="Kế hoạch triển khai thực hiện nhiệm vụ phát triển du lịch năm 2025")),
    (RESOLUTION_TCVN3, dict(type="Nghị quyết", title="Nghị quyết về mục tiêu, nhiệm vụ kế hoạch năm 2024",
                            issuer="Hội đồng nhân dân tỉnh Lạng Sơn", province="Lạng Sơn")),
    (UPLOADED_PLAN, dict(type="Kế hoạch", title="Kế hoạch triển khai công tác chuyển đổi số trên địa bàn tỉnh "
                                                "năm 2025", date=None, year=2025, signer="Nguyễn Văn Hùng")),
], ids=["law", "law-one-line", "law-name-only", "decree", "circular", "pm-decision", "title-case-decision",
        "council-resolution", "party-resolution", "official-letter", "report", "tcvn3-plan", "tcvn3-resolution",
        "uploaded-plan"])
def test_header_patterns(text, expected):
    meta = read_header(text)
    assert {key: getattr(meta, key) for key in expected} == expected


@pytest.mark.parametrize("line, number", [
    ("Số: 15/2023/NĐ-CP", "15/2023/NĐ-CP"), ("Số: 05/2024/TT-BTC", "05/2024/TT-BTC"),
    ("Số 43-NQ/TW", "43-NQ/TW"), ("Luật số: 91/2015/QH13", "91/2015/QH13"), ("Số: 236/QĐ-TTg", "236/QĐ-TTg"),
    ("số: 12/kh-ubnd", "12/kh-ubnd"),
])
def test_document_numbers(line, number):
    meta = read_header(f"CHÍNH PHỦ\n{line}\n\nNGHỊ ĐỊNH\nQuy định chi tiết\n")
    assert meta.number == number


def test_party_committee_header_on_two_lines():
    meta = read_header("ĐẢNG BỘ TỈNH LẠNG SƠN\nBAN THƯỜNG VỤ\n*\nSố 21-KH/TU\nĐẢNG CỘNG SẢN VIỆT NAM\n"
                       "Lạng Sơn, ngày 12 tháng 01 năm 2024\n\nKẾ HOẠCH\ntổ chức hội nghị học tập nghị quyết\n")
    assert (meta.issuer, meta.province, meta.number) == ("Ban Thường vụ Tỉnh ủy Lạng Sơn", "Lạng Sơn", "21-KH/TU")
    assert meta.title == "Kế hoạch tổ chức hội nghị học tập nghị quyết"


def test_a_department_under_the_provincial_committee_issues():
    meta = read_header("UBND TỈNH LẠNG SƠN\nSỞ TÀI CHÍNH\n-------\nSố: 350/BC-STC\nLạng Sơn, ngày 02 tháng 4 năm 2024\n\n"
                       "BÁO CÁO\nTình hình thu, chi ngân sách quý I năm 2024\n")
    assert (meta.issuer, meta.province, meta.type) == ("Sở Tài chính", "Lạng Sơn", "Báo cáo")
    ministry = read_header("BỘ Y TẾ\nCỤC QUẢN LÝ DƯỢC\nSố: 12/QLD-ĐK\nHà Nội, ngày 5 tháng 1 năm 2024\n\n"
                           "V/v cấp giấy đăng ký lưu hành thuốc\n\nKính gửi: Sở Y tế tỉnh Hà Giang.\n")
    assert (ministry.issuer, ministry.province, ministry.type) == ("Cục Quản lý dược", None, "Công văn")


def test_province_only_from_the_issuer_never_from_incidental_words():
    text = ("BAN CHỈ ĐẠO\n\nTHÔNG BÁO\nKết luận của Trưởng Ban Chỉ đạo\n\n"
            "1. Đồng bào ta và người Việt Nam định cư ở nước ngoài chung sức vì hòa bình, hợp tác.\n")
    assert read_header(text).province is None
    assert read_header("NGHỊ QUYẾT\nvề nhiệm vụ năm 2024\n\n1. Phát triển kinh tế tỉnh Hà Giang nhanh.\n").province \
        == "Hà Giang"


def test_year_from_the_date_else_the_title_else_the_number():
    assert read_header("KẾ HOẠCH\nTriển khai nhiệm vụ năm 2025\n").year == 2025
    assert read_header("Hà Nội, ngày 1 tháng 2 năm 2023\nKẾ HOẠCH\nTriển khai nhiệm vụ năm 2025\n").year == 2023
    assert read_header("Số: 12/2022/NQ-HĐND\nNGHỊ QUYẾT\nQuy định mức chi\n").year == 2022
    assert read_header("Nội dung không có năm.\n").year is None


def test_sidecar_date_moves_the_year(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("x", encoding="utf-8")
    (tmp_path / "a.txt.meta.json").write_text(json.dumps({"date": "2021-05-01"}))
    assert apply_overrides(read_header(UPLOADED_PLAN), read_sidecar(doc)).year == 2021
