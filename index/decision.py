"""Whether the best passage answers the question: a logistic model over what the ranking measured, fitted by `python -m bench decision`.

The model reads the evidence of the top hit (cosine, share of the question's words, kind of answer, scope)
and gives the probability that the question is answered by the indexed documents. Its weights and the
operating threshold are fitted per embedding model (cosines of different models are not comparable) and
kept in index/decision.json with the sets they were fitted on; `python -m bench decision` prints the
precision-recall curve the threshold was chosen from. Two things are decided before the model: a quoted
phrase is answered by any passage that holds it, and a question about a province no indexed document is
about is not answered (index.scope).
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from core.text import YEAR, content_words
from core.vietnamese import fold
from index.answer import best_sentence, figure_values
from index.query import Query
from index.scope import Scope
from index.search import Hit

log = logging.getLogger(__name__)
FILE = Path(__file__).with_name("decision.json")
FEATURES = ("cosine", "cosine_en", "coverage", "topic_in_sentence", "dense_first", "lexical_first", "kind_mismatch",
            "no_figure_in_sentence",
            "scope_share", "missing_year", "unknown_year", "english", "no_diacritics")


def evidence(query: Query, top: Hit, scope: Scope) -> dict[str, float]:
    """What the ranking measured about the best passage, as the model's inputs."""
    english = query.lang == "en"
    cosine = top.dense or 0.0
    named = len(scope.named)
    words = content_words(query.vietnamese)
    sentence = best_sentence(top.chunk.text, words)
    return {
        "cosine": cosine,
        "cosine_en": cosine if english else 0.0,
        "coverage": top.coverage,
        "topic_in_sentence": topic_in_sentence(words, sentence, top, scope),
        "dense_first": float(top.dense_rank == 1),
        "lexical_first": float(top.lexical_rank == 1),
        "kind_mismatch": float(bool(query.expects) and query.expects not in top.chunk.features.kinds),
        "no_figure_in_sentence": float(query.expects == "number" and not figure_values(sentence)),
        "scope_share": top.scope / named if named else 1.0,
        "missing_year": float(bool(top.missing_years)),
        "unknown_year": float(bool(scope.unknown_years)),
        "english": float(english),
        "no_diacritics": float(query.lang == "vi_nodiac"),
    }


def topic_in_sentence(words: set[str], sentence: str, top: Hit, scope: Scope) -> float:
    """Share of the question's topic words (`words` less the provinces and years it names) that the
    passage's answering `sentence` and its headings hold."""
    topic = {w for w in words if not YEAR.fullmatch(w)} - {w for s in scope.named for w in s.split()} \
        - {w for p in scope.unknown_provinces for w in fold(p).split()}
    if not topic:
        return 1.0
    return len(topic & content_words(sentence + " " + " ".join(top.chunk.section))) / len(topic)


@dataclass(frozen=True)
class Verdict:
    answers: bool
    probability: float | None      # that the documents answer the question (None: decided without the model)
    reason: str | None = None      # why not, in one line, when it does not answer


def without_model(query: Query, hits: list[Hit], scope: Scope) -> Verdict | None:
    """The verdict when the model has nothing to weigh: no hit, a quoted phrase, a province outside the corpus."""
    if not hits:
        return Verdict(False, None, "no passage matches")
    if query.phrases:
        return Verdict(True, None)   # every hit holds the quoted words literally (index.rerank.LiteralFilter)
    if scope.outside:
        return Verdict(False, 0.0, f"no indexed document is about {', '.join(scope.unknown_provinces)}")
    return None


@dataclass(frozen=True)
class Decision:
    """Logistic weights over FEATURES and the probability at or above which an answer is given."""

    weights: Mapping[str, float]
    bias: float
    threshold: float
    model_id: str = ""

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def decide(self, query: Query, hits: list[Hit], scope: Scope) -> Verdict:
        ruled = without_model(query, hits, scope)
        if ruled is not None:
            return ruled
        p = self.probability(evidence(query, hits[0], scope))
        if p >= self.threshold:
            return Verdict(True, p)
        return Verdict(False, p, f"the closest passage is unlikely to answer (p={p:.2f} < {self.threshold:.2f})")


def load_all(path: Path = FILE) -> dict[str, Decision]:
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {model_id: Decision(dict(fit["weights"]), float(fit["bias"]), float(fit["threshold"]), model_id)
            for model_id, fit in data.get("models", {}).items()}


def for_model(model_id: str, path: Path = FILE) -> Decision:
    """The decision fitted for `model_id`; for a model never fitted, the bundled model's, with a warning."""
    fits = load_all(path)
    if model_id in fits:
        return fits[model_id]
    from index.embed import BUNDLED_MODEL

    if BUNDLED_MODEL in fits:
        log.warning("no answer decision fitted for %s; using %s's (fit one with `python -m bench decision`)",
                    model_id, BUNDLED_MODEL)
        return fits[BUNDLED_MODEL]
    return UNFITTED


# Before any fit: the hand-set gate this model replaces (coverage >= 0.5 or cosine >= 0.86-0.88), as a logistic
# with steep weights, so an empty decision.json still gives sensible answers.
UNFITTED = Decision({"coverage": 40.0, "cosine": 0.0}, -20.0, 0.5, "unfitted")
