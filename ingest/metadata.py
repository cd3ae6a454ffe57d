"""Document metadata from the text (type, title, issuer, province, date, signer, number) plus sidecar overrides."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import fields
from pathlib import Path

from core.document import Block, Metadata
from ingest.structure import heading_level
from core.places import PROVINCES
from core.vietnamese import fold

_PROVINCE_BY_FOLD = {fold(p): p for p in PROVINCES}
_PROVINCE_ALT = "|".join(sorted((re.escape(fold(p)) for p in PROVINCES), key=len, reverse=True))

TYPES = ["Chương trình hành động", "Nghị quyết", "Kế hoạch", "Quyết định", "Chỉ thị", "Kết luận", "Thông báo",
         "Báo cáo", "Quy định", "Quy chế", "Hướng dẫn", "Tờ trình", "Đề án", "Công văn", "Nghị định",
         "Thông tư", "Luật", "Chương trình"]

# Issuing bodies, most specific first; "{p}" is the province when the text names it.
ISSUERS = [
    ("ban chap hanh dang bo tinh", "Ban Chấp hành Đảng bộ tỉnh"),
    ("ban thuong vu tinh uy", "Ban Thường vụ Tỉnh ủy"),
    ("hoi dong nhan dan tinh", "Hội đồng nhân dân tỉnh"),
    ("uy ban nhan dan tinh", "Ủy ban nhân dân tỉnh"),
    ("t/m ban thuong vu", "Ban Thường vụ Tỉnh ủy"),
    ("t/m tinh uy", "Tỉnh ủy"),
    ("tinh uy", "Tỉnh ủy"),
]
_PLACE_DATE = re.compile(r"^[^,\d]{2,40},\s*ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.I)
_NUMBER = re.compile(r"^\s*Số\s*[:.]?\s*(\d+[\w/.\-]*[A-ZĐ][\w/.\-]*)", re.M)
_NAME = re.compile(r"^(?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]+\s){1,4}[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]+$")
HEADER_LINES = 12


def _iso(day: str, month: str, year: str) -> str:
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def _sentence_case(text: str) -> str:
    return text.lower() if text.isupper() else text[:1].lower() + text[1:]


def _province_in(text: str) -> str | None:
    m = re.search(rf"\b(?:tinh|thanh pho)\s+({_PROVINCE_ALT})\b", fold(text)) or \
        re.search(rf"^({_PROVINCE_ALT}),\s+ngay\b", fold(text))
    return _PROVINCE_BY_FOLD[m.group(1)] if m else None


def _province_from_mentions(text: str) -> str | None:
    counts = Counter(m.group(1) for m in re.finditer(rf"\b({_PROVINCE_ALT})\b", fold(text)))
    return _PROVINCE_BY_FOLD[counts.most_common(1)[0][0]] if counts else None


def _header(blocks: list[Block]) -> list[Block]:
    """The lines before the first heading (type, subject, place and date), at most HEADER_LINES."""
    head = []
    for block in blocks[:HEADER_LINES]:
        if heading_level(block.text) is not None:
            break
        head.append(block)
    return head


def _type_and_subject(header: list[Block]) -> tuple[str | None, str | None]:
    for i, block in enumerate(header):
        for name in TYPES:
            if fold(block.text).startswith(fold(name)) and len(block.text) <= len(name) + 3 and block.text.isupper():
                subject = next((b.text for b in header[i + 1:]
                                if re.match(r"^(về|ve|thực hiện)\b", b.text, re.I) or b.text.startswith("VỀ")), None)
                return name, subject
    return None, None


def _issuer(header: list[Block], body_start: str, tail: list[Block]) -> str | None:
    for text in [b.text for b in header] + [body_start] + [b.text for b in tail]:
        folded = fold(text)
        for key, name in ISSUERS:
            if key in folded:
                return name
    return None


def _signer(tail: list[Block]) -> str | None:
    for block in reversed(tail):
        text = block.text.strip("*").strip()
        if _NAME.match(text) and not text.isupper() and len(text.split()) <= 5:
            return text
        if block.text.startswith("-") or block.text.endswith((",", ".", ";")):
            return None  # reached the recipients list or body text: no signature line
    return None


def extract(blocks: list[Block], text: str) -> Metadata:
    """Best-effort metadata; anything not found stays None (a sidecar can fill it in)."""
    header = _header(blocks)
    body_start = blocks[len(header)].text if len(header) < len(blocks) else ""
    tail = blocks[-6:]
    meta = Metadata()
    meta.type, meta.subject = _type_and_subject(header)
    if meta.type:
        meta.title = f"{meta.type} {_sentence_case(meta.subject)}" if meta.subject else meta.type
    issuer = _issuer(header, body_start, tail)
    head_text = "\n".join(b.text for b in header)
    province = _province_in(head_text) or _province_in(body_start)
    meta.province_source = "header" if province else None
    if not province:
        province = _province_from_mentions(text)
        meta.province_source = "text" if province else None
    meta.province = province
    if issuer:
        meta.issuer = f"{issuer} {province}" if province and fold(province) not in fold(issuer) else issuer
    place_date = next((m for b in header for m in [_PLACE_DATE.match(b.text)] if m), None)
    adopted = re.search(r"(?:thông qua|họp)\s+ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", text, re.I)
    if place_date:
        meta.date, meta.date_kind = _iso(*place_date.groups()), "issued"
    elif adopted:
        meta.date, meta.date_kind = _iso(*adopted.groups()), "adopted"
    meta.signer = _signer(tail)
    number = _NUMBER.search("\n".join(b.text for b in header))
    meta.number = number.group(1) if number else None
    return meta


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def read_sidecar(path: Path) -> dict:
    """Overrides from `<file>.meta.json`; unknown keys are an error so typos do not pass silently."""
    side = sidecar_path(path)
    if not side.exists():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{side.name}: not valid JSON ({err})") from None
    known = {f.name for f in fields(Metadata)}
    unknown = set(data) - known
    if not isinstance(data, dict) or unknown:
        raise ValueError(f"{side.name}: unknown field(s) {sorted(unknown)}; allowed: {sorted(known)}")
    return data


def apply_overrides(meta: Metadata, overrides: dict) -> Metadata:
    for key, value in overrides.items():
        setattr(meta, key, value)
    if "province" in overrides:
        meta.province_source = "sidecar"
    return meta
