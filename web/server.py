"""The FastAPI application: REST API and pages, the Gradio UI at / and the embed view at /embed."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402

from web import api, docs, ui  # noqa: E402
from web.assets import CSS, JS  # noqa: E402
from web.auth import Auth, AuthMiddleware, FrameMiddleware  # noqa: E402
from web.limits import UploadLimitMiddleware  # noqa: E402
from web.service import Service  # noqa: E402
from web.settings import Settings  # noqa: E402

DESCRIPTION = """Semantic search and cited answers over Vietnamese government documents.

`/api/search` and `/api/ask` answer in the JSON shape of `python -m index search --json`.
With auth on, send `Authorization: Bearer <token>`: a reader token for search, ask and reading documents,
an admin token for uploads, deletes, metadata edits and re-indexing."""

# System fonts only: an intranet browser may not reach any font service.
THEME = gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "Arial", "sans-serif"],
                          font_mono=["ui-monospace", "Consolas", "monospace"])


def create_app(settings: Settings | None = None, service: Service | None = None, start: bool = True) -> FastAPI:
    settings = settings or Settings()
    service = service or Service(settings)
    auth = Auth(settings)
    # /docs (Swagger UI) and /redoc (ReDoc) load their scripts from this app (fastapi-offline), not from a CDN.
    app = FastAPIOffline(title="Tra cứu văn bản – API", description=DESCRIPTION, version="1.0", redoc_url=None,
                         swagger_ui_parameters=docs.SWAGGER)
    app.include_router(docs.router(app.title))
    app.state.service = service
    app.include_router(api.router(service, auth))
    app.add_exception_handler(RequestValidationError, api.invalid_request)
    app.add_middleware(AuthMiddleware, auth=auth)
    app.add_middleware(UploadLimitMiddleware, auth=auth, upload_bytes=int(settings.upload_max_mb * 1048576))
    app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=True,
                       allow_methods=["GET", "POST", "PUT", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(FrameMiddleware, origins=settings.allowed_origins)
    common = dict(css=CSS, head=JS, theme=THEME, footer_links=[], run_history=False, ssr_mode=False,
                  max_file_size=int(settings.upload_max_mb * 1048576), show_error=True)
    app = gr.mount_gradio_app(app, ui.build_embed(service), path="/embed", **common)
    app = gr.mount_gradio_app(app, ui.build(service, auth), path="/", **common)
    if start:
        service.start()
    return app
