"""Understand a query: language, diacritics restored from the corpus vocabulary, glossary terms, phrases, numbers."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from index.lexical import doc_numbers
from core.vietnamese import fold, has_diacritics, normalize

GLOSSARY_FILE = Path(__file__).with_name("glossary.tsv")
COMMON_FILE = Path(__file__).with_name("vi_common.txt")
ABBREVIATIONS_FILE = Path(__file__).with_name("abbreviations.tsv")
COMMON_WEIGHT = 20   # how many corpus occurrences one line of the common-words list counts as
# English words that are not also Vietnamese syllables typed without diacritics ("the", "do", "to" are).
ENGLISH_HINTS = {"what", "which", "who", "whom", "when", "where", "how", "is", "are", "was", "were", "of", "for",
                 "does", "did", "by", "and", "target", "targets", "rate", "many", "much", "should", "will", "with"}
# English words that name no topic: not counted among the words the glossary should translate.
ENGLISH_STOPWORDS = set("""a an the of in on at to for by from with and or not is are was were be been being do does did
what which who whom whose when where why how many much should will would shall can could must may might this that these
those it its their there than as into about per each every any some all more most over under up until within during after
before between also our your his her they them we you me my want know tell show give find say said set out""".split())
_SYLLABLE = re.compile(r"[^\W\d_]+")
# A Vietnamese syllable typed without diacritics: onset, vowels, coda ("giang" is one, "party" is not).
_PLAIN_SYLLABLE = re.compile(r"(?:ngh|gh|gi|kh|ng|nh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
                             r"(?:[aeiouy]{1,3})(?:ng|nh|ch|[cmnptiouy])?", re.I)
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
NUM = "<n>"   # every number is one token, so "năm" is restored before "2024"
# Diacritic restoration (Vocabulary.restore): add-k smoothing of syllable and syllable-pair counts and
# the weight of a syllable's own frequency against its fit after the previous one. Not tuned since
# they were first set; the vi_nodiac rows of `python -m bench retrieval` measure what they give.
UNIGRAM_SMOOTHING = 0.1
BIGRAM_SMOOTHING = 0.01
UNIGRAM_WEIGHT = 0.3


def _tokens(text: str) -> list[str]:
    return [NUM if t[0].isdigit() else t for t in _TOKEN.findall(text.lower())]
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]+)[\"“”«»]")


@dataclass
class Query:
    text: str                       # as typed, normalised (NFC, tone placement)
    lang: str                       # "vi", "vi_nodiac" or "en"
    restored: str | None = None     # diacritics put back for a query typed without them
    glossary: list[str] = field(default_factory=list)   # Vietnamese terms for English words
    phrases: list[str] = field(default_factory=list)    # quoted parts, matched literally
    numbers: list[str] = field(default_factory=list)    # document numbers, folded ("43-nq/tw")
    expansions: list[str] = field(default_factory=list) # full forms of abbreviations, "lần thứ 14" for "14th"
    expects: str | None = None                          # "number", "date", "who", "signer": kind of answer
    translated: float = 1.0                             # share of an English question's topic words the glossary knows

    @property
    def vietnamese(self) -> str:
        """The query as Vietnamese text for the lexical index and the answer picker. For an English
        query: its glossary terms and what English does not translate (numbers, codes, names)."""
        if self.lang == "en":
            return " ".join(self.glossary + untranslated(self.text) + self.phrases + self.expansions)
        return " ".join([self.restored or self.text] + self.expansions)

    @property
    def for_embedding(self) -> str:
        return " ".join([self.restored or self.text] + self.expansions)


def untranslated(text: str) -> list[str]:
    """What an English question carries over as written: numbers and codes, acronyms, and
    Vietnamese names ("Lạng Sơn", "Bắc Giang's" -> "Bắc Giang")."""
    words = re.findall(r"[\w./-]+", re.sub(r"(?<=\w)['’]s\b", "", text))
    def vietnamese_name(i: int) -> bool:   # "Giang" in "Bắc Giang": a capitalised syllable after a capitalised one with diacritics
        return words[i][:1].isupper() and bool(_PLAIN_SYLLABLE.fullmatch(words[i])) and i > 0 \
            and words[i - 1][:1].isupper() and has_diacritics(words[i - 1])
    return [w for i, w in enumerate(words) if re.search(r"\d", w) or has_diacritics(w)
            or (w.isupper() and len(w) > 1) or vietnamese_name(i)]


def count_syllables(text: str, unigrams: Counter, bigrams: Counter, weight: int = 1) -> None:
    """Add the syllables and syllable pairs of `text` to the counts."""
    tokens = _tokens(text)
    if weight == 1:
        unigrams.update(tokens)
        bigrams.update(zip(tokens, tokens[1:]))
        return
    for token in tokens:
        unigrams[token] += weight
    for pair in zip(tokens, tokens[1:]):
        bigrams[pair] += weight


class Vocabulary:
    """Syllable and syllable-pair counts of the indexed text, keyed for diacritic restoration."""

    def __init__(self, texts: list[str], common: Path | None = COMMON_FILE,
                 counts: tuple[Counter, Counter] | None = None):
        """`counts`: (unigrams, bigrams) of texts already counted with `count_syllables` (an index written passage by passage)."""
        self.unigrams: Counter[str] = counts[0] if counts else Counter()
        self.bigrams: Counter[tuple[str, str]] = counts[1] if counts else Counter()
        extra = [] if common is None else [
            line for line in common.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
        for text, weight in [(t, 1) for t in texts] + [(normalize(t), COMMON_WEIGHT) for t in extra]:
            count_syllables(text, self.unigrams, self.bigrams, weight)
        self.forms: dict[str, list[str]] = defaultdict(list)
        for word in self.unigrams:
            if word != NUM:
                self.forms[fold(word)].append(word)
        self.total = sum(self.unigrams.values()) or 1

    def known_fraction(self, words: list[str]) -> float:
        return sum(fold(w) in self.forms for w in words) / len(words) if words else 0.0

    def restore(self, text: str) -> str:
        """Viterbi over the corpus's own spellings: "che phu rung" -> "che phủ rừng".
        Words the corpus does not know, numbers and punctuation stay as typed."""
        pieces = re.split(r"([^\W\d_]+|\d+)", text)
        words = [NUM if p[0].isdigit() else p.lower() for p in pieces[1::2]]
        if not any(w != NUM for w in words):
            return text
        candidates = [[w] if w == NUM else self.forms.get(fold(w)) or [w] for w in words]

        def unigram(w: str) -> float:
            return math.log((self.unigrams[w] + UNIGRAM_SMOOTHING) / self.total)

        def transition(a: str, b: str) -> float:
            return math.log((self.bigrams[(a, b)] + BIGRAM_SMOOTHING) / (self.unigrams[a] + 1))

        best = {w: (unigram(w), [w]) for w in candidates[0]}
        for options in candidates[1:]:
            best = {b: max(((score + transition(a, b) + UNIGRAM_WEIGHT * unigram(b), path + [b])
                           for a, (score, path) in best.items()), key=lambda x: x[0]) for b in options}
        path = max(best.values(), key=lambda x: x[0])[1]
        for i, word in enumerate(path):
            original = pieces[2 * i + 1]
            if word == NUM or (original.isupper() and len(original) > 1) or pieces[2 * i].endswith(("/", "-")):
                continue  # an acronym or part of a document number ("43-NQ/TW"): leave as typed
            pieces[2 * i + 1] = word.capitalize() if original[:1].isupper() else word
        return "".join(pieces)


def _pairs(path: Path) -> list[tuple[str, str]]:
    """The tab-separated pairs of a data file, comments skipped, normalised."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            left, right = line.split("\t", 1)
            pairs.append((normalize(left.strip()), normalize(right.strip())))
    return pairs


def load_glossary(path: Path = GLOSSARY_FILE) -> list[tuple[str, str]]:
    """(english, vietnamese) pairs, longest English term first."""
    return sorted(((en.lower(), vi) for en, vi in _pairs(path)), key=lambda p: -len(p[0]))


def load_abbreviations(path: Path = ABBREVIATIONS_FILE) -> dict[str, str]:
    """Abbreviation as written -> full form."""
    return dict(_pairs(path))


# What kind of answer a question wants, from its wording (folded Vietnamese, or English).
EXPECTS = [
    ("date", re.compile(r"\b(ngay nao|ngay may|khi nao|bao gio|thoi gian nao|when|what date|which date|by when)\b")),
    ("signer", re.compile(r"\b(ai ky|nguoi ky|do ai ky|ky boi|signed|signer|signature)\b")),
    ("who", re.compile(r"\b(do ai|la ai|who|whom|co quan nao|which body)\b")),
    ("number", re.compile(r"\b(bao nhieu|may|ty le|muc|how many|how much|what share|what rate|percent|"
                          r"what percentage|by how much|targets?|chi tieu)\b")),
]
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)


def expects(text: str) -> str | None:
    folded = fold(text)
    return next((kind for kind, pattern in EXPECTS if pattern.search(folded)), None)


def expansions(text: str, abbreviations: dict[str, str]) -> list[str]:
    """The other form of each abbreviation the query uses, either way round ("BHYT" <-> "bảo hiểm
    y tế"; only whole words, not the "TW" of "43-NQ/TW"), and "lần thứ N" for an English "Nth"."""
    folded = fold(text)
    words = {fold(w) for w in re.findall(r"(?<![\w/-])\w+(?![\w/-])", text)}
    found = []
    for short, full in abbreviations.items():
        if fold(short) in words:
            found.append(full)
        elif re.search(r"(?<!\w)" + re.escape(fold(full)) + r"(?!\w)", folded):
            found.append(short)
    found += [f"lần thứ {n}" for n in _ORDINAL.findall(text)]
    return list(dict.fromkeys(found))


def glossary_terms(text: str, glossary: list[tuple[str, str]]) -> tuple[list[str], float]:
    """The Vietnamese terms for an English question's glossary words, and the share of its topic
    words (not stopwords, names, numbers or codes) the glossary translated."""
    lowered = " " + re.sub(r"[^\w\s-]", " ", re.sub(r"(?<=\w)['’]s\b", "", text.lower())) + " "
    found, covered = [], 0
    for en, vi in glossary:
        if f" {en} " in lowered:
            found.append(vi)
            covered += len([w for w in en.split() if w not in ENGLISH_STOPWORDS]) * lowered.count(f" {en} ")
            lowered = lowered.replace(f" {en} ", " ")
    names = {piece for w in untranslated(text) for piece in re.findall(r"\w+", fold(w))}
    left = [w for w in lowered.split() if w.isalpha() and len(w) > 2 and w not in ENGLISH_STOPWORDS and fold(w) not in names]
    return found, covered / (covered + len(left)) if covered + len(left) else 1.0


def detect_language(text: str, vocab: Vocabulary) -> str:
    """"vi", "vi_nodiac" or "en". English questions may carry Vietnamese names ("Lạng Sơn")."""
    words = [w.lower() for w in _SYLLABLE.findall(text)]
    if not words:
        return "vi"
    hints = sum(w in ENGLISH_HINTS for w in words)
    if has_diacritics(text):
        plain = [w for w in words if not has_diacritics(w)]
        unknown = 1 - vocab.known_fraction(plain)
        return "en" if (hints and unknown > 0.4) or (len(plain) >= 3 and unknown > 0.6) else "vi"
    lowercase = [w for w in words if not w.isupper() or len(w) == 1]
    if hints or vocab.known_fraction(lowercase or words) < 0.6:
        return "en"
    return "vi_nodiac"


def analyze(text: str, vocab: Vocabulary, glossary: list[tuple[str, str]],
            abbreviations: dict[str, str] | None = None) -> Query:
    text = normalize(text).strip()
    query = Query(text=text, lang=detect_language(text, vocab), expects=expects(text))
    query.expansions = expansions(text, abbreviations or {})
    query.phrases = [p.strip() for p in _QUOTED.findall(text) if p.strip()]
    query.numbers = doc_numbers(text)
    if query.lang == "vi_nodiac":
        query.restored = vocab.restore(text)
    elif query.lang == "en":
        query.glossary, query.translated = glossary_terms(text, glossary)
    return query
