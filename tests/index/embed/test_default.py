"""The default model as a user gets it: EmbeddingGemma when fetched, e5-small when not, an old index keeps its model."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from index.embed.models import FETCH_HINT
from tests.conftest import CORPUS, ROOT


def default_env(**extra) -> dict:
    """The environment of a user who chose no model (the test session pins e5-small for speed)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EMBED_MODEL", "EMBED_BACKEND")}
    return dict(env, **extra)


def run(*args, **env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=default_env(**env))


def test_without_the_fetched_model_the_default_is_e5_small_with_one_line(tmp_path):
    code = "from index.embed import load_embedder; e = load_embedder(); print(e.model_id, e.dim)"
    out = run("-c", code, TRA_CUU_MODEL_CACHE=str(tmp_path / "empty-cache"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["intfloat/multilingual-e5-small", "384"]
    lines = [line for line in out.stderr.splitlines() if "using intfloat/multilingual-e5-small instead" in line]
    assert len(lines) == 1 and FETCH_HINT in lines[0]


def test_an_index_built_with_e5_small_keeps_it_when_no_model_is_named(corpus_index):
    code = ("import sys; from index.engine import Engine; e = Engine(sys.argv[1]); "
            "r = e.search('che phu rung 2024'); print(e.embedder.model_id); print(r.answer.text)")
    out = run("-c", code, str(corpus_index))
    assert out.returncode == 0, out.stderr
    model, answer = out.stdout.splitlines()[:2]
    assert model == "intfloat/multilingual-e5-small" and "64,6%" in answer


def test_default_ingest_and_search_use_embeddinggemma(gemma_folder, tmp_path):
    """What a user gets on a fresh machine: python -m ingest, then python -m index search, no model named."""
    index = tmp_path / "index"
    out = run("-m", "ingest", str(CORPUS), "--index-dir", str(index), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["chunks_embedded"] > 500
    manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
    assert (manifest["model"], manifest["backend"], manifest["dim"]) == ("google/embeddinggemma-300m", "onnx-int8", 768)
    for question in ("chỉ tiêu che phủ rừng năm 2024", "che phu rung 2024", "What is the 2024 forest cover target?"):
        out = run("-m", "index", "search", question, "--json", "--index-dir", str(index))
        assert out.returncode == 0, out.stderr
        response = json.loads(out.stdout)
        assert response["answer"] and "64,6%" in response["answer"]["text"], (question, response["answer"])
        assert "64,6%" in response["results"][0]["text"]
