"""The command-line contract: python -m ingest / python -m index search, as other tools call them."""
import json
import subprocess
import sys

from tests.conftest import ROOT


def run(*args, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, **kwargs)


def test_search_json_contract(corpus_index):
    out = run("-m", "index", "search", "che phu rung 2024", "--json", "--index-dir", str(corpus_index))
    assert out.returncode == 0, out.stderr
    response = json.loads(out.stdout)
    assert {"query", "took_ms", "answer", "results"} <= set(response)
    first = response["results"][0]
    assert {"rank", "score", "text", "doc", "section", "line_start", "line_end"} <= set(first)
    assert {"id", "title", "type", "issuer", "date", "province", "path"} <= set(first["doc"])
    assert "64,6%" in first["text"] and response["answer"]["citations"]


def test_queries_file_gives_one_json_line_per_query_in_order(corpus_index, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("che phu rung 2024\n\n43-NQ/TW\nWhat is Hà Giang's rice yield?\n", encoding="utf-8")
    out = run("-m", "index", "search", "--queries", str(queries), "--index-dir", str(corpus_index))
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["query"] for r in lines] == ["che phu rung 2024", "43-NQ/TW", "What is Hà Giang's rice yield?"]
    assert lines[2]["answer"] is None


def test_search_without_an_index_says_how_to_build_it(tmp_path):
    out = run("-m", "index", "search", "x", "--index-dir", str(tmp_path / "none"))
    assert out.returncode == 2 and "python -m ingest" in out.stderr


def test_ingest_json_summary(corpus_index, tmp_path):
    import shutil

    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    out = run("-m", "ingest", "--json", "--index-dir", str(index))
    summary = json.loads(out.stdout)
    assert {"added", "updated", "removed", "unchanged", "chunks_embedded", "seconds"} <= set(summary)
    assert (summary["unchanged"], summary["chunks_embedded"]) == (5, 0)


def test_a_phrase_of_quotes_only_is_an_error_not_unrelated_passages(corpus_index):
    for query, mode in (('""', "phrase"), ('"“”"', "smart"), ("?!", "smart")):
        out = run("-m", "index", "search", query, "--mode", mode, "--json", "--index-dir", str(corpus_index))
        response = json.loads(out.stdout)
        assert "nothing to search for" in response["error"] and response["results"] == [], query
        out = run("-m", "index", "search", query, "--mode", mode, "--index-dir", str(corpus_index))
        assert out.returncode == 2 and "nothing to search for" in out.stderr, query
    out = run("-m", "index", "search", "rừng", "--mode", "number", "--json", "--index-dir", str(corpus_index))
    assert "no document number" in json.loads(out.stdout)["error"]
