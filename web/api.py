"""REST routes: /api search, ask, documents (list, get, upload, delete, metadata, re-index), /healthz, viewer, login."""
from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Body, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from index.engine import Filters, SearchResponse
from web import pages
from web.auth import COOKIE, LEVEL, SESSION_SECONDS, Auth
from web.export import results_csv
from web.i18n import lang_of
from web.service import NotFound, NotReady, Service
from web.uploads import UploadError


class Ask(BaseModel):
    question: str = Field(..., description="The question, in Vietnamese (with or without diacritics) or English")
    k: int = Field(5, ge=1, le=50, description="How many passages to return besides the answer")
    province: str | None = None
    type: str | None = None
    year: int | None = None
    doc: str | None = None


def _filters(province=None, type=None, year=None, doc=None) -> Filters | None:
    return Filters(province or None, type or None, year or None, doc or None) if any((province, type, year, doc)) else None


def safe_next(url: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//')."""
    url = url or "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422, or 400 when the invalid input it would echo is not Unicode text (a lone surrogate)."""
    try:
        return await request_validation_exception_handler(request, exc)
    except UnicodeEncodeError:
        return JSONResponse({"detail": "the request holds text that is not valid Unicode (a lone UTF-16 surrogate)"},
                            status_code=400)


def router(service: Service, auth: Auth) -> APIRouter:
    api = APIRouter()

    def need(request: Request, role: str) -> None:
        who = auth.identify(request.headers)
        if who is None:
            raise HTTPException(401, "authentication required: send 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})
        if LEVEL[who[1]] < LEVEL[role]:
            raise HTTPException(403, f"this needs the '{role}' role; you are '{who[1]}'")

    def run(call, *args, **kwargs):
        """Engine and service errors as HTTP answers with a one-line reason."""
        try:
            return call(*args, **kwargs)
        except NotReady as err:
            raise HTTPException(503, f"the index is not ready: {err}") from None
        except NotFound as err:
            raise HTTPException(404, str(err)) from None
        except UploadError as err:
            raise HTTPException(err.status, str(err)) from None
        except ValueError as err:
            raise HTTPException(400, str(err)) from None

    @api.get("/healthz", tags=["status"])
    def healthz():
        """200 with the index status once the index is loaded; 503 while it is loading or being built."""
        if not service.ready:
            return JSONResponse(service.status, status_code=503)
        engine = service.engine
        manifest = engine.manifest
        return {"status": "ok", "documents": manifest.get("documents"), "chunks": manifest.get("chunks"),
                "model": manifest.get("model"), "backend": manifest.get("backend"), "version": manifest.get("version"),
                "auth": auth.on, "answer_cache": service.answer_cache()}

    @api.get("/api/search", tags=["search"], response_model=SearchResponse,
             responses={200: {"content": {"text/csv": {}}, "description": "the results (CSV with format=csv)"}})
    def search(request: Request, q: str = Query(..., description="Query text; quote a phrase for an exact match"),
               k: int = Query(10, ge=1, le=100), province: str | None = None, type: str | None = None,
               year: int | None = None, doc: str | None = Query(None, description="document id"),
               mode: Literal["smart", "phrase", "number"] = "smart", accent_insensitive: bool = True,
               format: Literal["json", "csv"] = "json"):
        """Hybrid search in the CLI's JSON shape (`python -m index search --json`); `format=csv` exports the results."""
        need(request, "reader")
        if format == "json":   # serialised once, where it was searched (the response_model documents it)
            return Response(run(service.search_json, q, k, _filters(province, type, year, doc), mode, accent_insensitive),
                            media_type="application/json")
        result = run(service.search, q, k, _filters(province, type, year, doc), mode, accent_insensitive)
        return Response(results_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="results.csv"'})

    @api.post("/api/ask", tags=["search"], response_model=SearchResponse)
    def ask(request: Request, body: Ask):
        """A question: the answering sentence with citations (or `answer: null`), plus the top passages."""
        need(request, "reader")
        return Response(run(service.search_json, body.question, body.k,
                            _filters(body.province, body.type, body.year, body.doc)), media_type="application/json")

    @api.get("/api/documents", tags=["documents"])
    def documents(request: Request):
        """Indexed documents with their metadata and chunk counts."""
        need(request, "reader")
        docs = run(lambda: list(service.engine.documents.values()))
        return {"count": len(docs), "documents": [service.describe(d) for d in docs]}

    @api.get("/api/documents/{doc_id}", tags=["documents"])
    def document(request: Request, doc_id: str):
        """One document's metadata and full text (citation line numbers count lines of `text`)."""
        need(request, "reader")
        doc = run(service.document, doc_id)
        return dict(service.describe(doc), text=doc.text)

    @api.post("/api/documents", tags=["documents"], status_code=201)
    def upload(request: Request, file: list[UploadFile] = File(..., description="one or more files")):
        """Upload and index files (admin). Rejected files change nothing; the reason is in `detail`."""
        need(request, "admin")
        return run(service.upload, [(f.filename, f.file) for f in file])

    @api.delete("/api/documents/{doc_id}", tags=["documents"])
    def delete(request: Request, doc_id: str):
        """Remove a document from the index (admin); an uploaded file is deleted too."""
        need(request, "admin")
        return run(service.delete, doc_id)

    @api.put("/api/documents/{doc_id}/meta", tags=["documents"])
    def metadata(request: Request, doc_id: str, fields: dict = Body(..., examples=[{"province": "Lạng Sơn"}])):
        """Correct metadata (admin): saved to `<file>.meta.json` and re-indexed; an empty value drops an override."""
        need(request, "admin")
        return run(service.save_metadata, doc_id, fields)

    @api.post("/api/reindex", tags=["documents"])
    def reindex(request: Request):
        """Bring the index up to date with the corpus folders (admin)."""
        need(request, "admin")
        return run(service.reindex)

    @api.get("/view/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def view(doc_id: str, line_from: int | None = Query(None, alias="from"), line_to: int | None = Query(None, alias="to"),
             lang: str | None = None):
        try:
            doc = service.document(doc_id)
        except (NotFound, NotReady) as err:
            return HTMLResponse(pages.page("404", f"<p>{pages.esc(err)}</p>", "vi"), status_code=404)
        return pages.viewer(doc, line_from, line_to, lang_of(lang))

    @api.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(next: str = "/", lang: str | None = None, error: int = 0):
        return pages.login(safe_next(next), lang_of(lang), bool(error))

    @api.post("/login", include_in_schema=False)
    def login(next: str = Form("/"), username: str = Form(""), password: str = Form(""), token: str = Form("")):
        role, user = (auth.token_role(token.strip()), "token") if token.strip() else \
            (auth.check_password(username, password), username)
        if not role:
            return RedirectResponse(f"/login?error=1&next={quote(safe_next(next))}", status_code=303)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(COOKIE, auth.session(user, role), max_age=SESSION_SECONDS, httponly=True, samesite="lax")
        return response

    @api.get("/logout", include_in_schema=False)
    def logout():
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return api
