"""EmbeddingGemma on ONNX Runtime against the sentence-transformers reference, Matryoshka sizes, index refusal."""
from __future__ import annotations

import json

import numpy as np
import pytest

from index.embed.models import GEMMA, hash_list
from index.embed.verify import list_digest

from .conftest import EN_TEXTS, VI_TEXTS

# Measured (python -m bench embed --model embeddinggemma-300m, BENCHMARKS.md): fp32 is the same
# computation (cosine 1.00000); int8 per token stays above MIN_COS_INT8 on corpus passages and queries.
MIN_COS_FP32 = 0.9999
MIN_COS_INT8 = 0.99
QUERIES = ["what is the forest cover target?", "tỷ lệ che phủ rừng", "ty le che phu rung", "số đảng viên mới"]


@pytest.fixture(scope="module")
def source(gemma_folder):
    return gemma_folder


@pytest.fixture(scope="module")
def reference(source):
    from index.embed import load_embedder

    e = load_embedder(GEMMA.name, "torch")
    texts = VI_TEXTS + EN_TEXTS
    return texts, e.embed_passages(texts), np.stack([e.embed_query(q) for q in QUERIES])


@pytest.fixture(scope="module")
def int8(source):
    from index.embed import load_embedder

    return load_embedder(GEMMA.name)   # the default backend for this model: onnx, int8


@pytest.mark.parametrize("variant, threshold", [("fp32", MIN_COS_FP32), ("int8", MIN_COS_INT8)])
def test_onnx_agrees_with_sentence_transformers(source, reference, variant, threshold):
    from index.embed import load_embedder

    texts, ref_p, ref_q = reference
    e = load_embedder(GEMMA.name, f"onnx-{variant}")
    assert (e.model_id, e.backend, e.dim) == (GEMMA.model_id, f"onnx-{variant}", 768)
    assert (e.query_prompt, e.passage_prompt) == ("task: search result | query: ", "title: none | text: ")
    p = e.embed_passages(texts)
    q = np.stack([e.embed_query(x) for x in QUERIES])
    assert p.dtype == np.float32 and np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-5)
    assert (p * ref_p).sum(1).min() >= threshold
    assert (q * ref_q).sum(1).min() >= threshold
    # every query finds the same best passage as through sentence-transformers
    assert list(np.argmax(q @ p.T, axis=1)) == list(np.argmax(ref_q @ ref_p.T, axis=1))


def test_int8_vector_barely_depends_on_the_batch(int8):
    """Padded beside a long text, a passage's int8 vector moves a little (measured 0.9973, cause not found
    yet: per-token scales alone should make it exact); it must stay within the agreement threshold."""
    alone = int8.embed_passages([VI_TEXTS[1]])[0]
    batched = int8.embed_passages([VI_TEXTS[2] * 8, VI_TEXTS[1], EN_TEXTS[0]])[1]
    assert float(alone @ batched) >= MIN_COS_INT8


def test_long_text_beyond_the_sliding_window(source, int8):
    """> 512 tokens: the sliding-window layers' mask is built in the graph; it must match the reference."""
    from index.embed import load_embedder

    long = " ".join(VI_TEXTS * 40)
    assert len(int8._tok.encode(long).ids) > 600
    ref = load_embedder(GEMMA.name, "torch").embed_passages([long])[0]
    assert float(load_embedder(GEMMA.name, "onnx-fp32").embed_passages([long])[0] @ ref) >= MIN_COS_FP32
    assert float(int8.embed_passages([long])[0] @ ref) >= MIN_COS_INT8


def test_matryoshka_256_is_the_renormalised_prefix(int8):
    from index.embed import load_embedder

    small = load_embedder(f"{GEMMA.name}@256")
    assert (small.model_id, small.dim) == (f"{GEMMA.model_id}@256", 256)
    full = int8.embed_passages(VI_TEXTS)
    cut = small.embed_passages(VI_TEXTS)
    prefix = full[:, :256] / np.linalg.norm(full[:, :256], axis=1, keepdims=True)
    assert cut.shape == (len(VI_TEXTS), 256) and np.allclose(cut, prefix, atol=1e-5)
    with pytest.raises(ValueError, match="one of"):
        load_embedder(f"{GEMMA.name}@300")


def test_export_is_rebuilt_when_the_source_changes(source, int8):
    from index.embed.gemma_export import MARKER, export_is_current

    digest = list_digest(hash_list(GEMMA))
    assert export_is_current(int8.folder, digest, "int8")
    assert not export_is_current(int8.folder, "another-source", "int8")
    assert not export_is_current(int8.folder, digest, "fp32")
    assert json.loads((int8.folder / MARKER).read_text())["source_hash_list"] == digest


def test_an_index_built_with_another_model_or_size_is_refused(tmp_path, source, int8):
    from index import store
    from index.build import ingest
    from index.embed import load_embedder

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rung.txt").write_text("\n".join(VI_TEXTS), encoding="utf-8")
    index = tmp_path / "index"
    ingest([corpus], load_embedder("e5-small"), index)
    with pytest.raises(store.ModelMismatch, match="re-ingest") as e:
        ingest([corpus], int8, index)
    assert "intfloat/multilingual-e5-small" in str(e.value) and GEMMA.model_id in str(e.value)

    ingest([corpus], int8, tmp_path / "gemma")
    manifest = store.load(tmp_path / "gemma").manifest
    assert (manifest["model"], manifest["backend"], manifest["dim"]) == (GEMMA.model_id, "onnx-int8", 768)
    with pytest.raises(store.ModelMismatch, match=f"{GEMMA.model_id}@256.*re-ingest"):
        store.load(tmp_path / "gemma").check_model(load_embedder(f"{GEMMA.name}@256").model_id)
