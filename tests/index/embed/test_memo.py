"""The remembering embedder: a query embedded once is not embedded again while recent; ingest text is never kept."""
import numpy as np

from index.embed.memo import Remembering, remembering


class Counting:
    """The real model, counting the queries it embeds."""

    def __init__(self, embedder):
        self.inner, self.queries = embedder, []
        self.model_id, self.backend, self.dim = embedder.model_id, embedder.backend, embedder.dim

    def embed_query(self, text):
        self.queries.append(text)
        return self.inner.embed_query(text)

    def embed_passages(self, texts):
        return self.inner.embed_passages(texts)


def test_a_recent_query_is_not_embedded_again_and_old_ones_are_forgotten(embedder):
    counting = Counting(embedder)
    memo = Remembering(counting, size=2)
    first = memo.embed_query("che phủ rừng")
    assert np.array_equal(memo.embed_query("che phủ rừng"), first) and counting.queries == ["che phủ rừng"]
    assert np.allclose(first, embedder.embed_query("che phủ rừng"))
    memo.embed_query("du lịch")
    memo.embed_query("ngân sách")      # the oldest ("che phủ rừng") is forgotten
    memo.embed_query("che phủ rừng")
    assert counting.queries == ["che phủ rừng", "du lịch", "ngân sách", "che phủ rừng"]


def test_passages_pass_through_and_wrapping_twice_is_wrapping_once(embedder):
    memo = remembering(embedder)
    assert remembering(memo) is memo and (memo.model_id, memo.dim) == (embedder.model_id, embedder.dim)
    assert np.allclose(memo.embed_passages(["Trồng rừng mới 9.000 ha"]), embedder.embed_passages(["Trồng rừng mới 9.000 ha"]))
