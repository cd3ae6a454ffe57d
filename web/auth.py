"""Optional auth: Bearer tokens and a signed session cookie from a login form, reader and admin roles."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from http.cookies import SimpleCookie
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from web.settings import Settings

COOKIE = "qa_session"
SESSION_SECONDS = 12 * 3600
LEVEL = {"reader": 1, "admin": 2}
PUBLIC = ("/healthz", "/login", "/logout", "/favicon.ico")
ANONYMOUS = ("anonymous", "admin")   # who everyone is while auth is off


class Auth:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.on = settings.auth_on
        self.key = settings.secret.encode()

    # ---- credentials ----------------------------------------------------------------------
    def token_role(self, token: str) -> str | None:
        for role, tokens in (("admin", self.settings.admin_tokens), ("reader", self.settings.reader_tokens)):
            if any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens):
                return role
        return None

    def check_password(self, user: str, password: str) -> str | None:
        known = self.settings.users.get(user)
        if known and hmac.compare_digest(password.encode(), known[0].encode()):
            return known[1]
        return None

    def session(self, user: str, role: str) -> str:
        body = base64.urlsafe_b64encode(json.dumps({"u": user, "r": role, "exp": int(time.time()) + SESSION_SECONDS})
                                        .encode()).decode().rstrip("=")
        return body + "." + hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()

    def read_session(self, value: str) -> tuple[str, str] | None:
        body, _, mac = value.partition(".")
        if not hmac.compare_digest(mac, hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if data.get("exp", 0) < time.time() or data.get("r") not in LEVEL:
            return None
        return data["u"], data["r"]

    # ---- requests -------------------------------------------------------------------------
    def identify(self, headers) -> tuple[str, str] | None:
        """(user, role) from an Authorization: Bearer header or the session cookie; None if neither is valid.
        `headers` is any mapping with .get (Starlette, Gradio)."""
        if not self.on:
            return ANONYMOUS
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            role = self.token_role(token.strip())
            return ("token", role) if role else None
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie") or "")
        except Exception:
            return None
        return self.read_session(cookie[COOKIE].value) if COOKIE in cookie else None

    def allows(self, headers, role: str) -> bool:
        who = self.identify(headers)
        return who is not None and LEVEL[who[1]] >= LEVEL[role]


def denied(request: Request, who: tuple[str, str] | None, role: str = "reader") -> Response:
    """401 for no/invalid credentials, 403 for a role too low; pages redirect to the login form."""
    if who is not None:
        return JSONResponse({"detail": f"this needs the '{role}' role; you are '{who[1]}'"}, status_code=403)
    if request.url.path.startswith("/api") or request.method != "GET":
        return JSONResponse({"detail": "authentication required: send 'Authorization: Bearer <token>' or log in at /login"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


class AuthMiddleware:
    """Every path but PUBLIC needs a reader at least (pages, Gradio, the API, the viewer)."""

    def __init__(self, app, auth: Auth):
        self.app = app
        self.auth = auth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.auth.on or scope["path"] in PUBLIC:
            return await self.app(scope, receive, send)
        request = Request(scope)
        if self.auth.identify(request.headers) is None:
            return await denied(request, None)(scope, receive, send)
        return await self.app(scope, receive, send)


class FrameMiddleware:
    """Which origins may frame the app: Content-Security-Policy frame-ancestors ('self' plus ALLOWED_ORIGINS)."""

    def __init__(self, app, origins: list[str]):
        self.app = app
        self.policy = ("frame-ancestors 'self' " + " ".join(origins)).strip().encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_policy(message):
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in
                           (b"x-frame-options", b"content-security-policy")]
                headers += [(b"content-security-policy", self.policy), (b"x-content-type-options", b"nosniff")]
                message = dict(message, headers=headers)
            await send(message)

        return await self.app(scope, receive, with_policy)
