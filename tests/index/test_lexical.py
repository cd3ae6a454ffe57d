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
