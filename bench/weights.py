"""`python -m bench weights`: the fusion weights, the English glossary and the diacritic restoration, per model.

For one model, every (dense, lexical, coverage) weighting of a small grid is scored on every question set
(MRR@10 and hit@1 of the gold line, per query language). Weights per language are chosen on the `--tune` sets
only (by default the tuned set and the held-out set, as `bench decision` fits on) and reported on the others,
beside the weights in use and dense search alone. Then the chosen weights are scored without the glossary
(English questions embedded as typed, no Vietnamese terms for BM25) and without diacritic restoration, so each
of them keeps its place only by a figure. Query embeddings are computed once per question (cached), so the grid
costs little beyond the first pass.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import json
from dataclasses import replace
from pathlib import Path

from bench.retrieval import LANGS, ROOT, gold_ranks, load_qa, metrics
from index.embed import load_embedder
from index.engine import Engine, ingest
from index.ranking import for_model

SETS = {name: ROOT / "bench" / f"{name}.jsonl" for name in ("qa", "qa_heldout", "qa_blind", "qa_final")}
LEXICAL = (0.0, 0.25, 0.5, 1.0)
COVERAGE = (0.0, 0.5, 1.0)
GRID = [(1.0, lexical, coverage) for lexical, coverage in itertools.product(LEXICAL, COVERAGE)]


class NoRestoration:
    """A vocabulary that restores nothing: questions typed without diacritics are searched as typed."""

    def __init__(self, vocab):
        self.vocab = vocab

    def restore(self, text: str) -> None:
        return None

    def __getattr__(self, name):
        return getattr(self.vocab, name)


def score(questions: list[dict], found: dict[str, int | None], lang: str | None = None) -> dict:
    """hit@k and MRR@10 of the questions (of one language) from their gold ranks."""
    return metrics([found[q["id"]] for q in questions if lang is None or q["lang"] == lang])


def grid_ranks(engine: Engine, questions: list[dict]) -> dict[tuple, dict[str, int | None]]:
    """Ranks of every question under every weighting of the grid (the same weights for every language)."""
    base = engine.config
    out = {}
    for weights in GRID:
        engine.configure(replace(base, weights={lang: weights for lang in LANGS}))
        out[weights] = gold_ranks(engine, questions)
    engine.configure(base)
    return out


def choose(tune: list[dict], by_weights: dict[tuple, dict], current: dict) -> dict:
    """Per language, the weighting with the best MRR@10 on the tuning questions (ties: the one in use,
    else the fewest non-dense weight)."""
    chosen = {}
    for lang in LANGS:
        def key(w):
            return (round(score(tune, by_weights[w], lang)["mrr@10"], 6), w == tuple(current[lang]), -sum(w[1:]))
        chosen[lang] = max(by_weights, key=key)
    return chosen


def leave_one_set_out(qa: dict[str, list[dict]], by_weights: dict[tuple, dict], current: dict) -> dict:
    """How well choosing weights generalises: for each set, weights chosen on the three others, scored on it;
    beside the weights in use and dense only, on the same questions."""
    print("\n## Leave one set out (MRR@10 on the set left out: chosen on the others / in use / dense only)\n")
    print("| set left out | chosen on the others | " + " | ".join(LANGS) + " |\n|---|---|---|---|---|")
    out, dense = {}, (1.0, 0.0, 0.0)
    for held, questions in qa.items():
        rest = [q for name, qs in qa.items() if name != held for q in qs]
        chosen = choose(rest, by_weights, current)
        cells = {lang: [score(questions, by_weights[w], lang)["mrr@10"] for w in (chosen[lang], tuple(current[lang]), dense)]
                 for lang in LANGS}
        out[held] = {"chosen": chosen, "mrr@10": cells}
        print(f"| {held} | {json.dumps(chosen)} | " + " | ".join(" / ".join(f"{v:.3f}" for v in cells[l]) for l in LANGS) + " |")
    means = {lang: [sum(out[h]["mrr@10"][lang][i] for h in out) / len(out) for i in range(3)] for lang in LANGS}
    print("| mean | | " + " | ".join(" / ".join(f"{v:.3f}" for v in means[l]) for l in LANGS) + " |")
    return {"sets": out, "mean": means}


def run(args) -> dict:
    qa = {name: [q for q in load_qa(path) if q["gold"]] for name, path in SETS.items()}
    embedder = load_embedder(args.model, args.backend)
    embedder.embed_query = functools.lru_cache(maxsize=None)(embedder.embed_query)
    summary = ingest([ROOT / "corpus"], embedder, args.index_dir)
    print(f"model {embedder.model_id}; index: {summary.documents} documents, {summary.chunks} chunks "
          f"({summary.chunks_embedded} embedded now)")
    engine = Engine(args.index_dir, embedder, config=for_model(embedder.model_id))
    everything = [q for questions in qa.values() for q in questions]
    by_weights = grid_ranks(engine, everything)
    current = dict(engine.config.weights)
    tune = [q for name in args.tune for q in qa[name]]
    chosen = choose(tune, by_weights, current)

    variants = {"in use": engine.config, "dense only": replace(engine.config, weights={l: (1.0, 0.0, 0.0) for l in LANGS}),
                "chosen on " + "+".join(args.tune): replace(engine.config, weights=chosen)}
    found = {}
    for name, config in variants.items():
        engine.configure(config)
        found[name] = gold_ranks(engine, everything)
    engine.configure(variants["chosen on " + "+".join(args.tune)])
    glossary = engine.searcher.glossary
    engine.searcher.glossary = []
    found["chosen, without the glossary"] = gold_ranks(engine, everything)
    engine.searcher.glossary = glossary
    engine.searcher.vocab = NoRestoration(engine.searcher.vocab)
    found["chosen, without restoration"] = gold_ranks(engine, everything)

    print(f"\nweights in use: {json.dumps(current)}\nchosen per language on {'+'.join(args.tune)}: {json.dumps(chosen)}")
    rows = {}
    print("\n| variant | set | MRR@10 vi | vi_nodiac | en | all | hit@1 all |\n|---|---|---|---|---|---|---|")
    for name, result in found.items():
        for set_name, questions in qa.items():
            cells = {lang: score(questions, result, lang) for lang in LANGS}
            cells["all"] = score(questions, result)
            rows.setdefault(name, {})[set_name] = cells
            tuned = " (tuned on)" if set_name in args.tune else ""
            print(f"| {name} | {set_name}{tuned} | " + " | ".join(f"{cells[l]['mrr@10']:.3f}" for l in (*LANGS, "all"))
                  + f" | {cells['all']['hit@1']:.3f} |")
    print("\n## Every weighting of the grid (MRR@10 per language on the tuning sets / the others)\n")
    print("| dense, lexical, coverage | " + " | ".join(LANGS) + " |\n|---|---|---|---|")
    others = [q for name, questions in qa.items() if name not in args.tune for q in questions]
    for w, result in by_weights.items():
        print(f"| {w} | " + " | ".join(f"{score(tune, result, l)['mrr@10']:.3f} / {score(others, result, l)['mrr@10']:.3f}"
                                       for l in LANGS) + " |")
    loso = leave_one_set_out(qa, by_weights, current)
    pooled = choose(everything, by_weights, current)
    print(f"\nchosen per language on all sets: {json.dumps(pooled)}")
    out = {"model": embedder.model_id, "in_use": current, "chosen": chosen, "all_sets": pooled, "rows": rows,
           "leave_one_set_out": loso}
    print(json.dumps({"model": out["model"], "in_use": current, "chosen": chosen, "all_sets": pooled}))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench weights", description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--backend")
    parser.add_argument("--index-dir", type=Path, help="default: .index-bench-weights/<model>")
    parser.add_argument("--tune", nargs="+", default=["qa", "qa_heldout"], choices=list(SETS))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.index_dir is None:
        slug = (args.model or "default").replace("/", "_").replace("@", "_")
        args.index_dir = ROOT / ".index-bench-weights" / slug
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
