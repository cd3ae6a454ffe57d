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
