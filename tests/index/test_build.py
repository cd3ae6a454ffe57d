"""Incremental ingest against a copy of the session index: exact counts, removals, bad files, crashes."""
import shutil

import numpy as np
import pytest

from index import store
from index.dense import DenseIndex
from index.build import ingest


@pytest.fixture
def workspace(tmp_path, corpus_index, corpus_copy):
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    return corpus_copy, index


def texts_of(index, source_suffix):
    snap = store.load(index)
    return [c.text for d in snap.documents.values() if d.source.endswith(source_suffix) for c in d.chunks]


def test_unchanged_corpus_embeds_nothing(workspace, embedder):
    corpus, index = workspace
    version = (index / "CURRENT").read_text()
    summary = ingest([corpus], embedder, index)
    assert (summary.unchanged, summary.added, summary.updated, summary.removed, summary.chunks_embedded) == (5, 0, 0, 0, 0)
    assert (index / "CURRENT").read_text() == version  # nothing changed, nothing rewritten


def test_changed_line_re_embeds_only_that_chunk(workspace, embedder):
    corpus, index = workspace
    path = corpus / "003_25c15fb9f0684aa2.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("trên 37,7%", "trên 38,1%"), encoding="utf-8")
    summary = ingest([corpus], embedder, index)
    assert (summary.updated, summary.unchanged, summary.chunks_embedded) == (1, 4, 1)
    assert "(13) Tỷ lệ che phủ rừng đạt trên 38,1%." in texts_of(index, "003_25c15fb9f0684aa2.txt")


def test_added_and_removed_files(workspace, embedder):
    corpus, index = workspace
    (corpus / "new.txt").write_text("NGHỊ QUYẾT\n\nI- MỤC TIÊU\n\n(1) Trồng mới 500 ha rừng ngập mặn.\n", encoding="utf-8")
    (corpus / "000_40b5a0639ebd00a3.txt").unlink()
    summary = ingest([corpus], embedder, index)
    snap = store.load(index)
    [new] = [d for d in snap.documents.values() if d.source.endswith("new.txt")]
    assert (summary.added, summary.removed, summary.unchanged) == (1, 1, 4)
    assert summary.chunks_embedded == len(new.chunks) == 2   # the heading line and the target line
    assert len(snap.documents) == 5 and len(snap.dense) == len(snap.chunks)
    assert not any(d.source.endswith("000_40b5a0639ebd00a3.txt") for d in snap.documents.values())


def test_a_new_document_repeating_a_passage_is_embedded_once_and_both_keep_the_vector(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    line = "- Báo cáo kết quả thực hiện về Sở Nội vụ trước ngày 15/12."
    (docs / "plan.txt").write_text(f"KẾ HOẠCH\n\nI. NHIỆM VỤ\n\n{line}\n\n- Trồng rừng mới 500 ha.\n\n{line}\n", encoding="utf-8")
    summary = ingest([docs], embedder, tmp_path / "index")
    snap = store.load(tmp_path / "index")
    twice = [c for c in snap.chunks if c.text == line]
    assert len(twice) == 2 and twice[0].embed_text == twice[1].embed_text
    assert summary.chunks_embedded == len(snap.chunks) - 1 == len(snap.dense) - 1
    first, second = store.vectors_of(snap.dense, twice)
    assert np.array_equal(first, second)
    assert np.allclose(first, embedder.embed_passages([twice[0].embed_text])[0], atol=1e-4)


def test_bad_files_are_reported_and_lose_nothing(workspace, embedder):
    corpus, index = workspace
    before = store.load(index)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "junk.txt").write_bytes(bytes(range(256)) * 10)
    (corpus / "photo.exe").write_bytes(b"MZ")
    good = corpus / "003_25c15fb9f0684aa2.txt"
    good.write_bytes(b"\x00\x01binary now")          # an indexed file that went bad keeps its indexed version
    summary = ingest([corpus], embedder, index)
    reasons = {e["path"].split("/")[-1]: e["reason"] for e in summary.errors}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["junk.txt"]
    assert "unsupported" in reasons["photo.exe"]
    assert "binary" in reasons["003_25c15fb9f0684aa2.txt"]
    after = store.load(index)
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]


def test_interrupted_write_leaves_the_previous_index(workspace, embedder, monkeypatch):
    corpus, index = workspace
    (corpus / "000_40b5a0639ebd00a3.txt").unlink()

    def crash(self, path):
        raise KeyboardInterrupt("power cut while writing")

    monkeypatch.setattr(DenseIndex, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus], embedder, index)
    monkeypatch.undo()
    snap = store.load(index)
    assert len(snap.documents) == 5 and any(d.source.endswith("000_40b5a0639ebd00a3.txt") for d in snap.documents.values())
    assert ingest([corpus], embedder, index).removed == 1   # and the next ingest works


def test_an_index_built_with_another_model_is_refused(workspace, embedder):
    corpus, index = workspace

    class Other:
        model_id, backend, dim = "some/other-model", "test", 384

    with pytest.raises(store.ModelMismatch, match="re-ingest"):
        ingest([corpus], Other(), index)
