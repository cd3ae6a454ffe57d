"""What makes a large index load and answer fast: search data saved with the index, posting lists, partial top-k."""
from __future__ import annotations

import random
import shutil
from dataclasses import replace

import numpy as np

from bench.retrieval import load_qa
from bench.scale import vary
from core.text import phrase_pattern
from core.vietnamese import fold
from index import store
from index.rerank import LiteralFilter, literal_text
from index.retrieve import top_positions
from index.search import Filters, Searcher


def brute_force(chunks, needles: list[str], numbers: list[str], accent_insensitive: bool) -> list[int]:
    """Every passage holding every needle, by scanning them all (what the literal filter did before posting lists)."""
    patterns = [(phrase_pattern(p, accent_insensitive), accent_insensitive) for p in needles]
    patterns += [(phrase_pattern(n), True) for n in numbers]
    return [i for i, c in enumerate(chunks)
            if all(p.search(fold(literal_text(c)) if ins else literal_text(c).lower()) for p, ins in patterns)]


def test_posting_lists_find_exactly_what_a_full_scan_finds(engine):
    searcher = engine.searcher
    chunks, literal = searcher.chunks, searcher.literal
    rng = random.Random(7)
    checked = found = 0
    for chunk in rng.sample(chunks, 120):
        words = literal_text(chunk).split()
        start = rng.randrange(max(1, len(words) - 3))
        phrase = " ".join(words[start:start + rng.choice((1, 2, 3))])
        for insensitive in (True, False):
            query = replace(searcher.analyze(phrase), phrases=[phrase], numbers=[])
            expected = brute_force(chunks, [phrase], [], insensitive)
            assert sorted(literal.run({}, query, insensitive, None)) == expected, phrase
            checked, found = checked + 1, found + len(expected)
    assert checked == 240 and found > 240   # phrases come from passages: each is found at least where it was drawn
    numbers = sorted({n for c in chunks for n in searcher.analyze(c.text[:200]).numbers})[:20]
    assert numbers
    for number in numbers:
        query = searcher.analyze(number)
        assert sorted(literal.run({}, query, True, None)) == brute_force(chunks, [], query.numbers, True) != []


def test_unranked_matches_are_capped_after_every_ranked_one(engine):
    chunks = engine.searcher.chunks
    query = replace(engine.searcher.analyze("tỉnh"), phrases=["tỉnh"], numbers=[])
    every = brute_force(chunks, ["tỉnh"], [], True)
    ranked = {every[-1]: 2.0, every[-2]: 1.0}
    kept = LiteralFilter(chunks, engine.snapshot.search.postings, unranked=5).run(ranked, query, True, None)
    assert len(every) > 10 and list(kept) == sorted([*every[:5], every[-2], every[-1]])
    assert kept[every[-1]] == 2.0 and kept[every[0]] == 0.0


def test_a_loaded_index_reads_its_search_data_and_ranks_as_if_derived_in_memory(engine, corpus_index):
    loaded = store.load(corpus_index)
    assert (loaded.folder / "search" / "derived.pickle").exists()
    assert isinstance(loaded.search.postings.positions, np.memmap)   # memory-mapped, not rebuilt
    fresh = store.Snapshot(loaded.manifest, loaded.documents, loaded.dense)   # no folder: derived from the chunks
    assert fresh.search is not loaded.search
    on_disk, in_memory = Searcher(loaded, engine.embedder), Searcher(fresh, engine.embedder)
    questions = [q["question"] for q in load_qa()][:12]
    cases = [dict(text=q) for q in questions] + [dict(text=q, mode="phrase") for q in ("che phủ rừng", "Nghị quyết")]
    cases += [dict(text="43-NQ/TW", mode="number"), dict(text=questions[0], filters=Filters(province="Lạng Sơn"))]
    for case in cases:
        a, b = on_disk.search(**case), in_memory.search(**case)
        assert [(h.chunk.id, round(h.score, 9), [c.id for c in h.also_in]) for h in a] == \
               [(h.chunk.id, round(h.score, 9), [c.id for c in h.also_in]) for h in b], case
        assert a or case.get("mode") == "number"


def test_top_positions_are_the_highest_scores_in_order(monkeypatch):
    from index import retrieve

    rng = np.random.default_rng(3)
    for full_sort_max in (10_000, 0):   # a full sort (small indexes), a partition (large ones)
        monkeypatch.setattr(retrieve, "FULL_SORT_MAX", full_sort_max)
        for _ in range(200):
            scores = rng.integers(0, 4, size=int(rng.integers(1, 80))).astype(np.float32)
            if rng.random() < 0.5:   # mostly zeros, as a filter leaves them
                scores[rng.random(len(scores)) < 0.8] = 0
            depth = int(rng.integers(0, 90))
            top = top_positions(scores, depth)
            assert len(top) == min(depth, len(scores)) and len(set(top.tolist())) == len(top)
            assert scores[top].tolist() == sorted(scores, reverse=True)[:depth]
            if not full_sort_max:   # equal scores in position order
                assert top.tolist() == np.argsort(-scores, kind="stable")[:depth].tolist()


def test_a_variant_reads_as_another_provinces_document():
    text = "Tỉnh ủy Lạng Sơn, TỈNH LẠNG SƠN: Nghị quyết số 12-NQ/TU; thu ngân sách 7.485 tỷ đồng năm 2024, 36 xã."
    varied = vary(text, 5, "Lạng Sơn", "Cao Bằng")
    assert "Lạng Sơn" not in varied and "TỈNH CAO BẰNG" in varied and "Tỉnh ủy Cao Bằng" in varied
    assert "12-NQ/TU" not in varied and "-NQ/TU" in varied and "7.485" not in varied and "2024" not in varied
    assert vary(text, 5, "Lạng Sơn", "Cao Bằng") == varied and vary(text, 6, "Lạng Sơn", "Cao Bằng") != varied


def test_a_loaded_index_reads_chunks_only_when_asked_and_gives_them_as_written(corpus_index):
    import json

    from core.document import Chunk

    loaded = store.load(corpus_index)
    assert isinstance(loaded.chunks, store.ChunkTable) and not loaded.chunks._cache
    lines = (loaded.folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(loaded.chunks) == len(lines) > 500
    assert [loaded.chunks[i] for i in (0, 17, -1)] == [Chunk(**json.loads(lines[i])) for i in (0, 17, -1)]
    assert len(loaded.chunks._cache) == 3
    for doc in loaded.documents.values():
        assert len(doc.chunks) > 0 and {c.doc_id for c in doc.chunks} == {doc.id}
    assert sum(len(d.chunks) for d in loaded.documents.values()) == len(lines)
    assert list(loaded.chunks.faiss_ids) == [store.faiss_id(c.id) for c in loaded.chunks]


def test_a_large_dense_index_answers_unfiltered_queries_from_ivf_and_filtered_ones_exactly(tmp_path, monkeypatch):
    from index import dense as dense_module

    monkeypatch.setattr(dense_module, "ANN_MIN", 2000)
    monkeypatch.setattr(dense_module, "MMAP_MIN_BYTES", 0)   # memory-map even this small file
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((40, 64)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, 4000)] + 0.3 * rng.standard_normal((4000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [int(i) * 11 + 3 for i in range(4000)]
    built = dense_module.DenseIndex(64)
    built.add(ids, vectors)
    built.save(tmp_path / "dense.faiss")
    assert (tmp_path / "dense.ivf").exists()
    loaded = dense_module.DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.ann is not None and loaded.ann.nlist == 63
    queries = vectors[:100] + 0.2 * rng.standard_normal((100, 64)).astype(np.float32)
    recall = np.mean([len({i for i, _ in loaded.search(q, 10)} & {i for i, _ in loaded.search(q, 10, exact=True)}) / 10
                      for q in queries])
    assert recall >= 0.99
    allowed = ids[::7]
    for q in queries[:10]:
        exact = sorted(((float(vectors[ids.index(i)] @ q), i) for i in allowed), reverse=True)[:5]
        assert [i for i, _ in loaded.search(q, 5, allowed)] == [i for _, i in exact]
    assert np.allclose(loaded.vector(ids[17]), vectors[17])
    small = dense_module.DenseIndex(64)
    small.add(ids[:1000], vectors[:1000])
    small.save(tmp_path / "small.faiss")
    assert not (tmp_path / "small.ivf").exists() and dense_module.DenseIndex.load(tmp_path / "small.faiss").ann is None


def test_an_index_saved_with_ivf_searches_through_it_like_the_exact_one(hand_index, fake_embedder, tmp_path, monkeypatch):
    from index import dense as dense_module

    exact = store.load(hand_index)
    monkeypatch.setattr(dense_module, "ANN_MIN", 1)
    store.save(store.Snapshot(exact.manifest, exact.documents, exact.dense), tmp_path)   # the same chunks, IVF beside
    with_ivf = store.load(tmp_path)
    assert exact.dense.ann is None and with_ivf.dense.ann is not None
    assert with_ivf.dense.ann.nlist < dense_module.NPROBE   # this small, every list is probed: the same ranking
    a, b = Searcher(exact, fake_embedder), Searcher(with_ivf, fake_embedder)
    for question in ("tỷ lệ che phủ rừng", "kết nạp đảng viên mới", "Nghị quyết 43-NQ/TW"):
        assert [(h.chunk.id, round(h.score, 9)) for h in a.search(question)] == \
               [(h.chunk.id, round(h.score, 9)) for h in b.search(question)]


def test_bm25_and_posting_lists_built_passage_by_passage_equal_bm25s_and_a_full_sort(engine, tmp_path):
    import bm25s

    from index.lexical import LexicalBuilder, LexicalIndex, PostingsBuilder, syllables, tokens
    from index.retrieve import lexical_texts

    chunks = list(engine.searcher.chunks)
    texts = lexical_texts(chunks)
    vocab: dict[str, int] = {}
    ids = [np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens(x, exact=True) or [""]), dtype=np.int32) for x in texts]
    reference = bm25s.BM25()
    reference.index((ids, vocab), show_progress=False)
    built = LexicalBuilder()
    for text in texts:
        built.add(text)
    built.finish(tmp_path / "bm25")
    saved = LexicalIndex.load(tmp_path / "bm25")   # as bm25s reads it
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(saved.bm25.scores[name], reference.scores[name]), name
    assert saved.bm25.vocab_dict == reference.vocab_dict
    lists = PostingsBuilder()
    for chunk in chunks:
        lists.add(literal_text(chunk))
    from index import lexical
    columns = np.frombuffer(lists.columns, dtype=np.int32)
    rows = np.repeat(np.arange(len(chunks), dtype=np.int32), np.diff(np.frombuffer(lists.ends, dtype=np.int64), prepend=0))
    expected = rows[np.argsort(columns, kind="stable")]
    for batch in (1 << 22, 1000, 7):   # column by column, a batch of pairs at a time
        out = np.empty(len(columns), dtype=np.int32)
        starts = lexical.invert(columns, np.frombuffer(lists.ends, dtype=np.int64), len(lists.vocab), out, batch=batch)
        assert np.array_equal(out, expected) and starts[-1] == len(columns)
    word = syllables(chunks[3].text)[0]
    assert np.array_equal(lists.finish().get(word), [i for i, c in enumerate(chunks) if word in syllables(literal_text(c))])


def test_ingest_in_small_batches_writes_the_index_one_batch_writes(corpus_copy, fake_embedder, tmp_path, monkeypatch):
    from index.build import _Stream, ingest

    calls = []

    class Counting(type(fake_embedder)):
        def embed_passages(self, texts):
            calls.append(len(texts))
            return super().embed_passages(texts)

    shutil.copyfile(corpus_copy / "001_1a7c978e25c4247f.txt", corpus_copy / "zz-copy.txt")   # the same texts again
    whole = ingest([corpus_copy], Counting(), tmp_path / "whole")
    embedded_whole, calls[:] = sum(calls), []
    monkeypatch.setattr(_Stream, "FLUSH", 3)
    monkeypatch.setattr(_Stream, "QUEUE", 5)
    small = ingest([corpus_copy], Counting(), tmp_path / "small")
    assert len(calls) > 20 and sum(calls) == embedded_whole == small.chunks_embedded == whole.chunks_embedded
    a, b = store.load(tmp_path / "whole"), store.load(tmp_path / "small")
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks] and len(a.chunks) > 500
    assert small.chunks_embedded < len(b.chunks)   # the copy's passages: embedded once, in another batch
    assert np.array_equal(store.vectors_of(a.dense, a.chunks), store.vectors_of(b.dense, b.chunks))
    assert (a.folder / "chunks.jsonl").read_bytes() == (b.folder / "chunks.jsonl").read_bytes()
    # a changed file, in small batches: its new passage embedded, every other vector the old index's
    path = corpus_copy / "003_25c15fb9f0684aa2.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("trên 37,7%", "trên 38,1%"), encoding="utf-8")
    calls[:] = []
    again = ingest([corpus_copy], Counting(), tmp_path / "small")
    assert (again.updated, again.unchanged, again.chunks_embedded, sum(calls)) == (1, 5, 1, 1)
    c = store.load(tmp_path / "small")
    changed = [i for i, (x, y) in enumerate(zip(b.chunks, c.chunks)) if x.id != y.id]
    assert len(changed) == 1 and "38,1%" in c.chunks[changed[0]].text
    same = [i for i in range(len(c.chunks)) if i not in changed]
    assert np.array_equal(store.vectors_of(b.dense, [b.chunks[i] for i in same]), store.vectors_of(c.dense, [c.chunks[i] for i in same]))


def test_filters_ask_the_catalogue_and_accept_what_a_scan_of_every_document_accepts(engine):
    from core.vietnamese import fold

    searcher = engine.searcher
    documents = list(searcher.snapshot.documents.values())
    provinces = sorted({d.meta.province for d in documents if d.meta.province}) + ["Hà Giang", "lạng sơn"]
    types = sorted({d.meta.type for d in documents if d.meta.type}) + ["Luật"]
    cases = [Filters(province=p) for p in provinces] + [Filters(type=t) for t in types]
    cases += [Filters(year=y) for y in (2020, 2023, 2024, 2025, 2030, 202, 12345)]
    cases += [Filters(province=provinces[0], year=2024), Filters(type=types[0], year=2023), Filters(doc=documents[1].id),
              Filters(doc="nothing"), Filters(not_docs=frozenset([documents[0].id])), Filters(province="", type=fold(types[0]))]
    found = 0
    for filters in cases:
        expected = [d.id for d in documents if filters.accepts(d)]
        assert [d.id for d in searcher.accepted(filters)] == expected, filters
        assert searcher.allowed(filters) == [i for i, c in enumerate(searcher.chunks) if c.doc_id in set(expected)]
        found += bool(expected)
    assert found >= len(cases) // 2


def test_literal_texts_read_partly_and_folded_at_once_are_what_fold_gives(corpus_index):
    from index.rerank import fold_joined

    loaded = store.load(corpus_index)
    positions = list(range(0, len(loaded.chunks), 7))
    parts = loaded.chunks.literal_parts(positions)
    assert not loaded.chunks._cache   # read without parsing whole chunks
    assert parts == [(loaded.chunks[i].section, loaded.chunks[i].text) for i in positions]
    texts = [literal_text(loaded.chunks[i]) for i in positions] + ["ĐIỀU 5. Ủy ban — «Hà Nội» ½ ǅ ẞ 😀 Ωμέγα"]
    folded, ends = fold_joined("\x00".join(texts))
    assert folded.split("\x00") == [fold(t) for t in texts] and len(ends) == len(texts) - 1


def test_bm25_within_a_filter_scores_its_passages_as_a_full_scoring_does(engine):
    lexical = engine.searcher.lexical.index
    rng = np.random.default_rng(11)
    checked = 0
    for question in [q["question"] for q in load_qa()][:15] + ["tỉnh", "của các"]:
        full = lexical.scores(question)
        for share in (0.01, 0.1, 0.5):
            within = np.flatnonzero(rng.random(len(full)) < share)
            expected = np.zeros_like(full)
            expected[within] = full[within]
            assert np.array_equal(lexical.scores(question, within), expected), (question, share)
            checked += bool(expected.any())
    assert checked > 30


def test_a_filter_searches_the_rows_of_an_index_written_in_order_as_it_searches_their_ids(engine, corpus_index):
    loaded = store.load(corpus_index)
    searcher = Searcher(loaded, engine.embedder)
    dense = searcher.dense
    assert dense.by_row   # written in chunk order
    rng = np.random.default_rng(2)
    for question in [q["question"] for q in load_qa()][:8]:
        vector = engine.embedder.embed_query(question)
        rows = np.flatnonzero(rng.random(len(loaded.chunks)) < 0.2)
        by_id = loaded.dense.search(vector, 20, [dense.faiss_ids[i] for i in rows])
        assert [(dense.faiss_ids[r], s) for r, s in loaded.dense.search_rows(vector, 20, rows)] == by_id and len(by_id) == 20
    filters = [Filters(province="Lạng Sơn"), Filters(year=2024), Filters(doc=next(iter(loaded.documents)))]
    fast = [[(h.chunk.id, h.score) for h in searcher.search(q["question"], filters=f)] for q in load_qa()[:6] for f in filters]
    dense.by_row = False   # ids looked up in a set, as before
    assert fast == [[(h.chunk.id, h.score) for h in searcher.search(q["question"], filters=f)] for q in load_qa()[:6] for f in filters]
    assert sum(map(len, fast)) > 50
