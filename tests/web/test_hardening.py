"""Hardening against real servers: upload limits, atomic uploads across a crash, invalid text, dates, CSV, file names."""
from __future__ import annotations

import csv
import io
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import ADMIN, READER, Server, start

MB = 1 << 20
STREAMED = 2 << 30          # what an attacker streams: 2 GB
GROWTH_MAX = 3 * MB         # the upload limit of these servers is 1 MB
UPLOADS = ("/api/documents", "/gradio_api/upload", "/embed/gradio_api/upload")
DOC = ("ỦY BAN NHÂN DÂN TỈNH CAO BẰNG\n\nKẾ HOẠCH\n\nVề bảo tồn voọc mũi hếch năm 2024\n\n"
       "1. Chỉ tiêu\n\n- Số cá thể voọc mũi hếch được bảo vệ đạt 125 cá thể.\n").encode()


def private_server(tmp_path_factory, corpus_index, name: str, env: dict[str, str]) -> Server:
    """A server whose temporary files (Starlette's spooled uploads, Gradio's cache) go to a folder of its own."""
    tmp = tmp_path_factory.mktemp(f"{name}-tmp")
    env = dict(env, UPLOAD_MAX_MB="1", ALLOWED_ORIGINS="", TMPDIR=str(tmp), GRADIO_TEMP_DIR=str(tmp / "gradio"))
    server = start(tmp_path_factory, corpus_index, name, env)
    server.tmp, server.env = tmp, env
    return server


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, corpus_index):
    srv = private_server(tmp_path_factory, corpus_index, "hardening-auth", {
        "AUTH_READER_TOKENS": READER, "AUTH_ADMIN_TOKENS": ADMIN})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory, corpus_index):
    srv = private_server(tmp_path_factory, corpus_index, "hardening-open", {})
    yield srv
    srv.stop()


# ---- what a server writes to disk ----------------------------------------------------------------
def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def open_file_bytes(pid: int) -> int:
    """Bytes in the regular files the process has open, deleted ones too (spooled temp files have no name)."""
    total = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (st.st_mode & 0o170000) == 0o100000:
            total += st.st_size
    return total


class DiskWatch:
    """Peak growth, sampled every 20 ms, of the server's open files plus its temp and upload folders."""

    def __init__(self, server: Server):
        self.server = server
        self.base = self.size()
        self.peak = 0
        self.done = threading.Event()

    def size(self) -> int:
        return (open_file_bytes(self.server.proc.pid) + folder_bytes(self.server.tmp)
                + folder_bytes(self.server.uploads))

    def sample(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.size() - self.base)
            time.sleep(0.02)

    def __enter__(self) -> DiskWatch:
        threading.Thread(target=self.sample, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.1)
        self.done.set()
        self.peak = max(self.peak, self.size() - self.base)


def part_head(field: str) -> bytes:
    return f'--b0undary\r\nContent-Disposition: form-data; name="{field}"; filename="big.txt"\r\n\r\n'.encode()


TAIL = b"\r\n--b0undary--\r\n"


def streamed_body(watch: DiskWatch, field: str):
    """A multipart body of one 2 GB file, streamed 1 MB at a time; it stops early (so a server that
    stores everything fails the test fast) once the server has written 16 MB."""
    yield part_head(field)
    block = b"a" * MB
    for _ in range(STREAMED // MB):
        if watch.peak > 16 * MB:
            break
        yield block
    yield TAIL


def stream_upload(server: Server, path: str, token: str | None, length: int | None = None) -> tuple[int, int]:
    """(status, peak bytes the server wrote) for a streamed 2 GB upload (chunked, or with `length` declared)."""
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if length is not None:
        headers["Content-Length"] = str(length)
    field = "files" if "gradio_api" in path else "file"
    with DiskWatch(server) as watch:
        response = httpx.post(server.url + path, content=streamed_body(watch, field), headers=headers, timeout=120)
    return response.status_code, watch.peak


def no_leftovers(server: Server) -> None:
    gradio = server.tmp / "gradio"
    stored = [p for p in gradio.rglob("*") if p.is_file()] if gradio.exists() else []
    assert not stored, f"Gradio kept {stored}"
    assert not server.uploads.exists() or not list(server.uploads.iterdir())


# ---- 1. uploads are refused before they are stored ----------------------------------------------
def test_a_reader_cannot_stream_an_upload_to_disk(guarded):
    for path in UPLOADS:
        status, written = stream_upload(guarded, path, READER)
        assert status == 403 and written < GROWTH_MAX, (path, status, written)
        status, written = stream_upload(guarded, path, None)
        assert status == 401 and written < GROWTH_MAX, (path, status, written)
    no_leftovers(guarded)


def test_an_oversized_upload_is_stopped_while_it_streams(guarded, open_server):
    for server, token in ((guarded, ADMIN), (open_server, None)):     # auth on (an admin), and auth off
        for path in UPLOADS:
            status, written = stream_upload(server, path, token)
            assert status == 413 and written < GROWTH_MAX, (server.url, path, status, written)
        no_leftovers(server)
    status, written = stream_upload(open_server, "/login", None)      # public, and a form would spool files
    assert status == 413 and written < GROWTH_MAX


def test_a_declared_or_lying_content_length(guarded):
    status, written = stream_upload(guarded, "/api/documents", ADMIN, length=len(part_head("file")) + STREAMED + len(TAIL))
    assert status == 413 and written < GROWTH_MAX
    # Declares 900 kB (within the limit) and streams 2 GB: the server reads what was declared, no more.
    with DiskWatch(guarded) as watch, socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall((f"POST /api/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
                      "Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 900000\r\n\r\n").encode()
                     + part_head("file"))
        reply = b""
        try:
            for _ in range(STREAMED // MB):
                if watch.peak > 16 * MB:
                    break
                sock.sendall(b"a" * MB)
        except OSError:         # the server closed the connection
            pass
        try:
            sock.settimeout(10)
            reply = sock.recv(200)
        except OSError:
            pass
    assert watch.peak < GROWTH_MAX
    assert not reply or reply[9:12] in (b"400", b"413", b"422"), reply      # b"HTTP/1.1 400 …", or a reset
    assert httpx.get(guarded.url + "/healthz").status_code == 200
    no_leftovers(guarded)


def test_too_many_files_in_one_request(guarded):
    files = [("file", (f"t{i}.txt", DOC, "text/plain")) for i in range(21)]
    with guarded.client(ADMIN) as admin:
        response = admin.post("/api/documents", files=files)
        assert response.status_code == 413 and "20 files" in response.json()["detail"]
        assert admin.get("/api/documents").json()["count"] == 5
    no_leftovers(guarded)


# ---- 3. text, dates, CSV, file names ----------------------------------------------------------------
def test_a_lone_surrogate_is_a_400(open_server):
    with open_server.client() as api:
        doc_id = api.get("/api/documents").json()["documents"][0]["id"]
        for method, path, body in (("POST", "/api/ask", b'{"question": "r\\ud800ng"}'),
                                   ("POST", "/api/ask", b'{"question": "rung", "province": "\\udc00"}'),
                                   ("POST", "/api/ask", b'{"question": "rung", "k": "\\ud800"}'),
                                   ("PUT", f"/api/documents/{doc_id}/meta", b'{"signer": "A\\ud800"}')):
            response = api.request(method, path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (path, body, response.text)
            detail = response.json()["detail"]
            assert "surrogate" in detail and "\n" not in detail


def test_metadata_dates_must_exist(open_server):
    with open_server.client() as api:
        doc = api.get("/api/documents").json()["documents"][1]
        for date in ("2024-13-45", "30/02/2024", "2023-02-29"):
            response = api.put(f"/api/documents/{doc['id']}/meta", json={"date": date})
            assert response.status_code == 400 and "not a real date" in response.json()["detail"], response.text
        assert api.get(f"/api/documents/{doc['id']}").json()["date"] == doc["date"]
    assert not list(open_server.corpus.rglob("*.meta.json"))


def test_csv_cells_cannot_run_as_formulas(open_server):
    data = DOC + ('=HYPERLINK("http://evil.example","bấm vào đây")\n\n+1+cmd|\' /C calc\'!A0\n\n'
                  "@SUM(1+1)*cmd|' /C calc'!A0\n").encode()
    with open_server.client() as api:
        doc = api.post("/api/documents", files={"file": ("cong-thuc.txt", data, "text/plain")}).json()["documents"][0]
        try:
            response = api.get("/api/search", params={"q": "HYPERLINK SUM cmd calc voọc", "k": 10, "doc": doc["id"],
                                                      "format": "csv"})
            rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
        finally:
            api.delete(f"/api/documents/{doc['id']}")
    header, rows = rows[0], rows[1:]
    texts = [row[header.index("text")] for row in rows]
    for formula in ('=HYPERLINK("http://evil.example"', "+1+cmd", "@SUM(1+1)", "- Số cá thể"):
        assert any(t.startswith("'" + formula) for t in texts), (formula, texts)
    assert all(not t.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for t in row)
    assert all(float(row[header.index("score")]) > 0 and int(row[header.index("rank")]) >= 1 for row in rows)


def test_file_names_with_bidi_or_invisible_characters_are_refused(open_server):
    with open_server.client() as api:
        for name, code in (("tệp\u202eexe.txt", "U+202E"), ("bao\u200bcao.txt", "U+200B"), ("a\u2066b.txt", "U+2066")):
            response = api.post("/api/documents", files={"file": (name, DOC, "text/plain")})
            assert response.status_code == 400 and code in response.json()["detail"], response.text
        assert api.get("/api/documents").json()["count"] == 5
    assert not open_server.uploads.exists() or not list(open_server.uploads.iterdir())


# ---- 2. an upload survives a crash whole or not at all ----------------------------------------------
def test_a_crash_during_an_upload_leaves_all_or_nothing(tmp_path_factory, corpus_index):
    server = private_server(tmp_path_factory, corpus_index, "hardening-crash", {})
    content = DOC.replace("voọc mũi hếch".encode(), "cá cóc sần".encode())
    with server.client() as api:
        assert api.post("/api/documents", files={"file": ("da-luu.txt", content, "text/plain")}).status_code == 201
    lines = ["ỦY BAN NHÂN DÂN TỈNH HÀ GIANG", "", "KẾ HOẠCH", "", "Về phát triển cây dược liệu năm 2025", "", "1. Chỉ tiêu", ""]
    lines += [f"- Chỉ tiêu {i}: trồng mới {i * 7} ha dược liệu loại {i % 13} tại xã số {i % 29}, đạt {i % 90 + 10}%."
              for i in range(1, 161)]     # 160 passages to embed: the ingest takes seconds
    data = "\n".join(lines).encode()

    def upload():
        try:
            httpx.post(server.url + "/api/documents", files={"file": ("duoc-lieu.txt", data, "text/plain")}, timeout=300)
        except httpx.HTTPError:
            pass                 # the server is killed mid-request

    threading.Thread(target=upload, daemon=True).start()
    deadline = time.monotonic() + 60
    while not list(server.uploads.glob(".incoming-*")):
        assert time.monotonic() < deadline, "the upload never reached the upload folder"
        time.sleep(0.02)
    time.sleep(1.0)              # inside the ingest
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)

    # Two more states a crash leaves: indexed but not yet moved into place (da-luu.txt, indexed above,
    # goes back to its hidden name), and written but not indexed (mo-coi.txt).
    os.replace(server.uploads / "da-luu.txt", server.uploads / ".incoming-ba9876543210-da-luu.txt")
    (server.uploads / ".incoming-0123456789ab-mo-coi.txt").write_bytes(DOC)

    again = Server(server.folder, server.index_dir, server.env)
    try:
        with again.client() as api:
            paths = {d["path"] for d in api.get("/api/documents").json()["documents"]}
            killed = (server.uploads / "duoc-lieu.txt").exists()
            assert killed == ("corpus/uploads/duoc-lieu.txt" in paths), (killed, paths)
            assert "corpus/uploads/da-luu.txt" in paths and (server.uploads / "da-luu.txt").read_bytes() == content
            assert "corpus/uploads/mo-coi.txt" not in paths and not (server.uploads / "mo-coi.txt").exists()
            assert [p.name for p in server.uploads.iterdir() if p.name.startswith(".")] == []
            reindex = api.post("/api/reindex").json()              # nothing left to index (or drop) silently
            assert reindex["added"] == reindex["removed"] == 0, reindex
    finally:
        again.stop()
