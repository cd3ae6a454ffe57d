"""`python -m bench decision`: fit the answer decision (index/decision.py) on some question sets, check it on the others.

Unanswerable questions come from three places: the sets' own (a province, year or indicator the documents
lack); every answerable question that names a province asked again without the documents that answer it
(`Filters.not_docs`; skipped when a gold line still comes back, i.e. another document says it too); and every
answerable question with a year asked again about a year no indexed passage mentions. A case is labelled
"answerable" when the question has gold lines and their documents are searched.

The logistic model (scikit-learn) is fitted on `--fit` sets; its threshold is chosen on cross-validated
probabilities of those sets only: the highest probability below which saying "no answer" is still right
at least `--precision` of the time (refusing often is cheap now that the closest passages are always listed). Then every other set is scored with the
fitted model as the engine would answer (answer accuracy per language, no-answer precision and recall), and
the hand-set gate it replaces is scored in the same run. `--write` stores the fit in index/decision.json
for the model used.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.text import YEAR
from core.vietnamese import fold

from bench.retrieval import BENCH_INDEX, ROOT, answered_right, first_hit, load_qa
from index.decision import FEATURES, FILE, Decision, Verdict, evidence, without_model
from index.embed import load_embedder
from index.engine import Engine, Filters, ingest

SETS = {name: ROOT / "bench" / f"{name}.jsonl" for name in ("qa", "qa_heldout", "qa_blind", "qa_final")}
OLD_COSINE = {"vi": 0.88, "vi_nodiac": 0.88, "en": 0.86}   # the hand-set gate this replaces (RankingConfig until 2026-12)


@dataclass
class Case:
    question: dict
    left_out: bool                    # a variant nothing answers: without the documents that answer it, or another year
    answerable: bool
    features: dict | None             # None: decided without the model (quoted phrase, province outside, no hit)
    fixed: bool | None = None         # the verdict given without the model (features None)
    source: str = "own"               # "own" (the set's question), "left out" or "other year" (variants)


def observe(engine: Engine, text: str, filters: Filters | None):
    """hits, scope, and what the decision reads: the model's features, or the verdict given without it."""
    searcher = engine.searcher
    query = searcher.analyze(text)
    hits = searcher.search(text, 10, filters, query=query)
    scope = searcher.scope(query, filters)
    ruled = without_model(query, hits, scope)
    return query, hits, scope, (None if ruled else evidence(query, hits[0], scope)), ruled and ruled.answers


def case(engine: Engine, q: dict, filters: Filters | None = None, text: str | None = None) -> Case | None:
    """The question (or `text`, a variant of it that nothing answers) as the engine sees it."""
    text = text or q["question"]
    _, hits, scope, features, fixed = observe(engine, text, filters)
    variant = filters is not None or text != q["question"]
    if variant and filters is not None:
        if first_hit([h.chunk.text for h in hits], q["gold"]):
            return None   # another document states it too: still answerable
        if not any(not YEAR.fullmatch(s) for s in scope.named) and not scope.outside:
            return None   # names no province: another province's figure is a fair answer, not a clean negative
    source = "left out" if filters is not None else "other year" if variant else "own"
    return Case(q, variant, bool(q["gold"]) and not variant, features, fixed, source)


def other_year(text: str, known: set[str]) -> str | None:
    """The question with its year replaced by one no indexed passage mentions (ten or more years later)."""
    found = YEAR.search(text)
    if not found:
        return None
    year = int(found.group()) + 10
    while str(year) in known:
        year += 1
    return text[:found.start()] + str(year) + text[found.end():]


def cases_for(engine: Engine, questions: list[dict]) -> list[Case]:
    """Each question as asked; each answerable one again without the documents that answer it, and with
    its year moved to one no document mentions."""
    by_file = {Path(d.source).name: d.id for d in engine.documents.values()}
    out = []
    for q in questions:
        out.append(case(engine, q))
        if not q["gold"]:
            continue
        if q.get("docs"):
            out.append(case(engine, q, Filters(not_docs=frozenset(by_file[f] for f in q["docs"] if f in by_file))))
        moved = other_year(q["question"], engine.searcher.known_scopes)
        if moved:
            out.append(case(engine, q, text=moved))
    return [c for c in out if c is not None]


def matrix(cases: list[Case]) -> tuple[np.ndarray, np.ndarray]:
    modelled = [c for c in cases if c.features is not None]
    return (np.array([[c.features[f] for f in FEATURES] for c in modelled]),
            np.array([c.answerable for c in modelled], dtype=int))


def says_answer(c: Case, decision: Decision) -> bool:
    return c.fixed if c.features is None else decision.probability(c.features) >= decision.threshold


def old_rule(features: dict, lang: str) -> bool:
    """The hand-set gate this replaced: coverage >= 0.5 or cosine >= 0.86-0.88, and no year missed."""
    return not features["missing_year"] and (features["coverage"] >= 0.5 or features["cosine"] >= OLD_COSINE[lang])


def old_gate(c: Case) -> bool:
    return bool(c.fixed) if c.features is None else old_rule(c.features, c.question["lang"])


def no_answer_scores(cases: list[Case], answers) -> tuple[float, float, int, int]:
    """(precision, recall, said, truly) of saying "no answer"."""
    said = [c for c in cases if not answers(c)]
    right = sum(1 for c in said if not c.answerable)
    truly = sum(1 for c in cases if not c.answerable)
    return right / max(1, len(said)), right / max(1, truly), len(said), truly


def curve(p: np.ndarray, y: np.ndarray) -> list[tuple[float, float, float, float]]:
    """(threshold, no-answer precision, no-answer recall, answerable kept) over thresholds."""
    rows = []
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        refused = p < t
        right = int(np.sum(refused & (y == 0)))
        rows.append((float(t), right / max(1, int(refused.sum())), right / max(1, int(np.sum(y == 0))),
                     float(np.mean(~refused[y == 1])) if np.any(y == 1) else 1.0))
    return rows


def choose(rows, precision: float, recall: float) -> float:
    """The threshold that keeps most answers while saying "no answer" to at least `recall` of the questions
    nothing answers, and rightly at least `precision` of the time; when none reaches both, the best no-answer F1."""
    ok = [r for r in rows if r[1] >= precision and r[2] >= recall]
    if ok:
        return max(ok, key=lambda r: (r[3], r[2]))[0]
    return max(rows, key=lambda r: 2 * r[1] * r[2] / max(1e-9, r[1] + r[2]))[0]


def fit(cases: list[Case], precision: float, recall: float) -> tuple[Decision, list]:
    """Logistic regression on standardised features (so the L2 penalty treats a cosine spread over 0.1
    like a share spread over 1), written back as weights on the raw features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = matrix(cases)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    p = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    rows = curve(p, y)
    model.fit(x, y)
    scaler, logistic = model[0], model[1]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    raw = logistic.coef_[0] / scale
    bias = float(logistic.intercept_[0] - np.sum(raw * scaler.mean_))
    weights = {f: round(float(w), 4) for f, w in zip(FEATURES, raw)}
    return Decision(weights, round(bias, 4), choose(rows, precision, recall)), rows


def accuracy(engine: Engine, questions: list[dict]) -> dict[str, str]:
    out = {}
    for lang in ("vi", "vi_nodiac", "en"):
        asked = [q for q in questions if q["gold"] and q["lang"] == lang]
        right = sum(answered_right(q, engine.search(q["question"]).model_dump()["answer"]) for q in asked)
        out[lang] = f"{right}/{len(asked)} = {right / max(1, len(asked)):.3f}"
    return out


def run(args) -> dict:
    embedder = load_embedder(args.model, args.backend)
    ingest([ROOT / "corpus"], embedder, args.index_dir)
    engine = Engine(args.index_dir, embedder)
    cases = {name: cases_for(engine, load_qa(path)) for name, path in SETS.items()}
    training = [c for name in args.fit for c in cases[name]]
    decision, rows = fit(training, args.precision, args.recall)
    decision = Decision(decision.weights, decision.bias, decision.threshold, embedder.model_id)
    x, y = matrix(training)
    print(f"model {embedder.model_id}; fitted on {', '.join(args.fit)}: {len(y)} cases "
          f"({int(y.sum())} answerable, {int(len(y) - y.sum())} not)")
    print(f"weights {decision.weights}, bias {decision.bias}, threshold {decision.threshold}")
    print("\n### Cross-validated on the fitted sets: saying 'no answer' below each threshold\n")
    print("| threshold | no-answer precision | no-answer recall | answerable kept |\n|---|---|---|---|")
    for t, prec, rec, kept in rows:
        mark = " (chosen)" if t == decision.threshold else ""
        print(f"| {t:.2f}{mark} | {prec:.2f} | {rec:.2f} | {kept:.2f} |")
    print("\n### Every set, as the engine answers (sets not fitted on are the test)\n")
    print("| set | fitted on | cases (made) | no-answer P / R | R: set's own / left out / other year "
          "| old gate P / R | answers vi | vi_nodiac | en | old gate vi / vi_nodiac / en |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    report = {}
    for name, questions in ((n, load_qa(p)) for n, p in SETS.items()):
        got = cases[name]
        new = no_answer_scores(got, lambda c: says_answer(c, decision))
        old = no_answer_scores(got, old_gate)
        engine.decision = decision
        acc = accuracy(engine, questions)
        engine.decision = OldGate()
        acc_old = accuracy(engine, questions)
        report[name] = {"fitted": name in args.fit, "no_answer": new[:2], "old_gate": old[:2], "answers": acc,
                        "answers_old": acc_old}
        by_source = " / ".join(_recall(got, decision, source) for source in ("own", "left out", "other year"))
        print(f"| {name} | {'yes' if name in args.fit else '**no**'} | {len(got)} ({sum(c.left_out for c in got)}) "
              f"| {new[0]:.2f} / {new[1]:.2f} | {by_source} | {old[0]:.2f} / {old[1]:.2f} | {acc['vi']} "
              f"| {acc['vi_nodiac']} | {acc['en']} | {' / '.join(v.split(' = ')[1] for v in acc_old.values())} |")
    if args.alqac:
        alqac(embedder, decision, args.alqac_work)
    if args.write:
        data = json.loads(FILE.read_text(encoding="utf-8")) if FILE.exists() else {"models": {}}
        data["models"][embedder.model_id] = {
            "weights": decision.weights, "bias": decision.bias, "threshold": decision.threshold,
            "fitted_on": args.fit, "precision_target": args.precision, "recall_target": args.recall, "cases": len(y),
            "command": f"python -m bench decision --fit {' '.join(args.fit)} --write"}
        FILE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"\nwritten to {FILE.relative_to(ROOT)}")
    return report


def _recall(cases: list[Case], decision: Decision, source: str) -> str:
    """No-answer recall over one source of unanswerable cases, as "right/all"."""
    picked = [c for c in cases if not c.answerable and c.source == source]
    right = sum(1 for c in picked if not says_answer(c, decision))
    return f"{right}/{len(picked)}"


def alqac(embedder, decision: Decision, work: Path) -> None:
    """The ALQAC legal questions (every one answerable, laws the decision never saw), with and without
    diacritics; each also asked with its gold law left out (then nothing answers it)."""
    from bench import alqac as data

    articles = json.loads((data.DATA / "articles.json").read_text(encoding="utf-8"))
    questions = json.loads((data.DATA / "questions.json").read_text(encoding="utf-8"))
    files = data.law_files(articles, work / "laws")
    ingest([work / "laws"], embedder, work / "index")
    engine = Engine(work / "index", embedder, decision=decision)
    doc_of = {f"{p.parent.name}/{p.name}": d.id for p in files.values() for d in engine.documents.values()
              if d.source.endswith(f"{p.parent.name}/{p.name}")}
    law_doc = {law: doc_of[f"{p.parent.name}/{p.name}"] for law, p in files.items()}
    print("\n### ALQAC 2023 train (laws, questions written outside the project; not fitted on)\n")
    print("| questions | empty results | answered | no-answer P / R with the gold law left out | old gate answered |")
    print("|---|---|---|---|---|")
    for variant in ("with diacritics", "without diacritics"):
        cases, empty, old = [], 0, 0
        for q in questions:
            text = q["text"] if variant == "with diacritics" else fold(q["text"])
            empty += not engine.search(text).results
            for left_out in (False, True):
                filters = Filters(not_docs=frozenset(law_doc[a["law_id"]] for a in q["relevant_articles"])) if left_out else None
                query, _, _, features, fixed = observe(engine, text, filters)
                c = Case({"lang": query.lang}, left_out, not left_out, features, fixed)
                cases.append(c)
                old += (not left_out) and old_gate(c)
        asked = [c for c in cases if c.answerable]
        answered = sum(says_answer(c, decision) for c in asked)
        p, r, _, _ = no_answer_scores(cases, lambda c: says_answer(c, decision))
        print(f"| {variant} ({len(questions)}) | {empty} | {answered}/{len(asked)} | {p:.2f} / {r:.2f} | {old}/{len(asked)} |")


class OldGate(Decision):
    """The hand-set gate, answering in the engine for comparison (the same rules before the model)."""

    def __init__(self):
        super().__init__({}, 0.0, 0.5, "old gate")

    def decide(self, query, hits, scope):
        ruled = without_model(query, hits, scope)
        return ruled or Verdict(old_rule(evidence(query, hits[0], scope), query.lang), None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench decision", description=__doc__.splitlines()[0])
    parser.add_argument("--fit", nargs="+", default=["qa", "qa_heldout"], choices=list(SETS))
    parser.add_argument("--precision", type=float, default=0.9, help="no-answer precision the threshold must reach")
    parser.add_argument("--recall", type=float, default=0.8, help="no-answer recall the threshold must reach")
    parser.add_argument("--model")
    parser.add_argument("--backend")
    parser.add_argument("--index-dir", type=Path, default=BENCH_INDEX)
    parser.add_argument("--write", action="store_true", help="store the fit in index/decision.json")
    parser.add_argument("--alqac", action="store_true", help="also score the ALQAC legal questions (bench/alqac.py)")
    parser.add_argument("--alqac-work", type=Path, default=ROOT / ".alqac", help="the ALQAC law files and index")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
