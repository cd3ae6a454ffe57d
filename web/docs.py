"""/redoc offline: the ReDoc bundle of the fastapi-offline package, without the one image it fetches from the Internet."""
from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

STATIC = "/static-offline-docs"   # where FastAPIOffline serves its files (Swagger UI, ReDoc, favicon)
# The "API docs by Redocly" footer shows a logo from a CDN and hides it when it cannot load: an empty URL.
LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
# Swagger UI shows a badge from validator.swagger.io for a spec not served from localhost: none.
SWAGGER = {"validatorUrl": None}


def router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    api = APIRouter()
    script = (Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js").read_bytes().replace(LOGO, b"")

    @api.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc", redoc_js_url="/redoc/redoc.standalone.js",
                              redoc_favicon_url=f"{STATIC}/favicon.png", with_google_fonts=False)

    @api.get("/redoc/redoc.standalone.js", include_in_schema=False)
    def redoc_script() -> Response:
        return Response(script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    return api
