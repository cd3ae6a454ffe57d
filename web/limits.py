"""Request body limits: uploads need an admin and fit the upload limit before a byte of them is stored."""
from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse

from web.auth import LEVEL, Auth, denied

BODY_MAX = 1 << 20          # any other request body (JSON, forms): 1 MiB
OVERHEAD = 64 << 10         # multipart part headers and boundaries on top of the files themselves
UPLOADS_AT_ONCE = 2         # upload bodies being received at the same time, all clients together
MAX_FILES = 20              # files (multipart parts) in one upload request


def is_upload(method: str, path: str) -> bool:
    """POST /api/documents, and Gradio's upload route under each mount (/gradio_api/upload, /embed/gradio_api/upload)."""
    path = re.sub("/+", "/", path).rstrip("/")
    return method == "POST" and (path == "/api/documents" or path.endswith("/gradio_api/upload"))


class Refused(MultiPartException):
    """Raised into the app from `receive` when the streamed body passes its limit (answered with 413) or
    the client goes away mid-upload. A multipart error, so Gradio's parser deletes its partial files."""


class UploadLimitMiddleware:
    """Upload requests: an admin (401/403), a declared Content-Length within the limit (413), at most
    UPLOADS_AT_ONCE at a time (429), all checked before anything is read; then `receive` counts the
    streamed bytes and multipart parts and stops the request with 413 as soon as either passes its limit.
    The limit is UPLOAD_MAX_MB for all files of one request together, plus OVERHEAD. Every other
    request body is limited to BODY_MAX the same way (a multipart form anywhere would be spooled to disk)."""

    def __init__(self, app, auth: Auth, upload_bytes: int):
        self.app = app
        self.auth = auth
        self.upload_bytes = upload_bytes + OVERHEAD
        self.mb = upload_bytes / 1048576
        self.receiving = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = is_upload(scope["method"], scope["path"])
        limit = self.upload_bytes if upload else BODY_MAX
        reason = (f"over the upload limit of {self.mb:g} MB (all files of one request together)" if upload
                  else f"request body over {BODY_MAX >> 20} MB")
        headers = Headers(scope=scope)
        if upload:
            who = self.auth.identify(headers)
            if who is None or LEVEL[who[1]] < LEVEL["admin"]:
                return await closing(denied(Request(scope), who, "admin"))(scope, receive, send)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await refuse(413, reason)(scope, receive, send)
        if upload and self.receiving >= UPLOADS_AT_ONCE:
            return await refuse(429, "too many uploads at once; try again in a few seconds")(scope, receive, send)
        parts = Parts(headers.get("content-type", "")) if upload else None
        state = {"bytes": 0, "over": None, "started": False, "receiving": upload}
        self.receiving += int(upload)

        def received() -> None:
            if state["receiving"]:
                state["receiving"] = False
                self.receiving -= 1

        async def counted():
            message = await receive()
            if message["type"] == "http.disconnect" and state["receiving"] and state["over"] is None:
                state["over"] = "the client went away during the upload"
            if message["type"] != "http.request" or not message.get("more_body", False):
                received()
            if message["type"] == "http.request" and state["over"] is None:
                state["bytes"] += len(message.get("body", b""))
                if state["bytes"] > limit:
                    state["over"] = reason
                elif parts is not None and parts.feed(message.get("body", b"")) > MAX_FILES + 1:   # + the closing one
                    state["over"] = f"more than {MAX_FILES} files in one request"
            if state["over"] is not None:
                raise Refused(state["over"])
            return message

        async def watched(message):
            if state["over"] is not None:   # the app's answer to a body it could not read is replaced by the 413
                return
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if state["over"] is None:
                raise
        finally:
            received()
        if state["over"] is not None and not state["started"]:
            await refuse(413, state["over"])(scope, receive, send)


class Parts:
    """Counts multipart delimiters (CRLF "--" boundary) in a streamed body: one per part, one to close."""

    def __init__(self, content_type: str):
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        self.needle = b"\r\n--" + match.group(1).encode("latin-1") if match else None
        self.tail = b"\r\n"        # the first boundary has no CRLF before it
        self.seen = 0

    def feed(self, chunk: bytes) -> int:
        """Delimiters so far; the tail kept between chunks is too short to hold a whole one."""
        if self.needle is None:
            return 0
        data = self.tail + chunk
        self.seen += data.count(self.needle)
        self.tail = data[-(len(self.needle) - 1):]
        return self.seen


def refuse(status: int, reason: str) -> JSONResponse:
    """An answer sent before the body is read: the connection closes so the client stops sending."""
    return JSONResponse({"detail": reason}, status_code=status, headers={"Connection": "close"})


def closing(response):
    response.headers["Connection"] = "close"
    return response
