"""Vietnamese text normalisation shared by documents and queries: NFC, tone-mark placement, folding."""
from __future__ import annotations

import re
import unicodedata

# The five tone marks, as combining characters.
GRAVE, ACUTE, TILDE, HOOK, DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"   # huyền, sắc, ngã, hỏi, nặng
TONE_MARKS = GRAVE + ACUTE + TILDE + HOOK + DOT

# A syllable ending in the glide pairs oa / oe / uy with the tone on the second vowel and no final
# consonant ("hoá", "khoẻ", "uỷ") is rewritten with the tone on the first vowel ("hóa", "khỏe", "ủy"),
# the placement most of the corpus uses. "qu" is a consonant, so "quý" is left alone.
_GLIDE_TONE = re.compile(rf"(.*?)([oOuU])([aAeEyY])([{TONE_MARKS}])")
_WORD = re.compile(r"[^\W\d_]+")
_WORD_NFD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")  # letters with their combining marks


def _move_tone(word_nfd: str) -> str:
    m = _GLIDE_TONE.fullmatch(word_nfd)
    if not m:
        return word_nfd
    head, first, second, tone = m.groups()
    if head[-1:] in ("q", "Q") or (head and head[-1] in TONE_MARKS + "\u0302\u0306\u031b" + "aeiouyAEIOUY"):
        return word_nfd  # "qu" is a consonant; a longer vowel cluster has only one placement
    return f"{head}{first}{tone}{second}"


def normalize_tones(text: str) -> str:
    """Put tone marks of oa/oe/uy syllables on the first vowel: "hoá" -> "hóa", "uỷ" -> "ủy"."""
    nfd = unicodedata.normalize("NFD", text)
    fixed = _WORD_NFD.sub(lambda m: _move_tone(m.group(0)), nfd)
    return unicodedata.normalize("NFC", fixed)


def normalize(text: str) -> str:
    """NFC, Icelandic Eth (Ð/ð) and similar look-alikes to Vietnamese Đ/đ, one tone-mark placement."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00d0", "Đ").replace("\u00f0", "đ").replace("\u0189", "Đ")
    return normalize_tones(text)


def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    base = unicodedata.normalize("NFD", ch)[0]
    return base if len(base) == 1 else ch


def _fold_table() -> dict[int, str]:
    """Code point -> its folded lowercase letter, for every character whose fold is one character."""
    table = {}
    for code in range(0x20, 0x2000):
        ch = chr(code)
        folded = _fold_char(ch).lower()
        if len(folded) == 1 and folded != ch:
            table[code] = folded
    return table


_FOLD_TABLE = _fold_table()


def fold(text: str) -> str:
    """Lowercase, strip diacritics, đ -> d. Keeps length: character i of the result is character i folded.

    Apply to NFC text (as `normalize` returns) so every Vietnamese letter is one code point.
    """
    return text.translate(_FOLD_TABLE)


def has_diacritics(text: str) -> bool:
    """True if any letter carries a Vietnamese diacritic (or is đ)."""
    return any(ord(ch) > 127 and ch.isalpha() and _fold_char(ch) != ch for ch in text)


def words(text: str) -> list[str]:
    """Letter runs (syllables), as written."""
    return _WORD.findall(text)
