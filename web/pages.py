"""Standalone pages: the document viewer (cited lines highlighted) and the login form."""
from __future__ import annotations

from index.engine import format_date
from index.engine import Document
from web.assets import VIEWER_CSS
from web.i18n import t
from web.render import esc


def page(title: str, body: str, lang: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
            f"<style>{VIEWER_CSS}</style></head><body>{body}</body></html>")


def viewer(doc: Document, line_from: int | None, line_to: int | None, lang: str = "vi") -> str:
    """The whole document, one numbered line per row (id L<n>), lines from..to highlighted."""
    meta = doc.meta
    parts = [meta.type, meta.number, meta.issuer, format_date(meta.date), meta.province, meta.signer, doc.source]
    info = " · ".join(esc(p) for p in parts if p)
    if line_from and not line_to:
        line_to = line_from
    rows = []
    for n, line in enumerate(doc.text.split("\n"), start=1):
        cited = " cited" if line_from and line_from <= n <= line_to else ""
        rows.append(f'<div class="ln{cited}" id="L{n}"><span class="no">{n}</span><span class="tx">{esc(line)}</span></div>')
    where = ""
    if line_from:
        label = t("line", lang) + f" {line_from}" if line_from == line_to else t("lines", lang) + f" {line_from}–{line_to}"
        where = f' · <a href="#L{max(1, line_from - 3)}">{esc(label)}</a>'
    header = f'<header><h1>{esc(meta.title or doc.source)}</h1><div class="meta">{info}{where}</div></header>'
    return page(meta.title or doc.source, header + "<main>" + "".join(rows) + "</main>", lang)


def login(next_url: str, lang: str = "vi", error: bool = False) -> str:
    message = f'<div class="err">{esc(t("bad_login", lang))}</div>' if error else ""
    body = (f'<form method="post" action="/login"><h2>{esc(t("app_title", lang))}</h2>{message}'
            f'<input type="hidden" name="next" value="{esc(next_url)}">'
            f'<input name="username" placeholder="{esc(t("user", lang))}" autocomplete="username">'
            f'<input name="password" type="password" placeholder="{esc(t("password", lang))}" autocomplete="current-password">'
            f'<input name="token" type="password" placeholder="{esc(t("token", lang))}">'
            f'<button type="submit">{esc(t("login", lang))}</button></form>')
    return page(t("login", lang), body, lang)
