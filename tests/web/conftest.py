"""Real servers (`python app.py` in a subprocess on a free localhost port) over private copies of the session index."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240
ARTIFACTS = ROOT / "artifacts"   # screenshots (git-ignored)
INTRANET = "qa.intranet.test"    # a host name the browser resolves to 127.0.0.1, as an intranet name would be
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1400",
         f"--host-resolver-rules=MAP {INTRANET} 127.0.0.1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `python app.py` process; `url`, its folders, an httpx client factory."""

    def __init__(self, folder: Path, index: Path, env: dict[str, str], args: tuple[str, ...] = (), wait: bool = True):
        """`args` are more options of app.py; --index-dir and --corpus there replace $INDEX_DIR and $CORPUS_DIR."""
        self.folder, self.index_dir = folder, index
        self.corpus = folder / "corpus"
        self.uploads = self.corpus / "uploads"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "server.log"
        full_env = dict(os.environ, INDEX_DIR=str(index), CORPUS_DIR=str(self.corpus), LOG_LEVEL="warning",
                        OMP_NUM_THREADS="1", **env)
        full_env.pop("UPLOAD_DIR", None)
        for flag, name in (("--index-dir", "INDEX_DIR"), ("--corpus", "CORPUS_DIR")):
            if flag in args:
                full_env.pop(name)
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(self.port),
                                      *args], cwd=ROOT, env=full_env, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        if wait:
            self.wait()

    def wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server not ready after {START_TIMEOUT} s:\n{self.log.read_text()[-3000:]}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start(tmp_path_factory, corpus_index: Path, name: str, env: dict[str, str]) -> Server:
    """A server over a private copy of the session index and of corpus/ (tests upload and delete)."""
    folder = tmp_path_factory.mktemp(name)
    shutil.copytree(ROOT / "corpus", folder / "corpus")
    shutil.copytree(corpus_index, folder / "index", ignore=shutil.ignore_patterns(".lock"))
    return Server(folder, folder / "index", env)


@pytest.fixture(scope="session")
def server(tmp_path_factory, corpus_index):
    srv = start(tmp_path_factory, corpus_index, "web", {"UPLOAD_MAX_MB": "1", "ALLOWED_ORIGINS": ""})
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def api(server):
    with server.client() as client:
        yield client


READER, ADMIN = "reader-token-123", "admin-token-456"
ORIGIN = "http://intranet.example"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, corpus_index):
    srv = start(tmp_path_factory, corpus_index, "web-auth", {
        "AUTH_READER_TOKENS": READER, "AUTH_ADMIN_TOKENS": ADMIN, "AUTH_USERS": "chi:mat-khau:admin,an:doc:reader",
        "ALLOWED_ORIGINS": ORIGIN})
    yield srv
    srv.stop()


def chromium() -> tuple[str, str] | None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (binary, driver) if binary and driver else None


@pytest.fixture(scope="module")
def browser():
    found = chromium()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        found = None
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("the browser test needs Debian packages chromium and chromium-driver and pip package selenium")
        pytest.skip("chromium/chromedriver/selenium not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})   # every request a page makes
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
