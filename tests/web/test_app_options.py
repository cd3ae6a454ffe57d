"""Every option of `python app.py` on a real server: --host and --port (every server here), --index-dir and --corpus."""
from __future__ import annotations

import shutil
import subprocess
import sys

from tests.web.conftest import ROOT, Server

NEW_DOC = ("ỦY BAN NHÂN DÂN TỈNH CAO BẰNG\n\nKẾ HOẠCH\n\nVề bảo tồn voọc mũi hếch năm 2024\n\n"
           "1. Chỉ tiêu\n\n- Số cá thể voọc mũi hếch được bảo vệ đạt 125 cá thể.\n").encode()


def test_help_lists_every_option():
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for flag in ("--host", "--port", "--index-dir", "--corpus"):
        assert flag in out.stdout


def test_index_dir_and_corpus_given_as_options(tmp_path_factory, corpus_index):
    """`python app.py --index-dir D --corpus C` (strings from the command line, no environment variables):
    it serves the index in D, and an upload lands in C/uploads and in a new version of D."""
    folder = tmp_path_factory.mktemp("app-options")
    corpus, index = folder / "data" / "corpus", folder / "my-index"   # source keys start with the folder's name
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(corpus_index, index, ignore=shutil.ignore_patterns(".lock"))
    before = (index / "CURRENT").read_text().strip()
    server = Server(folder, index, {}, args=("--index-dir", str(index), "--corpus", str(corpus)))
    try:
        assert server.url.startswith("http://127.0.0.1:")          # --host 127.0.0.1 --port <free port>
        with server.client() as api:
            health = api.get("/healthz").json()
            assert health["status"] == "ok" and health["documents"] == 5
            response = api.post("/api/documents", files={"file": ("voọc.txt", NEW_DOC, "text/plain")})
            assert response.status_code == 201, response.text
            doc = response.json()["documents"][0]
            assert doc["path"] == "corpus/uploads/voọc.txt"
            assert (corpus / "uploads" / "voọc.txt").read_bytes() == NEW_DOC
            assert (index / "CURRENT").read_text().strip() != before
            assert api.get("/healthz").json()["documents"] == 6
            out = api.post("/api/ask", json={"question": "Số cá thể voọc mũi hếch được bảo vệ năm 2024?"}).json()
            assert "125 cá thể" in out["answer"]["text"]
    finally:
        server.stop()
