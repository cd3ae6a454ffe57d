"""What a question names (provinces, years, document numbers) and which of those no indexed document is about."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from core.places import ORDINARY_PHRASES, PROVINCES
from core.text import YEAR
from core.vietnamese import fold

# Dates and months inside a question ("sinh ngày 03/10/2003", "tháng 10/2023", "ngày 5 tháng 6 năm 2020") name
# a moment of the case it describes, not the year of a document.
_DATES = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\b|\b\d{1,2}/\d{4}\b|\bngay\s+\d{1,2}\s+thang\s+\d{1,2}\s+nam\s+\d{4}\b")
_PLACE_WORDS = r"tinh|thanh pho|tp\.?|province of|city of"   # folded
_BEFORE_PLACE = re.compile(rf"(?:{_PLACE_WORDS})\s*$")
# Where lowercase text expects a place: first (what the question is about), after a place word or after these.
_PLACE_CUE = re.compile(rf"(?:^|(?<!\w)(?:{_PLACE_WORDS}|o|tai|cua|thuoc|in|of))\W*$")


@dataclass(frozen=True)
class Scope:
    """The provinces and years a question names that some indexed document is about (`named`, folded, as
    features.scope spells them), and what it names that none is about (as written)."""

    named: frozenset[str] = frozenset()
    unknown_provinces: tuple[str, ...] = ()
    unknown_years: tuple[str, ...] = ()
    unknown_numbers: tuple[str, ...] = ()

    @property
    def outside(self) -> bool:
        """The question is about a province no document is about, and names none that is."""
        return bool(self.unknown_provinces) and not any(not YEAR.fullmatch(s) for s in self.named)


COUNTRY = "Việt Nam"   # a place name too: "người Việt Nam định cư" holds no Nam Định


@lru_cache(maxsize=1)
def _places() -> re.Pattern:
    """Every province and the country, longest first: a match takes the leftmost, longest name."""
    names = sorted([*PROVINCES, COUNTRY], key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, fold(n).split())) for n in names) + r")(?!\w)")


_BY_FOLD = {" ".join(fold(p).split()): p for p in PROVINCES}


def provinces_in(text: str) -> list[str]:
    """Provinces a question names. In a question written with capitals a name counts when it is
    capitalised ("Hòa Bình") or follows "tỉnh"/"thành phố", so that "giữ gìn hòa bình" names no province.
    A question typed all in lowercase has no capitals to tell: a name counts, except a name that is also an
    ordinary phrase (core.places.ORDINARY_PHRASES: "hòa bình" is peace, "cao bằng" as high as), which counts
    only where a place is expected: first in the question, or after "tỉnh", "thành phố", "ở", "tại", "của", "thuộc"
    ("chỉ tiêu của hòa bình năm 2024": a figure's "của" names whose figure it is; "vì hòa bình" does not)."""
    folded, cased = fold(text), text != text.lower()
    found: list[str] = []
    for m in _places().finditer(folded):
        name = _BY_FOLD.get(" ".join(m.group().split()))
        if name is None or name in found:
            continue   # the country, or a province already named
        written = text[m.start():m.end()]
        capitalised = all(word[:1].isupper() for word in written.split())
        before = folded[:m.start()]
        if capitalised or _BEFORE_PLACE.search(before) or \
                (not cased and (name not in ORDINARY_PHRASES or _PLACE_CUE.search(before))):
            found.append(name)
    return found


def years_in(text: str) -> list[str]:
    """Years a question names, dates of the case it describes aside."""
    return sorted(set(YEAR.findall(_DATES.sub(" ", fold(text)))))


def scope_of(text: str, numbers: list[str], known_scopes: set[str], known_numbers: set[str]) -> Scope:
    """`known_scopes`: folded provinces and years of the indexed passages (features.scope); `known_numbers`:
    folded document numbers of the indexed documents and of the numbers their passages cite."""
    provinces = {p: fold(p) for p in provinces_in(text)}
    years = years_in(text)
    return Scope(named=frozenset({f for f in provinces.values() if f in known_scopes} | {y for y in years if y in known_scopes}),
                 unknown_provinces=tuple(p for p, f in provinces.items() if f not in known_scopes),
                 unknown_years=tuple(y for y in years if y not in known_scopes),
                 unknown_numbers=tuple(n for n in numbers if n not in known_numbers))
