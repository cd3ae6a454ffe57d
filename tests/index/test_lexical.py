from pathlib import Path

import numpy as np

from index.lexical import LexicalIndex, doc_numbers, tokens


def test_document_numbers_are_whole_tokens():
    assert doc_numbers("Nghị quyết số 43-NQ/TW và Quyết định 236/QĐ-TTg, 04-CTr/TU") == ["43-nq/tw", "236/qd-ttg", "04-ctr/tu"]
    assert "43-nq/tw" in tokens("Nghị quyết số 43-NQ/TW")


def test_tokens_fold_accents_and_pair_syllables():
    toks = tokens("che phủ rừng đạt 64,6%")
    assert {"che", "phu", "rung", "che_phu", "phu_rung", "64,6"} <= set(toks)
    assert "=phủ" in toks                                 # the spelling as written, for queries with accents
    assert "=phu" not in tokens("che phu rung")           # no accents typed: nothing exact to prefer


def test_bm25_matches_with_and_without_diacritics():
    index = LexicalIndex(["Tỷ lệ che phủ rừng đạt 64,6%.", "Kết nạp mới 2.000 đảng viên.", "Nghị quyết số 43-NQ/TW"])
    for query in ("che phủ rừng", "che phu rung", "CHE PHU RUNG"):
        assert index.scores(query).argmax() == 0
    assert index.scores("43-NQ/TW").argmax() == 2
    assert not index.scores("xyzzy").any()


def test_exact_accents_rank_the_written_word_first():
    index = LexicalIndex(["giàu có phú quý", "che phủ đồi trọc"])
    assert index.scores("phủ").argmax() == 1
    assert index.scores("phú").argmax() == 0


def test_bm25_built_from_token_ids_scores_as_built_from_tokens():
    import bm25s

    from core.text import normalize
    texts = [normalize(p) for f in sorted(Path(__file__).resolve().parents[2].joinpath("corpus").glob("*.txt"))
             for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()] + [""]
    reference = bm25s.BM25()
    reference.index([tokens(t, exact=True) or [""] for t in texts], show_progress=False)
    index = LexicalIndex(texts)
    for query in ("che phủ rừng", "tang truong kinh te GRDP", "43-NQ/TW", "Nghị quyết số", "đảng viên mới"):
        query_tokens = [t for t in tokens(query) if t in reference.vocab_dict]
        assert np.array_equal(index.scores(query), reference.get_scores(query_tokens)), query
