"""What a question names, and what of it no indexed document is about."""
from index.scope import provinces_in, scope_of, years_in


def test_a_province_is_named_by_its_capitalised_name_or_after_tinh():
    assert provinces_in("Tỷ lệ che phủ rừng của Hà Giang năm 2024?") == ["Hà Giang"]
    assert provinces_in("Lạng Sơn giữ gìn hòa bình thế nào?") == ["Lạng Sơn"]      # "hòa bình" is peace here
    assert provinces_in("Ngân sách tỉnh hòa bình năm 2024?") == ["Hòa Bình"]       # ... and a province here
    assert provinces_in("che phu rung ha giang 2024") == ["Hà Giang"]               # typed all lowercase


def test_the_country_is_not_a_province():
    """"người Việt Nam định cư ở nước ngoài" names no Nam Định, in any casing."""
    assert provinces_in("Người Việt Nam định cư ở nước ngoài có được mua nhà không?") == []
    assert provinces_in("nguoi viet nam dinh cu o nuoc ngoai co duoc mua nha khong") == []


def test_dates_of_the_case_are_not_years_of_a_document():
    assert years_in("Người sinh ngày 03/10/2003 thì ngày 03/10/2023 đã đủ 20 tuổi chưa?") == []
    assert years_in("Kế hoạch năm 2024 và tháng 10/2023") == ["2024"]


def test_scope_says_what_no_document_is_about():
    known = {"lang son", "bac giang", "2024", "2025"}
    scope = scope_of("Tỷ lệ che phủ rừng của Hà Giang năm 2019?", [], known, set())
    assert scope.unknown_provinces == ("Hà Giang",) and scope.unknown_years == ("2019",) and scope.outside
    scope = scope_of("So sánh Hà Giang với Lạng Sơn năm 2024", ["43-nq/tw"], known, {"12-nq/tu"})
    assert scope.named == {"lang son", "2024"} and not scope.outside   # it also names a province we have
    assert scope.unknown_numbers == ("43-nq/tw",)


def test_in_lowercase_a_name_that_is_an_ordinary_phrase_counts_only_where_a_place_is_expected():
    """"hòa bình" is peace, "cao bằng" as high as: without capitals they name the province only first in the
    question or after a word that expects a place (tỉnh, thành phố, ở, tại, của, thuộc); other names count anywhere."""
    for peace in ("giữ vững hòa bình ổn định", "giu vung hoa binh on dinh", "vì hòa bình và phát triển năm 2024",
                  "tăng trưởng năm 2024 cao bằng năm 2023 không?", "hợp tác với các nước thái bình dương"):
        assert provinces_in(peace) == [], peace
    for place, name in (("chỉ tiêu của hòa bình năm 2024", "Hòa Bình"), ("tỷ lệ che phủ rừng ở hòa bình?", "Hòa Bình"),
                        ("ngân sách tỉnh thái bình 2024", "Thái Bình"), ("cao bằng đón bao nhiêu lượt khách năm 2025", "Cao Bằng"),
                        ("khach du lich tai cao bang 2025", "Cao Bằng"), ("forest cover of hoa binh in 2024", "Hòa Bình"),
                        ("giữ vững hòa bình ở hà giang", "Hà Giang"), ("dân số hải dương năm 2024", "Hải Dương")):
        assert provinces_in(place) == [name], place
