"""Document metadata read from the header block of a Vietnamese administrative or legal document
(type, number, title, issuer, place and date, province, signer, year) plus sidecar overrides.

The header is read in any case (ALL CAPS, Title Case, or lowercase as TCVN3 text gives it): every
match is made on folded text (no tones, lowercase) and the original text is sliced from it.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import fields
from pathlib import Path

from core.document import Block, Metadata
from core.places import PROVINCES
from core.vietnamese import fold
from ingest.structure import heading_level

_PROVINCE_BY_FOLD = {fold(p): p for p in PROVINCES} | {"thua thien hue": "Thừa Thiên Huế", "hue": "Thừa Thiên Huế"}
_PROVINCE_ALT = "|".join(sorted((re.escape(k) for k in _PROVINCE_BY_FOLD), key=len, reverse=True))
# A province named as such: "tỉnh Lạng Sơn", "thành phố Hà Nội", "TP. Hồ Chí Minh", "UBND TP Hải Phòng".
_PROVINCE_NAMED = re.compile(rf"\b(?:tinh|thanh pho|tp\.?|tinh uy|thanh uy)\s*({_PROVINCE_ALT})\b")

# Document types (Nghị định 30/2020/NĐ-CP, party documents, laws), longest first so that
# "Chương trình hành động" wins over "Chương trình" and "Bộ luật" over "Luật".
TYPES = ["Chương trình hành động", "Nghị quyết liên tịch", "Thông tư liên tịch", "Nghị quyết", "Kế hoạch",
         "Quyết định", "Chỉ thị", "Kết luận", "Thông báo", "Thông cáo", "Thông tri", "Báo cáo", "Quy định",
         "Quy chế", "Hướng dẫn", "Tờ trình", "Đề án", "Phương án", "Công văn", "Công điện", "Nghị định",
         "Thông tư", "Hiến pháp", "Bộ luật", "Luật", "Pháp lệnh", "Lệnh", "Chương trình", "Biên bản"]
TYPES.sort(key=len, reverse=True)
LAW_TYPES = {"Hiến pháp", "Bộ luật", "Luật", "Pháp lệnh"}
NATIONAL_TYPES = LAW_TYPES | {"Nghị định", "Thông tư", "Thông tư liên tịch", "Lệnh"}
# The type code inside a number: "43-NQ/TW", "236/QĐ-TTg", "15/2023/NĐ-CP", "05/2024/TT-BTC".
NUMBER_CODES = {"NQ": "Nghị quyết", "NQLT": "Nghị quyết liên tịch", "QĐ": "Quyết định", "KH": "Kế hoạch",
                "CT": "Chỉ thị", "KL": "Kết luận", "TB": "Thông báo", "BC": "Báo cáo", "QĐi": "Quy định",
                "HD": "Hướng dẫn", "TTr": "Tờ trình", "ĐA": "Đề án", "CTr": "Chương trình", "NĐ": "Nghị định",
                "TT": "Thông tư", "TTLT": "Thông tư liên tịch", "CĐ": "Công điện", "BB": "Biên bản",
                "L": "Lệnh"}

# Issuing bodies (folded pattern, name), most specific first. A name with "{p}" takes the province.
ISSUERS = [
    (r"uy ban thuong vu quoc hoi", "Ủy ban Thường vụ Quốc hội"),
    (r"quoc hoi", "Quốc hội"),
    (r"thu tuong chinh phu", "Thủ tướng Chính phủ"),
    (r"chu tich nuoc", "Chủ tịch nước"),
    (r"chinh phu", "Chính phủ"),
    (r"ban chap hanh trung uong", "Ban Chấp hành Trung ương Đảng"),
    (r"bo chinh tri", "Bộ Chính trị"),
    (r"ban bi thu", "Ban Bí thư"),
    (r"dang bo (?:tinh|thanh pho) [a-z -]{2,30} ban thuong vu", "Ban Thường vụ Tỉnh ủy"),   # "ĐẢNG BỘ TỈNH X / BAN THƯỜNG VỤ"
    (r"ban chap hanh dang bo (?:tinh|thanh pho)", "Ban Chấp hành Đảng bộ tỉnh"),
    (r"ban thuong vu (?:tinh|thanh) uy", "Ban Thường vụ Tỉnh ủy"),
    (r"(?:hoi dong nhan dan|hdnd) (?:tinh|thanh pho|tp)", "Hội đồng nhân dân tỉnh"),
    (r"(?:uy ban nhan dan|ubnd) (?:tinh|thanh pho|tp)", "Ủy ban nhân dân tỉnh"),
    (r"t/?m\.? ban thuong vu", "Ban Thường vụ Tỉnh ủy"),
    (r"t/?m\.? (?:tinh|thanh) uy", "Tỉnh ủy"),
    (r"(?:tinh|thanh) uy", "Tỉnh ủy"),
    (r"toa an nhan dan toi cao", "Tòa án nhân dân tối cao"),
    (r"vien kiem sat nhan dan toi cao", "Viện kiểm sát nhân dân tối cao"),
    (r"ngan hang nha nuoc", "Ngân hàng Nhà nước Việt Nam"),
    (r"kiem toan nha nuoc", "Kiểm toán nhà nước"),
]
NATIONAL_ISSUERS = {"Ủy ban Thường vụ Quốc hội", "Quốc hội", "Thủ tướng Chính phủ", "Chủ tịch nước", "Chính phủ",
                    "Ban Chấp hành Trung ương Đảng", "Bộ Chính trị", "Ban Bí thư", "Tòa án nhân dân tối cao",
                    "Viện kiểm sát nhân dân tối cao", "Ngân hàng Nhà nước Việt Nam", "Kiểm toán nhà nước"}
_MINISTRY = re.compile(r"^bo ([a-z ,-]{4,60})$")   # "BỘ TÀI CHÍNH" as an issuer line

# Lines of the header that are not the subject: the national motto, separators, who decides,
# the meeting ("HỘI NGHỊ LẦN THỨ 14", "KHÓA XVII, KỲ HỌP THỨ 21").
_MOTTO = re.compile(r"^(?:cong hoa xa hoi chu nghia viet nam|doc lap\s*[-–]\s*tu do|dang cong san viet nam)")
_SEPARATOR = re.compile(r"^[\W_]*$")
_AUTHORITY = re.compile(
    r"^(?:cua |chu tich|pho chu tich|thu tuong|bo truong|giam doc|hoi dong nhan dan|hdnd|uy ban nhan dan|ubnd|"
    r"uy ban thuong vu|ban chap hanh|ban thuong vu|quoc hoi|chinh phu|hoi nghi|ky hop|khoa [ivxlc]+\b|"
    r"(?:tinh|thanh|huyen|dang) uy|bo chinh tri|ban bi thu|truong ban|chanh an|vien truong|thong doc|"
    r"tong kiem toan|tong cuc truong|cuc truong|chanh van phong)")
_BODY_START = re.compile(r"^(?:can cu|kinh gui|xet |theo de nghi|thuc hien chi dao)")
# The date line: "Lạng Sơn, ngày 06 tháng 12 năm 2023", also after a number on the same line.
_DATE = re.compile(r"ngay\s*(\d{1,2})\s*(?:thang|/|-|\.)\s*(\d{1,2})\s*(?:nam|/|-|\.)\s*(\d{4})")
_PLACE_DATE = re.compile(r"(?:,\s*|^)" + _DATE.pattern + r"[\s.)]*$")
_ADOPTED = re.compile(r"(?:thong qua|hop)\s+" + _DATE.pattern)
# "Số: 12-NQ/TU", "Luật số: 91/2015/QH13", "Số 43-NQ/TW" at the start of a header line.
_NUMBER = re.compile(r"^(?:(?:bo\s+)?luat\s+|phap lenh\s+|nghi quyet\s+)?so(?:\s*hieu)?\s*[:.]?\s*"
                     r"(\d+[\w./-]*[/-][\w./-]*[^\W\d_][\w./-]*)")
_ROLE = re.compile(r"^(?:t/?m|k/?t|t/?l|tuq|q|tm|kt|tl)\.?\s|^(?:pho\s+)?(?:chu tich|bi thu|giam doc|bo truong|"
                   r"thu tuong|truong ban|chanh van phong|thu truong|tong giam doc|vien truong|chanh an)\b")
_SIGNED = re.compile(r"^\(?\s*(?:da ky|ky ten|ky, ghi ro ho ten|da ky va dong dau)\s*\)?$")
_NAME = re.compile(r"^(?:[^\W\d_]+\s){1,4}[^\W\d_]+$")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
HEADER_LINES = 24


def _iso(day: str, month: str, year: str) -> str | None:
    d, m, y = int(day), int(month), int(year)
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= d <= 31 and 1 <= m <= 12 and 1900 <= y <= 2100 else None


def _restore_names(text: str) -> str:
    """Capitals a lowercased line loses: province names, "Việt Nam", roman numerals after "khóa"."""
    folded = fold(text)
    for m in reversed(list(re.finditer(rf"\b({_PROVINCE_ALT}|viet nam)\b", folded))):
        name = _PROVINCE_BY_FOLD.get(m.group(1), "Việt Nam")
        if len(name) == m.end() - m.start():
            text = text[:m.start()] + name + text[m.end():]
    return re.sub(r"\b(khóa|khoá|lần thứ|đại hội)\s+([ivxlc]+)\b", lambda m: f"{m.group(1)} {m.group(2).upper()}",
                  text, flags=re.I)


def _lower(text: str) -> str:
    """A line set in capitals or in Title Case, in the case of running text."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) > 1]
    title_case = len(words) >= 3 and all(w[0].isupper() for w in words)
    if text.isupper() or title_case:
        return _restore_names(text.lower())
    return text


def _sentence_case(text: str) -> str:
    text = _lower(text)
    return text[:1].lower() + text[1:] if not re.match(r"^[A-ZĐ]{2,}|^V/v", text) else text


def _province_named(text: str) -> str | None:
    m = _PROVINCE_NAMED.search(fold(text))
    return _PROVINCE_BY_FOLD[m.group(1)] if m else None


def _province_from_mentions(text: str) -> str | None:
    """The province the text names most as such ("tỉnh Bắc Giang", "thành phố Bắc Giang"), never a bare
    place word ("người Việt Nam định cư" is not Nam Định, "hòa bình" is not Hòa Bình)."""
    counts = Counter(m.group(1) for m in _PROVINCE_NAMED.finditer(fold(text)))
    return _PROVINCE_BY_FOLD[counts.most_common(1)[0][0]] if counts else None


def _header(blocks: list[Block]) -> list[Block]:
    """The lines before the first heading (issuer, number, place and date, type, subject), at most HEADER_LINES."""
    head = []
    for block in blocks[:HEADER_LINES]:
        if heading_level(block.text) is not None:
            break
        head.append(block)
    return head


def _starts_with_type(text: str) -> str | None:
    folded = fold(text).strip()
    for name in TYPES:
        key = fold(name)
        if folded == key or folded.startswith(key + " ") or folded.startswith(key + "\n"):
            return name
    return None


def _is_type_line(text: str, name: str) -> bool:
    """"NGHỊ QUYẾT", "Nghị Quyết", "kế hoạch" alone; "BỘ LUẬT DÂN SỰ NĂM 2015" or "Luật Phòng, chống ma túy"
    (a law with its name); "NGHỊ QUYẾT VỀ ..." in capitals. Not a sentence that starts with the word."""
    rest = text.strip()[len(name):].strip(" :")
    if not rest:
        return not text.rstrip().endswith(":")  # "QUYẾT ĐỊNH:" is the enacting formula, not the type
    if text.rstrip().endswith((".", ";", ":", ",")) or len(text) > 200:
        return False
    if name in LAW_TYPES:
        return len(text) <= 120 and not re.search(r"\b(?:này|số|đã|được|quy định|ngày)\b", rest, re.I)
    return text.isupper() or _lower(text) != text


def _law_name(name: str) -> str:
    """"PHÒNG, CHỐNG MA TÚY" -> "Phòng, chống ma túy": a law's name starts with a capital."""
    name = _lower(name).strip()
    return name[:1].upper() + name[1:]


def _subject(header: list[Block], start: int) -> tuple[str | None, int]:
    """The subject line(s) after the type line: skip who decides and the meeting; join a subject set
    in capitals over several lines. Returns the subject and the index after it."""
    i = start
    while i < len(header) and (_AUTHORITY.match(fold(header[i].text)) or _SEPARATOR.match(header[i].text)
                               or _MOTTO.match(fold(header[i].text))):
        i += 1
    if i >= len(header):
        return None, i
    text = header[i].text
    folded = fold(text)
    if _BODY_START.match(folded) or _NUMBER.match(folded) or _PLACE_DATE.search(folded) or len(text) > 400 \
            or text.rstrip().endswith(":") or (text.rstrip().endswith((".", ";")) and len(text) > 60):
        return None, i
    parts = [text]
    j = i + 1
    while text.isupper() and j < len(header) and header[j].text.isupper() and len(parts) < 4 \
            and not _AUTHORITY.match(fold(header[j].text)) and not _SEPARATOR.match(header[j].text):
        parts.append(header[j].text)
        j += 1
    return " ".join(parts), j


def _cut_at_authority(text: str) -> tuple[str, str | None]:
    """A lowercase header read as one paragraph ("về nhiệm vụ năm 2024 hội đồng nhân dân tỉnh ...") ends its
    subject where who decides begins: (subject, who decides or None)."""
    folded = fold(text)
    m = re.search(r"\s(?:hoi dong nhan dan|uy ban nhan dan|chu tich|ban chap hanh|thu tuong|bo truong|"
                  r"can cu|hoi nghi lan)\b", folded)
    if m and m.start() > 10 and text[m.start() + 1].islower():   # in cased text it would be a line of its own
        return text[:m.start()].rstrip(" ,"), text[m.start():].strip()
    return text, None


def _type_title(header: list[Block]) -> tuple[str | None, str | None, str | None, int | None]:
    """(type, subject as written, title, index of the type line)."""
    for i, block in enumerate(header):
        name = _starts_with_type(block.text)
        if not name or not _is_type_line(block.text, name):
            continue
        rest = block.text.strip()[len(name):].strip(" :")
        if name in LAW_TYPES:
            if not rest and i + 1 < len(header) and _starts_with_type(header[i + 1].text) is None \
                    and not _AUTHORITY.match(fold(header[i + 1].text)) and len(header[i + 1].text) <= 120 \
                    and not header[i + 1].text.rstrip().endswith((".", ";", ":")):
                rest = header[i + 1].text   # "BỘ LUẬT" / "DÂN SỰ"
            law = _law_name(rest) if rest else None
            return name, law, f"{name} {law}" if law else name, i
        subject, _ = _cut_at_authority(rest or _subject(header, i + 1)[0] or "")
        return name, subject or None, f"{name} {_subject_words(subject)}" if subject else name, i
    return None, None, None, None


def _subject_words(subject: str) -> str:
    subject = re.sub(r"^V/v\.?\s*", "về việc ", subject.strip(), flags=re.I)
    return _sentence_case(subject)


def _letter(header: list[Block]) -> tuple[str | None, str | None]:
    """An official letter has no type line: its subject is the "V/v ..." line ("Về việc ...")."""
    for block in header:
        if re.match(r"^(?:v/v|ve viec)\b", fold(block.text)):
            return "Công văn", block.text
    return None, None


def _department(lines: list[str]) -> str | None:
    """A department under the body named above it ("UBND TỈNH LẠNG SƠN" / "SỞ TÀI CHÍNH"): it issues."""
    for text in lines:
        m = re.match(r"^(so|chi cuc|cuc) ([a-z][a-z ,-]{3,60})$", fold(text).strip())
        if m and text.isupper():
            head = text.strip()[:len(m.group(1))]
            return head.capitalize() + " " + _law_name(text.strip()[len(head) + 1:])   # "Sở Tài chính"
    return None


def _issuer(lines: list[str], later: list[str]) -> str | None:
    """The issuing body from the lines above the type line, else from the opening or the signature."""
    department = _department(lines)
    if department:
        return department
    for text in [" ".join(lines)] + later:
        folded = fold(text)
        for pattern, name in ISSUERS:
            if re.search(rf"(?:^|\W){pattern}\b", folded):
                return name
    for text in lines:
        m = _MINISTRY.match(fold(text).strip())
        if m and not _starts_with_type(text):
            return "Bộ " + _law_name(text.strip()[3:])   # "BỘ TÀI CHÍNH" -> "Bộ Tài chính"
    return None


def _place_date(header: list[Block]) -> tuple[str | None, str | None]:
    """("Lạng Sơn", "2023-12-06") from "Lạng Sơn, ngày 06 tháng 12 năm 2023", also when a PDF put the
    number before it on one line ("Số: 236/QĐ-TTg Hà Nội, ngày 23 tháng 02 năm 2018")."""
    for block in header:
        m = _PLACE_DATE.search(fold(block.text))
        if not m or not _iso(*m.groups()):
            continue
        words = block.text[:m.start()].split()
        cut = max((i + 1 for i, w in enumerate(words) if re.search(r"[\d/:;]", w)), default=0)
        words = words[max(cut, len(words) - 5):]
        folded = [fold(w) for w in words]
        place = next((_PROVINCE_BY_FOLD[" ".join(folded[i:])] for i in range(len(words))
                      if " ".join(folded[i:]) in _PROVINCE_BY_FOLD), " ".join(words))
        return place or None, _iso(*m.groups())
    return None, None


def _signer(blocks: list[Block]) -> str | None:
    """The name under the signature: after a role line ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH") near the end,
    skipping "(Đã ký)"; else a name alone on the last line."""
    tail = blocks[-25:]
    roles = [i for i, b in enumerate(tail) if _ROLE.search(fold(b.text).strip("*- ")) and len(b.text) <= 80]
    if roles:
        for block in tail[roles[-1] + 1:]:
            text = block.text.strip("*").strip()
            folded = fold(text)
            if _SIGNED.match(folded) or _ROLE.search(folded) or _SEPARATOR.match(text) or text.isupper() and len(text.split()) > 5:
                continue
            if _is_name(text) or text.isupper() and _is_name(text.title()):
                return text if not text.isupper() else " ".join(w.capitalize() for w in text.lower().split())
    for block in reversed(tail[-6:]):
        text = block.text.strip("*").strip()
        if _is_name(text) and not text.isupper():
            return text
        if block.text.startswith("-") or block.text.endswith((",", ".", ";")):
            return None  # reached the recipients list or body text: no signature line
    return None


def _is_name(text: str) -> bool:
    """"Nguyễn Quốc Đoàn": two to five words, each with a capital, letters only."""
    return bool(_NAME.match(text)) and all(w[0].isupper() for w in text.split()) and len(text.split()) <= 5


def _head_lines(header: list[Block]) -> list[str]:
    """The header lines before the first sentence of the body, when there is no type line to stop at."""
    lines = []
    for block in header:
        if len(block.text) > 150 or (block.text.rstrip().endswith((".", ";", ":")) and len(block.text) > 60):
            break
        lines.append(block.text)
    return lines


def _year(meta: Metadata) -> int | None:
    """The year the year filter files a document under: its date, else the first year of its title,
    else the year inside its number ("91/2015/QH13")."""
    for source in (meta.date or "", meta.title or "", meta.number or ""):
        m = _YEAR.search(source)
        if m:
            return int(m.group(1))
    return None


def extract(blocks: list[Block], text: str) -> Metadata:
    """Best-effort metadata; anything not found stays None (a sidecar can fill it in)."""
    header = _header(blocks)
    meta = Metadata()
    meta.type, meta.subject, meta.title, at = _type_title(header)
    if meta.type is None:
        meta.type, meta.subject = _letter(header)
        meta.title = f"{meta.type} {_subject_words(meta.subject)}" if meta.type else None
    number = next((m for b in header for m in [_NUMBER.match(fold(b.text).strip())] if m), None)
    if number:
        line = next(b.text.strip() for b in header if _NUMBER.match(fold(b.text).strip()))
        meta.number = line[number.start(1):number.end(1)].rstrip(".,")
    if meta.type is None and meta.number:
        code = re.search(r"[-/]([^\W\d_]+)(?=[-/]|$)", meta.number)
        meta.type = NUMBER_CODES.get(code.group(1)) if code else None
        meta.title = meta.type
    above = [b.text for b in header[:at]] if at is not None else _head_lines(header)
    after = [b.text for b in header[at + 1:]] if at is not None else []
    body_start = blocks[len(header)].text if len(header) < len(blocks) else ""
    deciding = [t for t in after + [_cut_at_authority(b)[1] or "" for b in after[:3]] if _AUTHORITY.match(fold(t))]
    signing = [b.text for b in blocks[-25:] if _ROLE.search(fold(b.text).strip("*- "))]
    issuer = _issuer(above, deciding + signing)
    meta.place, meta.date = _place_date(header)
    meta.date_kind = "issued" if meta.date else None
    if not meta.date:
        adopted = _ADOPTED.search(fold(text))
        if adopted and _iso(*adopted.groups()):
            meta.date, meta.date_kind = _iso(*adopted.groups()), "adopted"
    national = issuer in NATIONAL_ISSUERS or meta.type in NATIONAL_TYPES or any(
        _MINISTRY.match(fold(t).strip()) for t in above if not _starts_with_type(t))
    province, source = None, None
    if not national:
        named = above + deciding + [body_start]
        province = next(filter(None, map(_province_named, named)), None)
        place = fold(meta.place or "")
        if not province and place in _PROVINCE_BY_FOLD and place != "ha noi":  # central bodies sit in Hà Nội
            province = _PROVINCE_BY_FOLD[place]
        if not province and meta.subject:
            province = _province_named(meta.subject)
        source = "header" if province else None
        if not province:
            province = _province_from_mentions(text)
            source = "text" if province else None
    meta.province, meta.province_source = province, source
    if issuer:
        local = issuer.endswith(("tỉnh", "Tỉnh ủy"))
        meta.issuer = f"{issuer} {province}" if local and province else issuer
    meta.signer = _signer(blocks)
    meta.year = _year(meta)
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
    if ("date" in overrides or "title" in overrides) and "year" not in overrides:
        meta.year = _year(meta)
    return meta
