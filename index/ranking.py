"""Every ranking and answer constant in one frozen object; benchmarks build variants with `dataclasses.replace`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    # RRF k=60 for e5-small: min-max ranked its three untuned question sets better (MRR@10 0.891 / 0.878 / 0.854
    # against 0.837 / 0.821 / 0.834) but lost the tuned set, tied on the external ALQAC questions, and with its
    # decision refitted answered a salary question the corpus cannot answer with the budget (a test guards it).
    # EmbeddingGemma: see MODEL_CHOICES.
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
    # Query languages whose answer sentence (within the answering passage) is the one closest to the question
    # by the model's cosine instead of the one sharing most of its words. Worth it only where the model reads
    # English against Vietnamese well: see MODEL_CHOICES. Costs embedding the passage's sentences per question.
    sentence_by_meaning: frozenset[str] = frozenset()

    def weights_for(self, lang: str, translated: float = 1.0) -> Weights:
        dense, lexical, coverage = self.weights[lang]
        if self.scale_by_translation and translated < 1.0:
            return dense, lexical * translated, coverage * translated
        return dense, lexical, coverage


DEFAULT = RankingConfig()

# Choices of a model whose own measurement differs from DEFAULT's, keyed by model id without its Matryoshka size
# ("google/embeddinggemma-300m@256" uses "google/embeddinggemma-300m"'s). Fusion weights: `python -m bench weights
# --model ...`, chosen on the tuned and held-out sets, checked on the blind and final ones.
# EmbeddingGemma-300M: English by meaning alone. Leaving each question set out in turn, dense-only English scored
# MRR@10 0.849 on the set left out against 0.812 for equal weights and 0.820 for weights picked on the other sets;
# it lost only on the tuned set the glossary was written from (0.917 vs 0.983). Vietnamese keeps equal weights
# (picked weights: 0.919 vs 0.924 with diacritics, 0.916 vs 0.926 without). e5-small keeps DEFAULT: the same
# procedure picks equal weights for it in every language (BENCHMARKS.md, "python -m bench weights").
# English answer sentence by meaning (`python -m bench retrieval`, answers, each set; BENCHMARKS.md): with
# EmbeddingGemma right English answers 22 -> 27 of 39 on the three sets it was not tuned on (held-out 7 -> 8,
# blind 8 -> 10, final 7 -> 9), 27 -> 26 of 29 on the tuned set; Vietnamese answers unchanged either way (so
# not picked by meaning: it would cost time for nothing). With e5-small 12 -> 14 unseen and 27 -> 25 tuned:
# two won, two lost, not worth its cost.
# Min-max fusion with EmbeddingGemma (`python -m bench retrieval`, fusion tables; BENCHMARKS.md, "Re-measured on
# 2026-12-07"): MRR@10 tuned / held-out / blind / final 0.980 / 0.933 / 0.917 / 0.972 against RRF k=60's 0.966 /
# 0.841 / 0.874 / 0.922, answers right 83 / 32 / 33 / 33 against 81 / 27 / 32 / 32; leaving any set out, the other
# three pick it. Not confirmed on the external legal questions (ALQAC, 6 laws): 3 fewer of 178 gold articles first
# (hit@5 equal); RRF k=20 ties RRF k=60 there and is the fallback. Its answer decision was refitted under it.
MODEL_CHOICES: dict[str, dict] = {
    "google/embeddinggemma-300m": {
        "fusion": "minmax",
        "weights": _frozen({"vi": (1.0, 1.0, 1.0), "vi_nodiac": (1.0, 1.0, 1.0), "en": (1.0, 0.0, 0.0)}),
        "sentence_by_meaning": frozenset({"en"}),
    },
}


def for_model(model_id: str) -> RankingConfig:
    """The ranking for an index built with `model_id`: DEFAULT, with the model's own choices if it has any."""
    return replace(DEFAULT, **MODEL_CHOICES.get(model_id.partition("@")[0], {}))
