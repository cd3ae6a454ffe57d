"""Understand a query: language, diacritics restored from the corpus vocabulary, glossary terms, phrases, numbers."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from index.lexical import doc_numbers
from ingest.vietnamese import fold, has_diacritics, normalize

GLOSSARY_FILE = Path(__file__).with_name("glossary.tsv")
ENGLISH_HINTS = {"what", "which", "who", "whom", "when", "where", "how", "is", "are", "was", "were", "the", "of",
                 "for", "does", "did", "do", "in", "by", "to", "a", "an", "and", "target", "rate", "many", "much"}
_SYLLABLE = re.compile(r"[^\W\d_]+")
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]+)[\"“”«»]")


@dataclass
class Query:
    text: str                       # as typed, normalised (NFC, tone placement)
    lang: str                       # "vi", "vi_nodiac" or "en"
    restored: str | None = None     # diacritics put back for a query typed without them
    glossary: list[str] = field(default_factory=list)   # Vietnamese terms for English words
    phrases: list[str] = field(default_factory=list)    # quoted parts, matched literally
    numbers: list[str] = field(default_factory=list)    # document numbers, folded ("43-nq/tw")

    @property
    def vietnamese(self) -> str:
        """The query as Vietnamese text for the lexical index and the answer picker."""
        parts = [self.restored or self.text] + self.glossary
        return " ".join(parts)

    @property
    def for_embedding(self) -> str:
        return self.restored or self.text


class Vocabulary:
    """Syllable and syllable-pair counts of the indexed text, keyed for diacritic restoration."""

    def __init__(self, texts: list[str]):
        self.unigrams: Counter[str] = Counter()
        self.bigrams: Counter[tuple[str, str]] = Counter()
        for text in texts:
            syllables = _SYLLABLE.findall(text.lower())
            self.unigrams.update(syllables)
            self.bigrams.update(zip(syllables, syllables[1:]))
        self.forms: dict[str, list[str]] = defaultdict(list)
        for word in self.unigrams:
            self.forms[fold(word)].append(word)
        self.total = sum(self.unigrams.values()) or 1

    def known_fraction(self, words: list[str]) -> float:
        return sum(fold(w) in self.forms for w in words) / len(words) if words else 0.0

    def restore(self, text: str) -> str:
        """Viterbi over the corpus's own spellings: "che phu rung" -> "che phủ rừng".
        Words the corpus does not know, numbers and punctuation stay as typed."""
        pieces = re.split(r"([^\W\d_]+)", text)
        words = [p.lower() for p in pieces[1::2]]
        if not words:
            return text
        candidates = [self.forms.get(fold(w)) or [w] for w in words]

        def unigram(w: str) -> float:
            return math.log((self.unigrams[w] + 0.1) / self.total)

        def transition(a: str, b: str) -> float:
            return math.log((self.bigrams[(a, b)] + 0.01) / (self.unigrams[a] + 1))

        best = {w: (unigram(w), [w]) for w in candidates[0]}
        for options in candidates[1:]:
            best = {b: max(((score + transition(a, b) + 0.3 * unigram(b), path + [b])
                           for a, (score, path) in best.items()), key=lambda x: x[0]) for b in options}
        path = max(best.values(), key=lambda x: x[0])[1]
        for i, word in enumerate(path):
            original = pieces[2 * i + 1]
            pieces[2 * i + 1] = word.capitalize() if original[:1].isupper() else word
        return "".join(pieces)


def load_glossary(path: Path = GLOSSARY_FILE) -> list[tuple[str, str]]:
    """(english, vietnamese) pairs, longest English term first."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            en, vi = line.split("\t", 1)
            pairs.append((en.strip().lower(), normalize(vi.strip())))
    return sorted(pairs, key=lambda p: -len(p[0]))


def glossary_terms(text: str, glossary: list[tuple[str, str]]) -> list[str]:
    lowered = " " + re.sub(r"[^\w\s-]", " ", text.lower()) + " "
    found = []
    for en, vi in glossary:
        if f" {en} " in lowered:
            found.append(vi)
            lowered = lowered.replace(f" {en} ", " ")
    return found


def detect_language(text: str, vocab: Vocabulary) -> str:
    if has_diacritics(text):
        return "vi"
    words = [w.lower() for w in _SYLLABLE.findall(text)]
    if not words:
        return "vi"
    if any(w in ENGLISH_HINTS for w in words) or vocab.known_fraction(words) < 0.6:
        return "en"
    return "vi_nodiac"


def analyze(text: str, vocab: Vocabulary, glossary: list[tuple[str, str]]) -> Query:
    text = normalize(text).strip()
    query = Query(text=text, lang=detect_language(text, vocab))
    query.phrases = [p.strip() for p in _QUOTED.findall(text) if p.strip()]
    query.numbers = doc_numbers(text)
    if query.lang == "vi_nodiac":
        query.restored = vocab.restore(text)
    elif query.lang == "en":
        query.glossary = glossary_terms(text, glossary)
    return query
