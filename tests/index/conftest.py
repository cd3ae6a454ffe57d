"""A hand-made corpus of three short documents indexed with a small fake embedder: stage tests that run in seconds."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from core.vietnamese import fold

LANG_SON = """TỈNH ỦY LẠNG SƠN

Lạng Sơn, ngày 06 tháng 12 năm 2023

NGHỊ QUYẾT

Về nhiệm vụ năm 2024

I- CÁC CHỈ TIÊU CHỦ YẾU

1. Các chỉ tiêu kinh tế

(1) Tốc độ tăng trưởng kinh tế (GRDP): 7 - 7,5%.

(2) Lượng khách du lịch đạt 4.060 nghìn lượt.

2. Các chỉ tiêu môi trường

(3) Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.

II- TỔ CHỨC THỰC HIỆN

Ban Thường vụ Tỉnh ủy lãnh đạo, chỉ đạo triển khai thực hiện Nghị quyết số 43-NQ/TW.

Nơi nhận:

- Ban Thường vụ Tỉnh ủy,

- Lưu Văn phòng Tỉnh ủy.

T/M TỈNH ỦY

BÍ THƯ

Nguyễn Quốc Đoàn
"""

HOI_DONG = """HỘI ĐỒNG NHÂN DÂN TỈNH LẠNG SƠN

Lạng Sơn, ngày 08 tháng 12 năm 2023

NGHỊ QUYẾT

Về kế hoạch phát triển kinh tế - xã hội năm 2024

1. Các chỉ tiêu môi trường

- Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.

- Tỷ lệ chất thải rắn ở đô thị được thu gom đạt 95%.
"""

BAC_GIANG = """TỈNH ỦY BẮC GIANG

Bắc Giang, ngày 10 tháng 12 năm 2023

NGHỊ QUYẾT

Về nhiệm vụ lãnh đạo năm 2024

I- MỤC TIÊU

(1) Tỷ lệ che phủ rừng đạt trên 37,7%.

(2) Lượng khách du lịch đạt 3.000 nghìn lượt.
"""

DOCUMENTS = {"lang-son.txt": LANG_SON, "hoi-dong.txt": HOI_DONG, "bac-giang.txt": BAC_GIANG}


class FakeEmbedder:
    """Hashed bags of folded syllables and syllable pairs: similar wording gives similar vectors, instantly."""

    model_id, backend, dim = "test/hashed-words", "fake", 256

    def _vector(self, text: str) -> np.ndarray:
        words = re.findall(r"\w+", fold(text))
        vector = np.zeros(self.dim, dtype=np.float32)
        for token in words + [f"{a}_{b}" for a, b in zip(words, words[1:])]:
            vector[int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        return vector / (np.linalg.norm(vector) or 1.0)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def hand_index(tmp_path_factory, fake_embedder):
    """The three documents above, ingested (real cleaning, metadata, chunks, FAISS, BM25) with the fake embedder."""
    from index.build import ingest

    folder = tmp_path_factory.mktemp("hand") / "hand"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    index = folder.parent / "index"
    summary = ingest([folder], fake_embedder, index)
    assert summary.added == 3 and not summary.errors, summary
    return index


@pytest.fixture(scope="session")
def hand_engine(hand_index, fake_embedder):
    from index.engine import Engine

    return Engine(hand_index, fake_embedder)
