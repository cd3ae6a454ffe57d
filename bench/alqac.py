"""`python -m bench alqac`: real legal questions written outside this project (ALQAC 2023 train), asked of the laws they are about.

The data set stays where it is (`../shared/bench/alqac-2023-train/`, read in place). Its 2,249
articles become one `.txt` per law ("LUẬT …" title line, then "Điều N. <title>" and the article text,
in order) in a git-ignored folder, ingested as a user would (`index.engine.ingest`). Every question is
asked with diacritics and again with them removed (the stem only for multiple choice). A hit is a
returned passage whose document is the gold law and whose section path is in the gold article.
Counted for what a user is shown (`Engine.search`: empty when the answer decision refuses) and for the
ranking before that decision (`Searcher.search`), with the tutorial baseline in the same run.
`--laws N` runs on the N laws with the most questions only (their own index) and the questions whose
gold articles are all in them. The baseline's vectors are kept on disk (per model and text) so a rerun reuses them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

from core.vietnamese import fold
from index.dense import DenseIndex
from index.engine import Engine, ingest, load_embedder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "alqac-2023-train"
WORK = ROOT / ".alqac"          # git-ignored: the generated law files and their index
KS = (1, 5, 10)


def law_files(articles: dict[str, str], folder: Path) -> dict[str, Path]:
    """One text file per law; returns law name -> file."""
    laws: dict[str, list[tuple[int, str]]] = {}
    for key, text in articles.items():
        law, number = key.rsplit("@", 1)
        laws.setdefault(law, []).append((int(number), text))
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for n, (law, items) in enumerate(sorted(laws.items())):
        lines = [law.upper(), ""]
        for number, text in sorted(items):
            title, _, body = text.partition("\n")
            lines += [f"Điều {number}. {title.strip()}", ""] + [p.strip() + "\n" for p in body.split("\n") if p.strip()]
        path = folder / f"luat-{n:02d}.txt"
        content = "\n".join(lines)
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
        files[law] = path
    return files


def in_article(section: list[str] | str, article: str) -> bool:
    text = " › ".join(section) if isinstance(section, list) else section
    return re.search(rf"(?:^|› )Điều {re.escape(article)}(?:\.|$| ›)", text) is not None


def rank_of(hits: list[tuple[str, str]], gold: list[tuple[str, str]]) -> int | None:
    """1-based rank of the first (source, section) inside a gold (law file source, article)."""
    for rank, (source, section) in enumerate(hits, start=1):
        if any(source == law and in_article(section, article) for law, article in gold):
            return rank
    return None


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    out = {f"hit@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 3) for k in KS}
    out["mrr@10"] = round(sum(1 / r for r in ranks if r and r <= 10) / n, 3)
    return out


class Baseline:
    """The tutorial: 1000/100-character chunks of each law file, the same model, dense search only.
    A chunk counts for the article its first character falls in."""

    def __init__(self, files: dict[str, Path], embedder, cache: Path):
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)
        self.where: list[tuple[str, str]] = []
        texts = []
        for path in files.values():
            text = path.read_text(encoding="utf-8")
            starts = [(m.start(), m.group(0)) for m in re.finditer(r"(?m)^Điều \d+\.", text)]
            cursor = 0
            for piece in splitter.split_text(text):
                at = text.find(piece[:50], cursor)
                cursor = max(cursor, at)
                heading = next((h for s, h in reversed(starts) if s <= at), "")
                self.where.append((f"{path.parent.name}/{path.name}", heading))
                texts.append(piece)
        self.embedder = embedder
        self.index = DenseIndex(embedder.dim)
        self.index.add(list(range(len(texts))), self._vectors(texts, cache))

    def _vectors(self, texts: list[str], cache: Path) -> np.ndarray:
        """The chunks' vectors, read from `cache` when the same model embedded the same texts before."""
        digest = hashlib.sha1("\0".join([self.embedder.model_id, *texts]).encode()).hexdigest()[:16]
        path = cache / f"baseline-{digest}.npy"
        if path.exists():
            return np.load(path)
        vectors = np.vstack([self.embedder.embed_passages(texts[i:i + 64]) for i in range(0, len(texts), 64)])
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors

    def search(self, question: str, k: int = 10) -> list[tuple[str, str]]:
        return [self.where[i] for i, _ in self.index.search(self.embedder.embed_query(question), k)]


def run(args) -> dict:
    articles = json.loads((args.data / "articles.json").read_text(encoding="utf-8"))
    questions = json.loads((args.data / "questions.json").read_text(encoding="utf-8"))
    files = law_files(articles, args.work / "laws")
    if args.laws:   # the laws most asked about
        asked = Counter(a["law_id"] for q in questions for a in q["relevant_articles"])
        files = {law: files[law] for law in sorted(files, key=lambda law: (-asked[law], law))[:args.laws]}
        questions = [q for q in questions if all(a["law_id"] in files for a in q["relevant_articles"])]
    source = {law: f"{path.parent.name}/{path.name}" for law, path in files.items()}
    print(f"{len(files)} laws, {len(questions)} questions")
    embedder = load_embedder(args.model, args.backend)
    index = args.work / (f"index-laws{args.laws}" if args.laws else "index")
    summary = ingest([args.work / "laws"] if not args.laws else list(files.values()), embedder, index)
    print(f"index: {summary.documents} laws, {summary.chunks} passages ({summary.chunks_embedded} embedded now, "
          f"{summary.seconds:.0f} s); errors: {summary.errors or 'none'}")
    engine = Engine(index, embedder)
    by_source = {d.source: d for d in engine.documents.values()}
    titled = sum(1 for law, key in source.items() if fold(by_source[key].meta.title or "") == fold(law))
    print(f"documents whose recognised title is their law's name: {titled}/{len(source)}")
    baseline = None if args.no_baseline else Baseline(files, embedder, args.work / "baseline")

    rows, empty, latencies = {}, {}, []
    for variant in ("with diacritics", "without diacritics"):
        shown, ranking, tutorial, none = [], [], [], []
        for q in questions:
            text = q["text"] if variant == "with diacritics" else fold(q["text"])
            gold = [(source[a["law_id"]], a["article_id"]) for a in q["relevant_articles"]]
            started = time.perf_counter()
            response = engine.search(text, k=10)
            latencies.append((time.perf_counter() - started) * 1000)
            shown.append(rank_of([(r.doc.path, r.section) for r in response.results], gold))
            if not response.results:
                none.append(q["question_id"])
            hits = engine.searcher.search(text, 10)
            ranking.append(rank_of([(engine.documents[h.chunk.doc_id].source, h.chunk.section) for h in hits], gold))
            if baseline:
                tutorial.append(rank_of(baseline.search(text), gold))
        rows[f"engine, as shown ({variant})"] = metrics(shown)
        rows[f"engine ranking before the answer decision ({variant})"] = metrics(ranking)
        if baseline:
            rows[f"tutorial baseline ({variant})"] = metrics(tutorial)
        empty[variant] = none
    print("\n| system | hit@1 | hit@5 | hit@10 | MRR@10 |\n|---|---|---|---|---|")
    for name, m in rows.items():
        print(f"| {name} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['hit@10']:.3f} | {m['mrr@10']:.3f} |")
    print()
    for variant, ids in empty.items():
        print(f"- questions with no result at all ({variant}): {len(ids)}/{len(questions)}"
              + (f" ({', '.join(ids)})" if ids else ""))
    print(f"- query p50 {statistics.median(latencies):.1f} ms over {len(latencies)} questions")
    return {"rows": rows, "empty": empty}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench alqac", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the ALQAC folder (read in place)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the law files and their index go")
    parser.add_argument("--model")
    parser.add_argument("--backend")
    parser.add_argument("--laws", type=int, help="only the N laws with the most questions, and the questions about them")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not (args.data / "questions.json").exists():
        raise SystemExit(f"no ALQAC data in {args.data} (pass --data)")
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
