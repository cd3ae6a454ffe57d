"""`python -m bench retrieval`: hit@k and MRR@10 per language for the engine, its parts and a tutorial baseline."""
from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.vietnamese import normalize
from index.dense import DenseIndex
from index.embed import load_embedder
from index.engine import Engine, ingest
from index.ranking import for_model

ROOT = Path(__file__).resolve().parent.parent
QA_FILE = Path(__file__).with_name("qa.jsonl")
BENCH_INDEX = ROOT / ".index-bench"
LANGS = ("vi", "vi_nodiac", "en")
KS = (1, 3, 5, 10)


def norm(text: str) -> str:
    """Text for matching gold strings: normalised, lowercase, single spaces, no markdown emphasis
    (gold strings are copied from the files; passages are cleaned)."""
    return " ".join(normalize(text).replace("*", "").lower().split())


def load_qa(path: Path = QA_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def answered_right(q: dict, answer: dict | None) -> bool:
    """The expected figure or name is in the answer sentence."""
    return answer is not None and norm(q["answer"]) in norm(answer["text"])


def first_hit(texts: list[str], gold: list[str]) -> int | None:
    """1-based rank of the first text containing a gold evidence string."""
    golds = [norm(g) for g in gold]
    for rank, text in enumerate(texts, start=1):
        if any(g in norm(text) for g in golds):
            return rank
    return None


class NaiveBaseline:
    """What a tutorial builds: RecursiveCharacterTextSplitter(1000, 100) on the raw files, the same
    model, a flat FAISS index, dense search only."""

    def __init__(self, corpus: Path, embedder):
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)
        self.texts = [c for f in sorted(corpus.glob("*.txt")) for c in splitter.split_text(f.read_text("utf-8"))]
        self.embedder = embedder
        self.index = DenseIndex(embedder.dim)
        self.index.add(list(range(len(self.texts))), embedder.embed_passages(self.texts))

    def search(self, question: str, k: int = 10) -> list[str]:
        return [self.texts[i] for i, _ in self.index.search(self.embedder.embed_query(question), k)]


def engine_texts(engine: Engine, question: str, k: int = 10) -> list[str]:
    """Result passages, each with the copies of it in other documents (shown once, cited twice)."""
    query = engine.searcher.analyze(question)
    hits = engine.searcher.search(question, k, query=query)
    return [hit.chunk.text for hit in hits]


def gold_ranks(engine: Engine, questions: list[dict]) -> dict[str, int | None]:
    """Question id -> 1-based rank of its first gold line in the engine's ranking (None: not in the top 10)."""
    return {q["id"]: first_hit(engine_texts(engine, q["question"]), q["gold"]) for q in questions}


def show_failures(engine: Engine, questions: list[dict], ranks: dict[str, int | None]) -> None:
    """Questions whose gold line is not first, with what came first instead."""
    for q in questions:
        if ranks[q["id"]] != 1:
            query = engine.searcher.analyze(q["question"])
            top = engine.searcher.search(q["question"], 3, query=query)
            print(f"\n{q['id']} rank={ranks[q['id']]} [{query.lang}] {q['question']}\n   as: {query.vietnamese}"
                  f"\n   gold: {q['gold'][0]}")
            for hit in top:
                print(f"   - {hit.chunk.text[:110]}  ({hit.chunk.doc_id[:4]} d={hit.dense and round(hit.dense, 3)})")


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    out = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in KS}
    out["mrr@10"] = sum(1 / r for r in ranks if r and r <= 10) / n
    out["n"] = len(ranks)
    return out


def table(rows: dict[str, dict[str, dict]]) -> str:
    lines = ["| system | subset | n | hit@1 | hit@3 | hit@5 | hit@10 | MRR@10 |", "|---|---|---|---|---|---|---|---|"]
    for system, subsets in rows.items():
        for subset, m in subsets.items():
            lines.append(f"| {system} | {subset} | {m['n']} | " + " | ".join(
                f"{m[key]:.3f}" for key in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10")) + " |")
    return "\n".join(lines)


def run(args) -> dict:
    qa = load_qa(args.qa)
    answerable = [q for q in qa if q["gold"]]
    embedder = load_embedder(args.model, args.backend)
    summary = ingest([ROOT / "corpus"], embedder, args.index_dir)
    print(f"index: {summary.documents} documents, {summary.chunks} chunks ({summary.chunks_embedded} embedded now)")
    engine = Engine(args.index_dir, embedder)

    chosen = for_model(embedder.model_id)
    systems = {"engine (hybrid)": None, "dense only": (1.0, 0.0, 0.0), "lexical only": (0.0, 1.0, 0.0)}
    rows: dict[str, dict[str, dict]] = {}
    for name, weights in systems.items():
        engine.configure(replace(chosen, weights={lang: weights for lang in LANGS}) if weights else chosen)
        ranks = gold_ranks(engine, answerable)
        rows[name] = _by_lang(answerable, ranks)
        if args.failures and weights is None:
            show_failures(engine, answerable, ranks)
    engine.configure(chosen)
    # What a user sees: the passage the answer quotes comes first; with no answer, the closest passages.
    ranks = {q["id"]: first_hit([r.text for r in engine.search(q["question"]).results], q["gold"])
             for q in answerable}
    rows = {"engine (as shown: answer first)": _by_lang(answerable, ranks), **rows}

    if not args.no_baseline:
        baseline = NaiveBaseline(ROOT / "corpus", embedder)
        ranks = {q["id"]: first_hit(baseline.search(q["question"]), q["gold"]) for q in answerable}
        rows["tutorial baseline (1000/100 chars, dense)"] = _by_lang(answerable, ranks)

    print("\n## Retrieval (gold evidence line in the top k)\n")
    print(table(rows))
    print("\n## Fusion of the rankings (engine, hybrid)\n")
    print(fusion_table(engine, qa))
    answers = answer_quality(engine, qa, args.failures)
    print("\n## Answers\n")
    for key, value in answers.items():
        print(f"- {key}: {value}")
    return {"retrieval": rows, "answers": answers}


FUSIONS = {"RRF, k=60": ("rrf", 60), "RRF, k=20": ("rrf", 20), "min-max scores": ("minmax", 0)}


def fusion_table(engine: Engine, qa: list[dict]) -> str:
    """MRR@10 per language, answer accuracy and correct refusals for each way of fusing."""
    lines = ["| fusion | MRR@10 vi | vi_nodiac | en | all | answers right | refusals right |", "|---|---|---|---|---|---|---|"]
    chosen = engine.config
    for name, (fusion, k) in FUSIONS.items():
        variant = replace(chosen, fusion=fusion, rrf_k=k or chosen.rrf_k)
        engine.configure(variant)
        answerable = [q for q in qa if q["gold"]]
        ranks = gold_ranks(engine, answerable)
        mrr = _by_lang(answerable, ranks)
        said = {q["id"]: engine.search(q["question"]).model_dump()["answer"] for q in qa}
        right = sum(1 for q in answerable if answered_right(q, said[q["id"]]))
        refused = sum(1 for q in qa if not q["gold"] and said[q["id"]] is None)
        mark = " (used)" if variant == chosen else ""
        lines.append(f"| {name}{mark} | " + " | ".join(f"{mrr[s]['mrr@10']:.3f}" for s in (*LANGS, "all"))
                     + f" | {right}/{len(answerable)} | {refused}/{len(qa) - len(answerable)} |")
    engine.configure(chosen)
    return "\n".join(lines)


def _by_lang(questions: list[dict], ranks: dict[str, int | None]) -> dict[str, dict]:
    out = {lang: metrics([ranks[q["id"]] for q in questions if q["lang"] == lang]) for lang in LANGS}
    out["all"] = metrics([ranks[q["id"]] for q in questions])
    return out


def answer_quality(engine: Engine, qa: list[dict], failures: bool = False) -> dict:
    """Answer accuracy (the expected figure or name is in the answer sentence), no-answer precision
    and recall, and how the no-answer thresholds trade one against the other."""
    correct = defaultdict(list)
    said_none, truly_none, tops = [], [], []
    for q in qa:
        response = engine.search(q["question"]).model_dump()
        query = engine.searcher.analyze(q["question"])
        hits = engine.searcher.search(q["question"], 10, query=query)
        if hits:
            tops.append((q, query, hits[0]))
        if response["answer"] is None:
            said_none.append(q["id"])
        if not q["gold"]:
            truly_none.append(q["id"])
            continue
        ok = answered_right(q, response["answer"])
        correct[q["lang"]].append(ok)
        if failures and not ok:
            said = response["answer"] and response["answer"]["text"]
            print(f"\n{q['id']} wrong answer [{query.lang}] {q['question']}\n   expected: {q['answer']}\n   said: {said}")
    out = {f"answer accuracy ({lang})": f"{sum(v)}/{len(v)} = {sum(v) / len(v):.3f}" for lang, v in correct.items()}
    everything = [ok for v in correct.values() for ok in v]
    out["answer accuracy (all)"] = f"{sum(everything)}/{len(everything)} = {sum(everything) / len(everything):.3f}"
    right = len(set(said_none) & set(truly_none))
    out["no-answer precision"] = f"{right}/{len(said_none)} = {right / max(1, len(said_none)):.3f}"
    out["no-answer recall"] = f"{right}/{len(truly_none)} = {right / max(1, len(truly_none)):.3f}"
    out["wrongly refused"] = ", ".join(sorted(set(said_none) - set(truly_none))) or "none"
    out["wrongly answered"] = ", ".join(sorted(set(truly_none) - set(said_none))) or "none"
    for group, pick in (("answerable", True), ("no_answer", False)):
        chosen = [(query, hit) for q, query, hit in tops if bool(q["gold"]) == pick]
        out[f"top cosine, {group}"] = _spread([hit.dense or 0.0 for _, hit in chosen])
        out[f"top coverage, {group}"] = _spread([hit.coverage for _, hit in chosen])
    out["decision"] = (f"calibrated ({engine.decision.model_id}, threshold {engine.decision.threshold}); "
                       "fitted and its curve printed by `python -m bench decision`")
    return out


def _spread(values: list[float]) -> str:
    v = np.asarray(values)
    return f"min {v.min():.3f} / median {statistics.median(values):.3f} / max {v.max():.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval", description=__doc__)
    parser.add_argument("--qa", type=Path, default=QA_FILE)
    parser.add_argument("--index-dir", type=Path, default=BENCH_INDEX)
    parser.add_argument("--model")
    parser.add_argument("--backend")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--failures", action="store_true", help="show questions the engine does not rank first")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
