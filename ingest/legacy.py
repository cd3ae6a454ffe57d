"""Pre-Unicode Vietnamese encodings: detect TCVN3 (ABC) and VNI text and convert it to Unicode.

Documents typed before Unicode use 8-bit fonts whose glyphs sit on Latin-1 code points:
- TCVN3 / ABC (fonts ".VnTime", ".VnArial", ...): one byte per letter, "Trång rõng míi" for
  "Trồng rừng mới". It has codes for lowercase toned letters and for Ă Â Ê Ô Ơ Ư Đ only; capitals
  with a tone were typed with the all-caps fonts (".VnTimeH"), which show the lowercase codes as
  capitals, so text in such a font is upper-cased after conversion (`upper=True`).
- VNI (fonts "VNI-Times", "VNI-Helve", ...): a base letter followed by a mark byte, "Troàng röøng
  môùi"; capitals take capital marks ("TROÀNG").

In a .docx or a PDF text layer such text is Unicode Latin-1 characters (U+00A0-U+00FF) in a legacy
font; in a .txt file it is raw bytes, read as Latin-1. `font_encoding` tells the encoding from a font
name; `detect` tells it from the characters alone, for files that carry no font names.
"""
from __future__ import annotations

import re
import unicodedata

from core.vietnamese import ACUTE, DOT, GRAVE, HOOK, TILDE

TCVN3 = "TCVN3"
VNI = "VNI"

# TCVN 5712:1993 VN3 (ABC), checked against glibc's TCVN5712-1 table for these code points.
_TCVN3_CODES = "¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ"
_TCVN3_CHARS = "ĂÂÊÔƠƯĐăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
assert len(_TCVN3_CODES) == len(_TCVN3_CHARS) == 74
_TCVN3_TABLE = str.maketrans(_TCVN3_CODES, _TCVN3_CHARS)

# VNI: tone marks after a vowel; circumflex (+ tone) after a/e/o; breve (+ tone) after a.
_TONES = ACUTE + GRAVE + HOOK + TILDE + DOT   # in the order of VNI's tone keys
_VNI_TONE = dict(zip("ùøûõï", _TONES))
_VNI_CIRCUMFLEX = dict(zip("âáàåãä", ["\u0302"] + [f"\u0302{t}" for t in _TONES]))
_VNI_BREVE = dict(zip("êéèúüë", ["\u0306"] + [f"\u0306{t}" for t in _TONES]))
_VNI_SINGLE = {"ñ": "đ", "ô": "ơ", "ö": "ư", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ"}
_VNI_SINGLE.update({k.upper(): v.upper() for k, v in _VNI_SINGLE.items()})
_VNI_PAIR = re.compile(
    "([aA])([" + "".join(_VNI_BREVE) + "".join(_VNI_BREVE).upper() + "])"
    "|([aAeEoO])([" + "".join(_VNI_CIRCUMFLEX) + "".join(_VNI_CIRCUMFLEX).upper() + "])"
    "|([aAeEoOuUyYôÔöÖ])([" + "".join(_VNI_TONE) + "".join(_VNI_TONE).upper() + "])"
)
# One left-to-right pass: a pair where there is one, else a single-code letter ("ô" alone is ơ,
# but "oâ" is ô and must not be read again as ơ).
_VNI_TOKEN = re.compile(_VNI_PAIR.pattern + "|([" + "".join(_VNI_SINGLE) + "])")

# Vietnamese letters that only Unicode text has (not in Latin-1, so never produced by a legacy font).
_UNICODE_SIGNAL = re.compile("[ăĂđĐơƠưƯĩĨũŨ\u1ea0-\u1ef9]")


def _vni_token(match: re.Match) -> str:
    if match.group(7):
        return _VNI_SINGLE[match.group(7)]
    base = match.group(1) or match.group(3) or match.group(5)
    mark = (match.group(2) or match.group(4) or match.group(6)).lower()
    if match.group(1):
        combining = _VNI_BREVE[mark]
    elif match.group(3):
        combining = _VNI_CIRCUMFLEX[mark]
    else:
        combining = _VNI_TONE[mark]
    base = _VNI_SINGLE.get(base, base)  # ô/ö are ơ/ư before their tone mark
    return unicodedata.normalize("NFC", base + combining)


def to_unicode(text: str, encoding: str, upper: bool = False) -> str:
    """Convert legacy-font text (Latin-1 characters) to Unicode NFC; ASCII passes through."""
    if encoding == TCVN3:
        out = text.translate(_TCVN3_TABLE)
    elif encoding == VNI:
        out = _VNI_TOKEN.sub(_vni_token, text)
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    return out.upper() if upper else out


def font_encoding(font: str | None) -> tuple[str | None, bool]:
    """(encoding, all-caps font) for a font name: ".VnTime" -> TCVN3, ".VnTimeH" -> TCVN3 all caps,
    "VNI-Times" -> VNI. PDF names may carry a subset prefix ("ABCDEF+") or a style (",Bold")."""
    if not font:
        return None, False
    name = re.sub(r"^[A-Z]{6}\+", "", font.strip())
    lower = name.lower()
    if lower.startswith("vni"):
        return (VNI, False) if re.match(r"vni[-_ ]", lower) else (None, False)
    if re.match(r"\.?vn[a-z]", lower):
        family = re.split(r"[,\- ]", name.lstrip("."))[0]
        return TCVN3, family.endswith("H")
    return None, False


_SYLLABLE = re.compile(
    r"(?:ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
    r"[aăâeêioôơuưy]{1,3}"
    r"(?:ch|nh|ng|[cmnpt])?")
_TONE_MARKS = re.compile("[\u0300\u0301\u0303\u0309\u0323]")
_WORD = re.compile(r"[^\W\d_]+")
_SAMPLE = 200_000  # characters looked at: plenty to tell, bounded time on huge files


def _vietnamese_share(text: str) -> tuple[int, float]:
    """(words with a non-ASCII letter, share of them that are Vietnamese syllables with at most one tone)."""
    words = [w for w in _WORD.findall(text.lower()) if not w.isascii()]
    if not words:
        return 0, 0.0
    valid = 0
    for word in words:
        decomposed = unicodedata.normalize("NFD", word)
        if len(_TONE_MARKS.findall(decomposed)) <= 1:
            valid += bool(_SYLLABLE.fullmatch(unicodedata.normalize("NFC", _TONE_MARKS.sub("", decomposed))))
    return len(words), valid / len(words)


def detect(text: str) -> str | None:
    """TCVN3, VNI or None (Unicode already, or not Vietnamese) from the characters alone.

    Each encoding is tried: it must create Vietnamese-only letters (ă đ ơ ư ạ ả ...) that the text
    did not have, at least ten times as many as it had (so Unicode Vietnamese, which has them,
    stays as it is), and almost all words it touches must then be Vietnamese syllables (so French
    or German Latin-1 text, "café", "hôtel", stays as it is). The better-scoring encoding wins.
    """
    sample = text[:_SAMPLE]
    before = len(_UNICODE_SIGNAL.findall(sample))
    best, best_score = None, 0.0
    for encoding in (TCVN3, VNI):
        converted = to_unicode(sample, encoding)
        gain = len(_UNICODE_SIGNAL.findall(converted)) - before
        if gain < 2 or before * 10 > gain:
            continue
        words, share = _vietnamese_share(converted)
        if share >= 0.9 and gain * share > best_score:
            best, best_score = encoding, gain * share
    return best


_ASCII_LETTERS = re.compile("[A-Za-z]")


def _caps_line(line: str) -> str:
    """A TCVN3 line typed in an all-caps font comes out "NGHị QUYếT": where every ASCII letter of a
    line is a capital (two at least), the line was all caps, and so are its toned letters."""
    letters = _ASCII_LETTERS.findall(line)
    return line.upper() if len(letters) >= 2 and all(ch.isupper() for ch in letters) else line


def convert(text: str) -> tuple[str, str | None]:
    """(text in Unicode, the encoding it was converted from or None when it was left as it is).
    Without font names, TCVN3 capitals with a tone are recovered for all-caps lines only."""
    encoding = detect(text)
    if encoding is None:
        return text, None
    out = to_unicode(text, encoding)
    if encoding == TCVN3:
        out = "\n".join(_caps_line(line) for line in out.split("\n"))
    return out, encoding


def from_unicode(text: str, encoding: str) -> str:
    """Unicode -> legacy-font characters, for building test fixtures. TCVN3 has no capitals with a
    tone: they are written as their lowercase code, as the all-caps fonts expect."""
    text = unicodedata.normalize("NFC", text)
    if encoding == TCVN3:
        table = dict(zip(_TCVN3_CHARS, _TCVN3_CODES))
        return "".join(table.get(ch) or table.get(ch.lower(), ch) for ch in text)
    if encoding == VNI:
        single = {v: k for k, v in _VNI_SINGLE.items() if k != v}
        marks = {c: m for table in (_VNI_TONE, _VNI_CIRCUMFLEX, _VNI_BREVE) for m, c in table.items()}
        out = []
        for ch in text:
            if ch in single:
                out.append(single[ch])
                continue
            decomposed = unicodedata.normalize("NFD", ch)
            base, rest = decomposed[0], decomposed[1:]
            if not rest or not base.isascii():
                out.append(ch)
                continue
            horn = "\u031b" in rest
            rest = rest.replace("\u031b", "")
            if horn:  # ơ/ư + tone: the horn letter is a single code, the tone its mark
                base = single[unicodedata.normalize("NFC", base + "\u031b")]
            mark = marks.get(rest) or marks.get(rest[::-1])
            if base.lower() == "i" or mark is None:
                out.append(ch)  # í ì are the same code points in VNI; "ç" is no Vietnamese letter
                continue
            out.append(base + (mark.upper() if base.isupper() else mark))
        return "".join(out)
    raise ValueError(f"unknown legacy encoding {encoding!r}")
