"""The versioned store: superseded versions outlive a grace period, and loads never see a half-removed version."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from index import store
from tests.conftest import version_writer


def versions(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("v"))


def test_superseded_version_is_kept_for_the_grace_period_then_pruned(corpus_index, tmp_path):
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    first = store.load(root)
    old = first.manifest["version"]
    new = store.save(first, root).name
    assert versions(root) == sorted([old, new])                   # the old one is still there for readers
    assert (root / old / "SUPERSEDED").exists() and not (root / new / "SUPERSEDED").exists()
    assert store.prune(root, keep=new) == []                      # within the grace period: nothing goes
    assert store.prune(root, keep=new, now=time.time() + store.GRACE_SECONDS + 1) == [old]
    assert versions(root) == [new] and store.load(root).manifest["version"] == new


def test_unfinished_and_never_live_versions_are_pruned_at_once(corpus_index, tmp_path):
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    (root / ".tmp-v1").mkdir()                                    # a writer killed before its rename
    (root / "v1").mkdir()                                         # killed after the rename, before CURRENT
    live = store.load(root).manifest["version"]
    assert sorted(store.prune(root, keep=live)) == [".tmp-v1", "v1"]
    assert versions(root) == [live]


def test_loads_never_fail_while_versions_are_written_back_to_back(corpus_index, tmp_path):
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    writer = version_writer(root, 6)
    loads, failures, seen = 0, [], set()
    end = time.time() + 6
    while time.time() < end:
        try:
            seen.add(store.load(root).manifest["version"])
            loads += 1
        except Exception as err:   # noqa: BLE001 - any failure is what this test counts
            failures.append(f"{type(err).__name__}: {err}")
    written = int(writer.communicate(timeout=60)[0])
    assert written >= 5 and len(seen) >= 3, (written, len(seen))  # the race really happened
    assert failures == [], f"{len(failures)} of {loads + len(failures)} loads failed: {failures[:3]}"


def test_a_loaded_index_reads_a_documents_text_only_when_asked(corpus_index):
    import json

    loaded = store.load(corpus_index)
    saved = {d["id"]: d for d in json.loads((loaded.folder / "documents.json").read_text(encoding="utf-8"))}
    docs = list(loaded.documents.values())
    assert all(d._text is store._UNREAD for d in docs)           # metadata only, from the catalogue
    assert [d.id for d in docs] == list(saved) and len(docs) == 5
    for d in docs:
        assert (d.text, d.pages, d.meta.to_dict(), d.sha) == (saved[d.id]["text"], saved[d.id]["pages"], saved[d.id]["meta"], saved[d.id]["sha"])


def test_a_writer_left_without_commit_leaves_the_live_version(corpus_index, tmp_path):
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    live = store.load(root)
    docs = list(live.documents.values())
    try:
        with store.Writer(live.manifest, live.dense.dim, root) as writer:
            writer.add(docs[0], store.vectors_of(live.dense, docs[0].chunks))
            assert any(p.name.startswith(".tmp-") for p in root.iterdir())
            writer.add(docs[1], store.vectors_of(live.dense, docs[1].chunks)[:-1])   # one vector short
    except ValueError as err:
        assert "vectors" in str(err)
    else:
        raise AssertionError("a document with a vector missing was written")
    assert not any(p.name.startswith(".tmp-") for p in root.iterdir())
    assert store.load(root).manifest["version"] == live.manifest["version"] and versions(root) == [live.manifest["version"]]
