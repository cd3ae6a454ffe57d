"""Each search stage on its own, then the stages together, over the hand-made corpus (tests/index/conftest.py)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.document import Chunk, Features, Metadata
from index.answer import answer
from index.features import features_of
from index.fuse import Joiner, dedupe
from index.ranking import DEFAULT
from index.rerank import LiteralFilter, boost_kind, boost_scope, named_scopes, penalise_asides, signature_first
from index.search import Filters


def chunk(text: str, doc: str = "d1", section=None, **features) -> Chunk:
    return Chunk(doc_id=doc, text=text, section=section or [], line_start=1, line_end=1, embed_text=text,
                 features=Features(**features))


# ---- features (computed once at ingest) --------------------------------------------------------------

def test_features_name_the_kind_scope_and_words_of_a_passage():
    meta = Metadata(title="Nghị quyết về nhiệm vụ năm 2024", province="Lạng Sơn", issuer="Tỉnh ủy Lạng Sơn")
    line = chunk("(3) Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%.", section=["2. Các chỉ tiêu môi trường"])
    features = features_of(line, meta)
    assert features.kinds == ["number"] and not features.aside
    assert features.scope == ["lang son", "2024"]
    assert {"rung", "che", "phu", "2024", "moi", "truong"} <= set(features.words)
    assert "rừng" in features.words_exact and "rung" not in features.words_exact
    aside = features_of(chunk("- Lưu Văn phòng Tỉnh ủy.", section=["Nơi nhận"]), meta)
    signature = features_of(chunk("Nguyễn Quốc Đoàn", section=["Chữ ký"]), meta)
    assert aside.aside and signature.kinds == ["who", "signer"]


def test_features_are_stored_with_the_index(hand_engine):
    forest = next(c for c in hand_engine.snapshot.chunks if "37,7%" in c.text)
    assert forest.features.scope[0] == "bac giang" and "number" in forest.features.kinds


# ---- fusion and dedupe ---------------------------------------------------------------------------------

def test_rrf_joiner_rewards_agreement_and_respects_weights():
    dense, lexical = {1: 0.9, 2: 0.5}, {2: 3.0, 3: 1.0}
    fused = Joiner("rrf", k=60).run([dense, lexical], (1.0, 1.0))
    assert max(fused, key=fused.get) == 2                       # second in one, first in the other
    assert fused[1] == pytest.approx(1 / 61) and fused[2] == pytest.approx(1 / 62 + 1 / 61)
    only_dense = Joiner("rrf").run([dense, lexical], (1.0, 0.0))
    assert set(only_dense) == {1, 2}


def test_minmax_joiner_scales_scores_within_each_ranking():
    fused = Joiner("minmax").run([{1: 10.0, 2: 5.0, 3: 0.0}], (2.0,))
    assert fused == {1: 2.0, 2: 1.0, 3: 0.0}
    with pytest.raises(ValueError, match="unknown fusion"):
        Joiner("mean")


def test_dedupe_keeps_one_passage_and_lists_other_documents_once():
    keys = ["a", "a", "a", "b"]
    docs = ["d1", "d2", "d2", "d1"]
    kept = dedupe([(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)], keys, docs)
    assert kept == [(0, 0.9, [1]), (3, 0.6, [])]


# ---- rerank steps ----------------------------------------------------------------------------------------

def test_rerank_steps_each_change_only_their_passages():
    chunks = [chunk("a", aside=True), chunk("b", scope=["lang son", "2024"], kinds=["number"]),
              chunk("c", doc="d2", scope=["bac giang"]), chunk("Nguyễn Văn A", doc="d2", kinds=["who", "signer"])]
    scores = {0: 1.0, 1: 1.0, 2: 1.0}
    assert penalise_asides(scores, chunks, 0.5) == {0: 0.5, 1: 1.0, 2: 1.0}
    assert boost_scope(scores, chunks, {"lang son", "2024"}, 1.25) == {0: 1.0, 1: 1.5625, 2: 1.0}
    assert boost_scope(scores, chunks, set(), 1.25) is scores
    assert boost_kind(scores, chunks, "number", 1.25) == {0: 1.0, 1: 1.25, 2: 1.0}
    first = signature_first({0: 0.2, 2: 0.9}, chunks, {"d2": 3}, pool=5, margin=1.01)
    assert max(first, key=first.get) == 3 and first[3] == pytest.approx(0.909)


def test_named_scopes_are_whole_words_of_the_question():
    known = {"lang son", "bac giang", "2024"}
    assert named_scopes("Tỷ lệ che phủ rừng Lạng Sơn năm 2024?", known) == {"lang son", "2024"}
    assert named_scopes("bắc giang2024", known) == set()


def test_literal_filter_needs_every_phrase_and_keeps_unranked_matches(hand_engine):
    searcher = hand_engine.searcher
    literal = LiteralFilter(searcher.chunks)
    query = replace(searcher.analyze('"che phu rung dat tren"'), phrases=["che phu rung dat tren"])
    kept = literal.run({}, query, accent_insensitive=True, allowed=None)
    assert [searcher.chunks[i].text for i in kept] == ["(1) Tỷ lệ che phủ rừng đạt trên 37,7%."]
    assert literal.run({}, query, accent_insensitive=False, allowed=None) == {}   # accents must match now
    number = searcher.analyze("43-NQ/TW")
    assert [searcher.chunks[i].features.scope[0] for i in literal.run({}, number, True, None)] == ["lang son"]
    assert literal.run({0: 1.0}, replace(query, phrases=[""]), True, None) == {}   # nothing to look for


# ---- retrievers --------------------------------------------------------------------------------------------

def test_each_retriever_ranks_the_forest_line_and_honours_filters(hand_engine):
    searcher = hand_engine.searcher
    query = searcher.analyze("tỷ lệ che phủ rừng năm 2024")
    forest = {i for i, c in enumerate(searcher.chunks) if "che phủ rừng" in c.text}
    for ranking in (searcher.dense.run(query, None), searcher.lexical.run(query, None)):
        assert max(ranking, key=ranking.get) in forest
    bac_giang = searcher.allowed(Filters(province="Bắc Giang"))
    assert {searcher.chunks[i].doc_id for i in bac_giang} == {searcher.chunks[bac_giang[0]].doc_id}
    assert set(searcher.lexical.run(query, bac_giang)) <= set(bac_giang)
    assert set(searcher.dense.run(query, bac_giang)) <= set(bac_giang)
    cover = searcher.coverage.run(query, forest, set())
    assert all(0.0 < c <= 1.0 for c in cover.values())
    named = named_scopes("che phủ rừng Bắc Giang", searcher.known_scopes)
    with_province = searcher.coverage.run(searcher.analyze("che phủ rừng Bắc Giang"), forest, named)
    without = searcher.coverage.run(searcher.analyze("che phủ rừng"), forest, set())
    assert with_province == without                              # the named province does not count as coverage


# ---- all stages together, and the answer ------------------------------------------------------------------

def test_search_puts_the_named_province_first_and_folds_copies(hand_engine):
    hits = hand_engine.searcher.search("tỷ lệ che phủ rừng Lạng Sơn 2024")
    assert "64,6%" in hits[0].chunk.text and len(hits[0].also_in) == 1      # the Council states it too
    hits = hand_engine.searcher.search("tỷ lệ che phủ rừng Bắc Giang 2024")
    assert "37,7%" in hits[0].chunk.text


def test_answer_lists_the_other_province_and_the_decision_refuses_what_no_passage_says(hand_engine):
    searcher = hand_engine.searcher
    query = searcher.analyze("tỷ lệ che phủ rừng Lạng Sơn năm 2024")
    found = answer(query, searcher.search(query.text, 10, query=query))
    assert "64,6%" in found.text and len(found.sources) == 2
    assert [s for _, s in found.others] == ["Tỷ lệ che phủ rừng đạt trên 37,7%."]
    unknown = searcher.analyze("số giường bệnh trên vạn dân năm 2019")
    hits = searcher.search(unknown.text, 10, query=unknown)
    verdict = hand_engine.decision.decide(unknown, hits, searcher.scope(unknown))
    assert hits and not verdict.answers and verdict.probability < hand_engine.decision.threshold


def test_a_ranking_config_variant_changes_the_ranking(hand_engine):
    question = "khách du lịch"
    before = hand_engine.searcher.search(question)
    assert any(h.lexical is None for h in before)                # the dense ranking brings passages BM25 misses
    try:
        hand_engine.configure(replace(DEFAULT, weights={lang: (0.0, 1.0, 0.0) for lang in DEFAULT.weights}))
        lexical_only = hand_engine.searcher.search(question)
        assert lexical_only and all(h.lexical for h in lexical_only)
    finally:
        hand_engine.configure(DEFAULT)
    assert [h.chunk.id for h in hand_engine.searcher.search(question)] == [h.chunk.id for h in before]


def test_the_engine_returns_typed_results_and_refuses_empty_queries(hand_engine):
    response = hand_engine.search("che phu rung Bac Giang 2024")
    assert response.lang == "vi_nodiac" and response.restored
    assert response.answer and "37,7%" in response.answer.text
    assert response.results[0].doc.province == "Bắc Giang" and response.results[0].line_start > 0
    for bad in ('""', "   ", "?!"):
        with pytest.raises(ValueError):
            hand_engine.search(bad)


def test_the_year_filter_reads_the_year_metadata_found():
    """A law whose only year is in its number (91/2015/QH13) is a 2015 document for the filter."""
    from core.document import Document, Metadata
    from index.search import Filters

    law = Document("a", "luat.txt", "x", "BỘ LUẬT DÂN SỰ", Metadata(title="Bộ luật Dân sự", number="91/2015/QH13", year=2015))
    assert Filters(year=2015).accepts(law) and not Filters(year=2016).accepts(law)
