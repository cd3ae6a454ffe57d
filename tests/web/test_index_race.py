"""The app keeps answering while another process writes index versions back to back (it reloads each new one)."""
from __future__ import annotations

import subprocess
import sys
import time

from tests.web.conftest import ROOT

WRITER = """
import sys, time
from index import store
snapshot = store.load(sys.argv[1]); end = time.time() + float(sys.argv[2]); n = 0
while time.time() < end:
    with store.writer_lock(sys.argv[1]):
        store.save(snapshot, sys.argv[1])
    n += 1
    time.sleep(0.2)
print(n)
"""


def test_searches_never_fail_while_versions_are_replaced(server, api):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(server.index_dir), "8"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    statuses, versions = [], set()
    end = time.time() + 8
    while time.time() < end:
        statuses.append(api.get("/api/search", params={"q": "che phủ rừng"}).status_code)
        versions.add(api.get("/healthz").json().get("version"))
    written = int(writer.communicate(timeout=60)[0])
    assert written >= 10 and len(versions) >= 3, (written, versions)   # the app really reloaded new versions
    assert set(statuses) == {200}, f"{len(statuses) - statuses.count(200)} of {len(statuses)} searches failed"
