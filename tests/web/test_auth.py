"""Auth on (tokens, a login form) and the allowed origins, against a real server."""
from __future__ import annotations

import httpx

from tests.web.conftest import ADMIN, ORIGIN, READER

DOC = "KẾ HOẠCH\n\nVề thử quyền\n\n- Chỉ tiêu thử quyền đạt 7 điểm.\n".encode()


def test_api_needs_a_token(auth_server):
    with auth_server.client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        response = anonymous.get("/api/search", params={"q": "che phủ rừng"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert anonymous.post("/api/ask", json={"question": "che phủ rừng"}).status_code == 401
        assert anonymous.post("/api/documents", files={"file": ("a.txt", DOC)}).status_code == 401
    with auth_server.client("wrong") as wrong:
        assert wrong.get("/api/documents").status_code == 401


def test_reader_searches_but_cannot_change(auth_server):
    with auth_server.client(READER) as reader:
        assert reader.post("/api/ask", json={"question": "che phu rung 2024"}).json()["answer"]
        assert reader.post("/api/documents", files={"file": ("a.txt", DOC)}).status_code == 403
        doc_id = reader.get("/api/documents").json()["documents"][0]["id"]
        assert reader.delete(f"/api/documents/{doc_id}").status_code == 403
        assert reader.put(f"/api/documents/{doc_id}/meta", json={"signer": "X"}).status_code == 403
    assert not auth_server.uploads.exists()


def test_admin_uploads_and_deletes(auth_server):
    with auth_server.client(ADMIN) as admin:
        response = admin.post("/api/documents", files={"file": ("quyen.txt", DOC)})
        assert response.status_code == 201, response.text
        assert admin.delete(f"/api/documents/{response.json()['documents'][0]['id']}").status_code == 200


def test_pages_need_a_login(auth_server):
    with httpx.Client(base_url=auth_server.url, timeout=60) as browser:
        page = browser.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert browser.get("/view/x", follow_redirects=False).status_code == 303
        bad = browser.post("/login", data={"username": "chi", "password": "sai", "next": "/"}, follow_redirects=False)
        assert "error=1" in bad.headers["location"]
        good = browser.post("/login", data={"username": "chi", "password": "mat-khau", "next": "//evil.example/"},
                            follow_redirects=False)
        assert good.status_code == 303 and good.headers["location"] == "/"
        assert browser.get("/").status_code == 200
        assert browser.get("/api/documents").status_code == 200          # the session cookie counts as a role
    with httpx.Client(base_url=auth_server.url, timeout=60) as reader:
        reader.post("/login", data={"token": READER, "next": "/"})
        assert reader.get("/api/documents").status_code == 200
        assert reader.post("/api/reindex").status_code == 403


def test_allowed_origin_may_call_and_frame(auth_server):
    with auth_server.client(READER) as client:
        allowed = client.options("/api/ask", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "authorization,content-type"})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
        other = client.get("/api/documents", headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
        assert client.get("/healthz").headers["content-security-policy"] == f"frame-ancestors 'self' {ORIGIN}"
