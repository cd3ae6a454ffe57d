"""Hostile inputs are refused before they are expanded (ingest/limits.py), or stopped by the reader's
memory and time limits (ingest/sandbox.py).

Through the public CLI: a .docx zip bomb, a PDF FlateDecode bomb, PDF pages costly for pdfminer (1 MB
of drawing commands, 460 KB of text, a form drawn 1,000 times), a PDF with broken zlib data, the same
two stopped by the reader's memory and time limits once the checks are raised, one huge line of text,
a document over the chunk limit, hidden files. Each run must list the file in `errors` with a one-line
reason naming its limit, take bounded time and memory, ingest the good file of the same run, and keep
the indexed version of the file that went bad.
Then the pure checks, in process, and the reader's child process on its own.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from index import store
from ingest import limits, sandbox
from ingest.readers import ReadError, read
from bench.hostile import (SMALL_TEXT, broken_zlib_pdf, docx_bomb, flate, flate_bomb, form_drawn_pdf, large_text_pdf,
                           long_line, many_chunks, pdf_bomb, pdf_file, replace_member, small_docx, small_pdf,
                           text_drawing_pdf, text_page)
from tests.conftest import CORPUS, ROOT

GOOD = CORPUS / "000_40b5a0639ebd00a3.txt"   # its chunks are in the session index: nothing to embed
SECONDS = 20          # one CLI run: ~3 s here, most of it loading the embedding model
PEAK_MB = 1000        # one CLI run: ~500 MB with the model loaded; the PDF bomb took 2.6 GB before
MB = 1024 * 1024
# Limits high enough that the hostile PDFs reach pdfminer (and the reader's memory and time limits).
UNCHECKED_PAGES = {"INGEST_MAX_PDF_PAGE_CONTENT_KB": "100000", "INGEST_MAX_PDF_PAGE_CHARS": "100000000",
                   "INGEST_MAX_PDF_BROKEN_STREAM_KB": "100000"}


# ---------------------------------------------------------------- the CLI

# Runs a command and writes its peak resident memory (kB) to a file. A child forked from this test
# process would report this process's own peak too (Linux counts the memory it had before exec),
# so the command is started from this small launcher instead.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_ingest(folder: Path, index: Path, logs: Path, env: dict | None = None) -> tuple[dict, float, float]:
    """`python -m ingest FOLDER --json --index-dir INDEX` as a child process, with `env` added to the
    environment: (summary, seconds, the peak resident memory in MB of the child or of its reader process,
    whichever is larger)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", **(env or {}))
    peak = logs / "peak-kb"
    command = [sys.executable, "-c", LAUNCHER, str(peak),
               sys.executable, "-m", "ingest", str(folder), "--json", "--index-dir", str(index)]
    with open(logs / "stdout", "w+") as out, open(logs / "stderr", "w+") as err:
        started = time.perf_counter()
        child = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=err, timeout=300)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        assert child.returncode == 0, err.read()[-2000:]
        return json.loads(out.read()), seconds, int(peak.read_text()) / 1024


def indexed_sources(index: Path) -> dict[str, int]:
    """Source key -> number of chunks, of the index as it is on disk."""
    return {doc.source: len(doc.chunks) for doc in store.load(index).documents.values()}


@pytest.fixture
def workspace(tmp_path, corpus_index):
    """A copy of the session index of corpus/ (5 documents), an empty folder to ingest, a log folder."""
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    folder = tmp_path / "docs"
    folder.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    return folder, index, logs


def refused_without_loss(workspace, name: str, good: bytes, hostile: bytes, reason: str, env: dict | None = None) -> str:
    """Ingest a good copy of corpus/000 and a small good `name`; then `name` turns hostile and a
    second copy of corpus/000 arrives. The second run lists `name` in `errors` with a reason matching
    `reason`, ingests the new good file, keeps `name`'s indexed version, within SECONDS and PEAK_MB.
    `env` sets limits for both runs."""
    folder, index, logs = workspace
    shutil.copy(GOOD, folder / "good.txt")
    (folder / name).write_bytes(good)
    first, _, _ = run_ingest(folder, index, logs, env)
    assert (first["added"], first["errors"], first["documents"]) == (2, [], 7)
    before = indexed_sources(index)

    (folder / name).write_bytes(hostile)
    shutil.copy(GOOD, folder / "good2.txt")
    summary, seconds, peak = run_ingest(folder, index, logs, env)
    assert [e["path"] for e in summary["errors"]] == [f"docs/{name}"]
    message = summary["errors"][0]["reason"]
    assert re.fullmatch(reason, message), message
    assert (summary["added"], summary["updated"], summary["removed"], summary["documents"]) == (1, 0, 0, 8)
    after = indexed_sources(index)
    assert after[f"docs/{name}"] == before[f"docs/{name}"] > 0           # the old version stays
    assert {k: v for k, v in after.items() if k != "docs/good2.txt"} == before
    assert after["docs/good2.txt"] == after["docs/good.txt"]
    assert seconds < SECONDS, f"{seconds:.1f} s"
    assert peak < PEAK_MB, f"{peak:.0f} MB"
    return message


def small_report() -> bytes:
    return small_docx(["Điều 1. Trồng mới 500 ha rừng ngập mặn."])


# (file name, its good version, its hostile version, the reason ingest must give, limits set for both runs)
HOSTILE = [
    pytest.param("report.docx", small_report, lambda: docx_bomb(256),
                 r"\.docx too large unpacked: 256\.\d MB > 200 MB limit \(INGEST_MAX_ZIP_MB\)", None, id="docx-zip-bomb"),
    pytest.param("report.pdf", small_pdf, lambda: pdf_bomb(256),
                 r"PDF stream at byte [\d,]+ too large inflated: over the 100 MB limit \(INGEST_MAX_PDF_STREAM_MB\)", None,
                 id="pdf-flate-bomb"),
    # Unbounded, this page takes pdfminer 33-64 s and ~950 MB: refused from its content before the layout.
    pytest.param("report.pdf", small_pdf, lambda: text_drawing_pdf(1),
                 r"PDF page 1 too costly to read \(drawing commands\): 1,02\d KB > 512 KB limit "
                 r"\(INGEST_MAX_PDF_PAGE_CONTENT_KB\)", None, id="pdf-page-costly-for-pdfminer"),
    # Under the content limit (460 KB), but ~196,000 characters to lay out.
    pytest.param("report.pdf", small_pdf, lambda: text_drawing_pdf(0.45),
                 r"PDF page 1 too costly to read \(text, estimated\): 19\d,\d{3} characters > 50,000 limit "
                 r"\(INGEST_MAX_PDF_PAGE_CHARS\)", None, id="pdf-page-with-too-much-text"),
    # A few KB that pdfminer parses and lays out 1,000 times (unbounded: 16 s, 250 MB).
    pytest.param("report.pdf", small_pdf, lambda: form_drawn_pdf(1000),
                 r"PDF page 1 too costly to read \(text, estimated\): 100,000 characters > 50,000 limit "
                 r"\(INGEST_MAX_PDF_PAGE_CHARS\)", None, id="pdf-page-drawing-a-form-many-times"),
    # Unbounded, pdfminer's byte-at-a-time repair of this stream takes 23-51 s: refused by the scan.
    pytest.param("report.pdf", small_pdf, lambda: broken_zlib_pdf(16),
                 r"PDF stream at byte [\d,]+ has zlib data cut short or corrupt: 15,\d{3} KB > 256 KB limit "
                 r"\(INGEST_MAX_PDF_BROKEN_STREAM_KB\)", None, id="pdf-with-broken-zlib-data"),
    # With the checks above raised, the reader's own limits stop the same files (the backstop).
    pytest.param("report.pdf", small_pdf, lambda: text_drawing_pdf(1),
                 r"reading needed over 150 MB \(INGEST_MAX_READ_MB\)",
                 {"INGEST_MAX_READ_MB": "150", **UNCHECKED_PAGES}, id="pdf-page-stopped-by-the-memory-limit"),
    pytest.param("report.pdf", small_pdf, lambda: broken_zlib_pdf(16),
                 r"reading took over 7 s: 5 s \(INGEST_MAX_READ_SECONDS\) and 1 s for each of 2 pages "
                 r"\(INGEST_MAX_READ_PAGE_SECONDS\)",
                 {"INGEST_MAX_READ_SECONDS": "5", **UNCHECKED_PAGES}, id="pdf-stopped-by-the-time-limit"),
    pytest.param("notes.txt", lambda: SMALL_TEXT, long_line,
                 r"document too long: [\d,]+ characters > 1,000,000 limit \(INGEST_MAX_CHARS\)", None, id="one-huge-line"),
    pytest.param("list.txt", lambda: SMALL_TEXT, many_chunks,
                 r"document too long: 10,50\d chunks > 10,000 limit \(INGEST_MAX_CHUNKS\)", None, id="over-the-chunk-limit"),
]


@pytest.mark.parametrize("name, good, hostile, reason, env", HOSTILE)
def test_a_hostile_file_is_refused_and_nothing_indexed_is_lost(workspace, name, good, hostile, reason, env):
    refused_without_loss(workspace, name, good(), hostile(), reason, env=env)


def test_hidden_files_are_reported(workspace):
    folder, index, logs = workspace
    shutil.copy(GOOD, folder / "good.txt")
    for name in (".x.txt", "..evil.txt", ".incoming-123-456-upload.txt", ".hidden/inside.txt"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(SMALL_TEXT)
    (folder / "good.txt.meta.json").write_text("{}", encoding="utf-8")   # a sidecar: not a file to report
    for run in (1, 2):
        summary, seconds, peak = run_ingest(folder, index, logs)
        reasons = {e["path"]: e["reason"] for e in summary["errors"]}
        assert reasons == {
            "docs/.x.txt": "skipped: hidden file",
            "docs/..evil.txt": "skipped: hidden file",
            "docs/.hidden/inside.txt": "skipped: hidden file",
            "docs/.incoming-123-456-upload.txt": "skipped: hidden file, an upload in progress or interrupted",
        }
        assert (summary["added"], summary["unchanged"], summary["documents"]) == ((1, 0, 6) if run == 1 else (0, 1, 6))
        assert seconds < SECONDS and peak < PEAK_MB


# ---------------------------------------------------------------- the checks, in process

def test_limit_reason_names_the_limit_and_its_variable():
    with pytest.raises(ReadError) as info:
        limits.MAX_CHARS.check(10_485_760, "document too long")
    assert str(info.value) == "document too long: 10,485,760 characters > 1,000,000 limit (INGEST_MAX_CHARS)"
    limits.MAX_CHARS.check(1_000_000, "document too long")   # at the limit is fine
    assert limits.MAX_ZIP_MB.reason("x", 300 * MB + MB // 2) == "x: 300.5 MB > 200 MB limit (INGEST_MAX_ZIP_MB)"
    assert limits.MAX_PDF_STREAM_MB.reason("y") == "y: over the 100 MB limit (INGEST_MAX_PDF_STREAM_MB)"
    assert limits.MAX_ZIP_MB.exceeded(200 * MB + 1) and not limits.MAX_ZIP_MB.exceeded(200 * MB)
    assert limits.MAX_PDF_BROKEN_STREAM_KB.reason("z", 300 * 1024) == "z: 300 KB > 256 KB limit (INGEST_MAX_PDF_BROKEN_STREAM_KB)"
    assert limits.MAX_PDF_BROKEN_STREAM_KB.exceeded(256 * 1024 + 1) and not limits.MAX_PDF_BROKEN_STREAM_KB.exceeded(256 * 1024)


def test_a_limit_is_read_from_its_environment_variable(monkeypatch):
    monkeypatch.setenv("INGEST_MAX_CHUNKS", "12")
    assert limits._limit("INGEST_MAX_CHUNKS", 10_000, "chunks") == limits.Limit("INGEST_MAX_CHUNKS", 12, "chunks")


def test_docx_xml_parts_over_the_limit(tmp_path):
    path = tmp_path / "a.docx"
    path.write_bytes(replace_member(small_docx(["x"]), "word/document.xml", lambda f: f.write(b"<a>" + b" " * 21 * MB + b"</a>")))
    started = time.perf_counter()
    with pytest.raises(ReadError, match=r"^\.docx XML too large unpacked: 21\.\d MB > 20 MB limit \(INGEST_MAX_DOCX_XML_MB\)$"):
        read(path)
    assert time.perf_counter() - started < 1


def test_docx_with_too_many_parts(tmp_path):
    package = zipfile.ZipFile(io.BytesIO(small_docx(["x"])))
    many, long_names = tmp_path / "many.docx", tmp_path / "long.docx"
    with zipfile.ZipFile(many, "w") as out, zipfile.ZipFile(long_names, "w") as out_long:
        for info in package.infolist():
            out.writestr(info, package.read(info))
            out_long.writestr(info, package.read(info))
        for n in range(1_001):
            out.writestr(f"media/{n}.bin", b"")
        for n in range(900):   # under the member limit, but a directory too large for it
            out_long.writestr(f"media/{n:04d}{'x' * 1200}.bin", b"")
    with pytest.raises(ReadError, match=r"^too many parts in \.docx: 1,01\d members > 1,000 limit \(INGEST_MAX_ZIP_MEMBERS\)$"):
        read(many)
    with pytest.raises(ReadError, match=r"^too many parts in \.docx \(ZIP directory too large\): over the 1,000 members limit"):
        read(long_names)


def test_pdf_limits_on_all_streams_and_pages(tmp_path, monkeypatch):
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_file([flate_bomb(1), flate_bomb(1), text_page("Dieu 1. Trong moi 500 ha rung ngap man.")]))
    monkeypatch.setattr(limits, "MAX_PDF_INFLATED_MB", limits.Limit("INGEST_MAX_PDF_INFLATED_MB", 1, "MB"))
    with pytest.raises(ReadError, match=r"^PDF streams too large inflated: 2\.0 MB > 1 MB limit \(INGEST_MAX_PDF_INFLATED_MB\)$"):
        read(path)
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_PDF_STREAMS", limits.Limit("INGEST_MAX_PDF_STREAMS", 2, "streams"))
    with pytest.raises(ReadError, match=r"^too many compressed streams in PDF: 3 streams > 2 limit \(INGEST_MAX_PDF_STREAMS\)$"):
        read(path)
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_PAGES", limits.Limit("INGEST_MAX_PAGES", 2, "pages"))
    with pytest.raises(ReadError, match=r"^too many pages in PDF: 3 pages > 2 limit \(INGEST_MAX_PAGES\)$"):
        read(path)


def test_pdf_with_slightly_broken_small_streams_still_reads(tmp_path):
    """zlib data without its checksum, or cut a few bytes short, on a text page: pdfminer repairs it
    cheaply (under INGEST_MAX_PDF_BROKEN_STREAM_KB), so the scan lets it through."""
    content = b"BT /F1 12 Tf 72 720 Td (Dieu 1. Trong moi 500 ha rung ngap man.) Tj ET"
    for cut in (4, 6):
        packed = zlib.compress(content)[:-cut]
        stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"
        path = tmp_path / f"cut-{cut}.pdf"
        path.write_bytes(pdf_file([text_page("Dieu 2. Trong moi 300 ha rung."), stream]))
        assert "Dieu 1. Trong moi 500 ha" in read(path).text


def test_pdf_page_checks_count_every_content_stream_of_the_page(tmp_path, monkeypatch):
    """A page's content split into several streams is checked as one; each page on its own."""
    path = tmp_path / "a.pdf"
    parts = [flate(b"BT /F1 12 Tf 72 %d Td (%s) Tj ET" % (700 - 20 * n, b"x" * 30)) for n in range(3)]
    data = pdf_file([parts[0], text_page("Dieu 2. Trong moi 300 ha rung.")])
    # page 1's /Contents becomes an array of its stream and two more objects appended before the xref
    extra = b"".join(b"%d 0 obj\n" % (8 + n) + part + b"\nendobj\n" for n, part in enumerate(parts[1:]))
    data = data.replace(b"/Contents 5 0 R", b"/Contents [5 0 R 8 0 R 9 0 R]")
    data = data[:data.index(b"xref\n")] + extra + data[data.index(b"xref\n"):]
    path.write_bytes(_fix_xref(data))
    assert read(path).text.count("x" * 30) == 3
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CHARS", limits.Limit("INGEST_MAX_PDF_PAGE_CHARS", 80, "characters"))
    with pytest.raises(ReadError, match=r"^PDF page 1 too costly to read \(text, estimated\): 90 characters > 80 limit "
                                        r"\(INGEST_MAX_PDF_PAGE_CHARS\)$"):
        read(path)
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CONTENT_KB", limits.Limit("INGEST_MAX_PDF_PAGE_CONTENT_KB", 0, "KB"))
    with pytest.raises(ReadError, match=r"^PDF page 1 too costly to read \(drawing commands\): 0 KB > 0 KB limit "):
        read(path)


def test_pdf_page_checks_count_a_form_each_time_it_is_drawn(tmp_path, monkeypatch):
    path = tmp_path / "a.pdf"
    path.write_bytes(form_drawn_pdf(3, 20))
    assert read(path).text.count("A" * 20) == 3
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CHARS", limits.Limit("INGEST_MAX_PDF_PAGE_CHARS", 59, "characters"))
    with pytest.raises(ReadError, match=r"^PDF page 1 too costly to read \(text, estimated\): 60 characters > 59 limit "):
        read(path)


def test_pdf_stops_reading_pages_past_the_character_limit(tmp_path, monkeypatch):
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_file([text_page("Dieu %d. Trong moi 500 ha rung ngap man tai huyen ven bien." % n) for n in range(1, 6)]))
    monkeypatch.setattr(limits, "MAX_CHARS", limits.Limit("INGEST_MAX_CHARS", 100, "characters"))
    with pytest.raises(ReadError, match=r"^document too long \(at page 2\): 11\d characters > 100 limit \(INGEST_MAX_CHARS\)$"):
        read(path)


def test_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path):
    path = tmp_path / "scan.png"
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = (10_000).to_bytes(4, "big") + (6_000).to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    path.write_bytes(header + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10_001)) + chunk(b"IEND", b""))
    started = time.perf_counter()
    with pytest.raises(ReadError, match=r"^image too large: 60,000,000 pixels > 50,000,000 limit \(INGEST_MAX_IMAGE_PIXELS\)$"):
        read(path)
    assert time.perf_counter() - started < 1


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_scanned_pdf_page_too_large_to_render_for_ocr(tmp_path):
    image = b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream"
    content = flate(b"q 14400 0 0 14400 0 0 cm /Im1 Do Q")
    path = tmp_path / "scan.pdf"
    data = pdf_file([content]).replace(b"/MediaBox [0 0 595 842]", b"/MediaBox [0 0 14400 14400]")
    data = data.replace(b"/Resources << /Font << /F1 3 0 R >> >>", b"/Resources << /XObject << /Im1 3 0 R >> >>")
    data = data.replace(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", image)
    path.write_bytes(_fix_xref(data))
    with pytest.raises(ReadError, match=r"^page 1 too large to OCR at 300 dpi: 3,600,000,000 pixels > 50,000,000 limit"):
        read(path)


def _fix_xref(data: bytes) -> bytes:
    """The PDF with its xref offsets recomputed (after objects changed length)."""
    body = data[:data.index(b"xref\n")]
    offsets = [m.start() for m in re.finditer(rb"(?m)^\d+ 0 obj\n", body)]
    xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return body + xref + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, len(body))


# ---------------------------------------------------------------- the reader's child process

@pytest.fixture
def no_worker():
    """No reader worker left from before the test, none left after it."""
    sandbox.stop()
    yield
    sandbox.stop()


def _pid() -> int | None:
    return sandbox._worker.process.pid if sandbox._worker else None


def test_a_reader_over_the_memory_limit_is_stopped_and_replaced(tmp_path, monkeypatch, no_worker):
    good, costly = tmp_path / "good.txt", tmp_path / "costly.pdf"
    good.write_bytes(SMALL_TEXT)
    costly.write_bytes(text_drawing_pdf(1))
    for name, value in UNCHECKED_PAGES.items():   # the worker, started below, reads its limits from these
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(limits, "MAX_READ_MB", limits.Limit("INGEST_MAX_READ_MB", 150, "MB"))
    assert sandbox.read_isolated(good) == read(good)
    first = _pid()
    assert sandbox.read_isolated(good) == read(good) and _pid() == first     # one worker for many files
    started = time.perf_counter()
    with pytest.raises(ReadError, match=r"^reading needed over 150 MB \(INGEST_MAX_READ_MB\)$"):
        sandbox.read_isolated(costly)
    assert time.perf_counter() - started < 15   # ~25 MB a second here; unbounded, 64 s and 961 MB
    assert sandbox._worker is None
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)                      # killed and waited for
    assert sandbox.read_isolated(good) == read(good) and _pid() != first


def test_a_reader_over_the_time_limit_is_stopped_and_replaced(tmp_path, monkeypatch, no_worker):
    good, slow = tmp_path / "good.txt", tmp_path / "slow.pdf"
    good.write_bytes(SMALL_TEXT)
    slow.write_bytes(broken_zlib_pdf(16))
    for name, value in UNCHECKED_PAGES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(limits, "MAX_READ_SECONDS", limits.Limit("INGEST_MAX_READ_SECONDS", 2, "seconds"))
    assert sandbox.read_isolated(good) == read(good)
    first = _pid()
    started = time.perf_counter()
    with pytest.raises(ReadError, match=r"^reading took over 4 s: 2 s \(INGEST_MAX_READ_SECONDS\) and 1 s for each "
                                        r"of 2 pages \(INGEST_MAX_READ_PAGE_SECONDS\)$"):
        sandbox.read_isolated(slow)
    assert 4 <= time.perf_counter() - started < 6   # the second page never ends: its second, not more
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)
    assert sandbox.read_isolated(good) == read(good) and _pid() != first


def test_a_long_pdf_gets_time_for_each_page(tmp_path, monkeypatch, no_worker):
    """A text PDF of ~10 pages that needs more than the base time reads, its pages adding theirs;
    without the per-page allowance the same file is stopped at the base time."""
    path = tmp_path / "long.pdf"
    path.write_bytes(large_text_pdf(40_000))
    warm_up = tmp_path / "good.txt"
    warm_up.write_bytes(SMALL_TEXT)
    monkeypatch.setattr(limits, "MAX_READ_SECONDS", limits.Limit("INGEST_MAX_READ_SECONDS", 1, "seconds"))
    sandbox.read_isolated(warm_up)
    started = time.perf_counter()
    assert sandbox.read_isolated(path) == read(path)
    assert time.perf_counter() - started > 1
    monkeypatch.setattr(limits, "MAX_READ_PAGE_SECONDS", limits.Limit("INGEST_MAX_READ_PAGE_SECONDS", 0, "seconds"))
    with pytest.raises(ReadError, match=r"^reading took over 1 s \(INGEST_MAX_READ_SECONDS\)$"):
        sandbox.read_isolated(path)


def test_a_reader_that_crashes_is_reported_and_replaced(tmp_path, monkeypatch, no_worker):
    good, slow = tmp_path / "good.txt", tmp_path / "slow.pdf"
    good.write_bytes(SMALL_TEXT)
    slow.write_bytes(broken_zlib_pdf(16))
    for name, value in UNCHECKED_PAGES.items():
        monkeypatch.setenv(name, value)
    sandbox.read_isolated(good)
    first = _pid()
    threading.Timer(0.5, os.kill, (first, signal.SIGSEGV)).start()   # as a C library's bug would
    with pytest.raises(ReadError, match=r"^the reader crashed \(Segmentation fault\); it may have needed over [\d,]+ MB"):
        sandbox.read_isolated(slow)
    assert sandbox.read_isolated(good) == read(good) and _pid() != first


def test_the_worker_answers_a_memory_error_and_exits(tmp_path):
    """An allocation past the worker's own RLIMIT_AS (one large block, between two of the parent's
    looks) raises MemoryError in it: it answers so and exits."""
    path = tmp_path / "big.txt"
    path.write_bytes("Trồng rừng mới 9.000 ha.\n".encode() * 1_500_000)   # 40 MB, under INGEST_MAX_TEXT_MB
    worker = subprocess.run([sys.executable, "-m", "ingest.sandbox", "100"], cwd=ROOT, timeout=60, capture_output=True,
                            input=json.dumps({"path": str(path)}).encode() + b"\n")
    assert (worker.stdout, worker.returncode) == (b'{"out_of_memory": true}\n', 0), worker.stderr[-2000:]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_each_page_sent_to_ocr_gets_its_own_time(tmp_path, monkeypatch, no_worker):
    """Two scanned pages, each OCR'd in a few seconds, read within a 3 s limit for the rest."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 42)
    frames = []
    for page in (1, 2):
        image = Image.new("L", (2480, 3508), 255)
        draw = ImageDraw.Draw(image)
        for n in range(40):
            draw.text((200, 200 + 75 * n), f"Điều {page}.{n}. Trồng mới {n * 37} ha rừng ngập mặn ven biển.", font=font, fill=0)
        frames.append(image)
    path = tmp_path / "scan.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    monkeypatch.setattr(limits, "MAX_READ_SECONDS", limits.Limit("INGEST_MAX_READ_SECONDS", 3, "seconds"))
    warm_up = tmp_path / "good.txt"
    warm_up.write_bytes(SMALL_TEXT)
    sandbox.read_isolated(warm_up)   # the worker started: the 3 s are for reading
    started = time.perf_counter()
    extracted = sandbox.read_isolated(path)
    assert time.perf_counter() - started > 3          # longer than the limit alone allows
    assert extracted.ocr and set(extracted.pages) == {1, 2} and "ngập mặn" in extracted.text
