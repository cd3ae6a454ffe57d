"""Every ranking and answer constant in one frozen object; benchmarks build variants with `dataclasses.replace`."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

Weights = tuple[float, float, float]   # (dense, lexical, coverage)


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RankingConfig:
    """How search ranks and when an answer is given. Each value was chosen with `python -m bench retrieval`
    (BENCHMARKS.md); the comments say what the measurement showed."""

    # Depth of each ranking (dense, lexical) before fusion.
    candidates: int = 60
    # How the rankings combine: "rrf" (weight / (rrf_k + rank)) or "minmax" (weight x score scaled to 0..1).
    # RRF k=60, RRF k=20 and min-max trade places from set to set; RRF k=60 is kept.
    fusion: str = "rrf"
    rrf_k: int = 60
    # Weights of the (dense, lexical, coverage) rankings per query language. English queries reach BM25
    # through glossary terms, numbers, codes and Vietnamese names; with those, equal weights beat halving
    # BM25 for English (MRR@10 0.966 vs 0.931 on the tuned set), so every language fuses them equally.
    weights: Mapping[str, Weights] = field(default_factory=lambda: _frozen(
        {"vi": (1.0, 1.0, 1.0), "vi_nodiac": (1.0, 1.0, 1.0), "en": (1.0, 1.0, 1.0)}))
    # The lexical and coverage weights of an English query are scaled by the share of its topic words the
    # glossary translated: with none translated they match only names and years, and meaning decides
    # (English MRR@10 on the blind set 0.526 -> 0.647, tuned set 0.966 -> 0.925).
    scale_by_translation: bool = True
    expected_boost: float = 1.25   # a passage of the kind the question asks for (a figure, a date, a signature)
    aside_penalty: float = 0.5     # a passage of the recipients list ("Nơi nhận"): searchable, rarely an answer
    scope_boost: float = 1.25      # per province or year the question names that the passage's document is about
    # "Who signed X?": the signature block of the best document among the top few goes first, just above the best.
    signature_pool: int = 5
    signature_margin: float = 1.01
    # Hits ranked before the answer decision and deduplication, whatever k the caller asks for.
    min_depth: int = 10
    # Whether the best passage answers is not a constant here: index/decision.py (fitted by `python -m bench decision`).
    # Share of the answer's indicator words another document's passage must contain to be listed as a
    # different figure for the same indicator.
    min_conflict_overlap: float = 0.75

    def weights_for(self, lang: str, translated: float = 1.0) -> Weights:
        dense, lexical, coverage = self.weights[lang]
        if self.scale_by_translation and translated < 1.0:
            return dense, lexical * translated, coverage * translated
        return dense, lexical, coverage


DEFAULT = RankingConfig()
