"""The documents panel for administrators: list, upload with progress, remove, re-index, edit metadata."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from index.engine import format_date
from web.auth import Auth
from web.i18n import t
from web.render import esc
from web.service import EDITABLE, NotFound, NotReady, Service
from index.engine import supported_types
from web.uploads import UploadError

FIELDS = ("type", "title", "number", "issuer", "province", "date", "signer")
# Removing asks first in the browser; cancelled, the handler gets no document and changes nothing.
CONFIRM_REMOVE = (f"(doc, lang) => (!doc || window.confirm(lang === 'en' ? {t('confirm_remove', 'en')!r} : "
                  f"{t('confirm_remove', 'vi')!r})) ? [doc, lang] : [null, lang]")
COLUMNS = ("title", "type", "number", "issuer", "date", "province", "chunks", "source")


def table(service: Service, lang: str) -> dict:
    try:
        docs = sorted(service.engine.documents.values(), key=lambda d: d.source)
    except NotReady:
        docs = []
    rows = [[d.meta.title or "", d.meta.type or "", d.meta.number or "", d.meta.issuer or "", format_date(d.meta.date) or "",
             d.meta.province or "", len(d.chunks), d.source] for d in docs]
    headers = [t({"title": "document", "date": "date_col"}.get(c, c), lang) for c in COLUMNS]
    return gr.update(value={"data": rows or [[""] * len(COLUMNS)], "headers": headers})


def number(value: float, lang: str) -> str:
    """0.5 -> "0,5" in Vietnamese, "0.5" in English."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


def doc_choices(service: Service) -> list[tuple[str, str]]:
    try:
        docs = service.engine.documents.values()
    except NotReady:
        return []
    return sorted((f"{(d.meta.title or d.source)[:70]} — {d.source}", d.id) for d in docs)


def build(service: Service, auth: Auth, lang_state: gr.State) -> dict:
    heading = gr.Markdown(f"### {t('doc_list')}")
    grid = gr.Dataframe(headers=[t({"title": "document", "date": "date_col"}.get(c, c)) for c in COLUMNS], interactive=False,
                        wrap=True, elem_id="qa-docs",
                        column_widths=["28%", "9%", "8%", "17%", "8%", "8%", "6%", "16%"])
    refresh_btn = gr.Button(t("refresh"), size="sm")
    upload_title = gr.Markdown(f"### {t('upload')}")
    types = supported_types()
    files = gr.File(file_count="multiple", file_types=types, elem_id="qa-upload", label=t("upload_help").format(
        types=", ".join(types), mb=f"{service.settings.upload_max_mb:g}"))
    upload_btn = gr.Button(t("upload_btn"), variant="primary", elem_id="qa-upload-btn")
    message = gr.Markdown("", elem_id="qa-docs-message")
    with gr.Row():
        picked = gr.Dropdown([], label=t("pick_doc"), scale=4, elem_id="qa-pick")
        remove_btn = gr.Button(t("remove"), variant="stop", scale=1, elem_id="qa-remove")
        reindex_btn = gr.Button(t("reindex"), scale=1)
    meta_title = gr.Markdown(f"### {t('edit_meta')}")
    with gr.Row():
        boxes = {name: gr.Textbox(label=t(name), scale=1) for name in FIELDS[:4]}
    with gr.Row():
        boxes.update({name: gr.Textbox(label=t(name), scale=1) for name in FIELDS[4:]})
    save_btn = gr.Button(t("save_meta"))

    def admin(request: gr.Request | None) -> bool:
        return not auth.on or (request is not None and auth.allows(request.headers, "admin"))

    def listing(lang):
        return table(service, lang), gr.update(choices=doc_choices(service))

    def fail(lang: str, err) -> str:
        return f"**{t('error', lang)}:** {esc(err)}"

    def upload(paths, lang, request: gr.Request, progress=gr.Progress()):
        if not admin(request):
            return t("admin_only", lang), *listing(lang)
        if not paths:
            return "", *listing(lang)
        handles = []
        try:
            handles = [(Path(p).name, open(p, "rb")) for p in paths]
            out = service.upload(handles, progress=lambda f, m: progress(f, desc=m))
        except (UploadError, NotReady, ValueError) as err:
            return fail(lang, err), *listing(lang)
        finally:
            for _, handle in handles:
                handle.close()
        names = ", ".join(d["title"] or d["path"] for d in out["documents"])
        s = out["summary"]
        return esc(t("uploaded", lang).format(n=len(out["documents"]), names=names, added=s["added"], updated=s["updated"],
                                              chunks=s["chunks_embedded"], seconds=number(s["seconds"], lang))), *listing(lang)

    def remove(doc_id, lang, request: gr.Request):
        if not admin(request):
            return t("admin_only", lang), *listing(lang)
        if not doc_id:
            return "", *listing(lang)
        try:
            title = service.document(doc_id).meta.title or doc_id
            out = service.delete(doc_id)
        except (NotFound, NotReady) as err:
            return fail(lang, err), *listing(lang)
        return esc(t("removed_file" if out["file_deleted"] else "removed_index", lang).format(title=title)), *listing(lang)

    def reindex(lang, request: gr.Request, progress=gr.Progress()):
        if not admin(request):
            return t("admin_only", lang), *listing(lang)
        try:
            s = service.reindex(progress=lambda f, m: progress(f, desc=m))
        except NotReady as err:
            return fail(lang, err), *listing(lang)
        errors = "; ".join(f"{e['path']}: {e['reason']}" for e in s["errors"])
        return esc(t("reindexed", lang).format(**s) + (f" {t('unreadable', lang)}: {errors}" if errors else "")), *listing(lang)

    def load_meta(doc_id):
        try:
            meta = service.document(doc_id).meta if doc_id else None
        except (NotFound, NotReady):
            meta = None
        values = [getattr(meta, name, None) or "" for name in FIELDS] if meta else [""] * len(FIELDS)
        values[FIELDS.index("date")] = format_date(values[FIELDS.index("date")]) or ""
        return values

    def save(doc_id, lang, doc_type, title, number, issuer, province, date, signer, request: gr.Request):
        values = (doc_type, title, number, issuer, province, date, signer)
        if not admin(request):
            return t("admin_only", lang), *listing(lang)
        if not doc_id:
            return "", *listing(lang)
        try:
            shown = load_meta(doc_id)    # only what the user changed becomes an override
            changed = {k: v for k, v, before in zip(FIELDS, values, shown) if k in EDITABLE and (v or "") != before}
            if not changed:
                return "", *listing(lang)
            out = service.save_metadata(doc_id, changed)
        except (NotFound, NotReady, ValueError) as err:
            return fail(lang, err), *listing(lang)
        return esc(t("meta_saved", lang).format(sidecar=out["sidecar"])), *listing(lang)

    outs = [message, grid, picked]
    upload_btn.click(upload, [files, lang_state], outs, concurrency_limit=1)
    remove_btn.click(remove, [picked, lang_state], outs, concurrency_limit=1, js=CONFIRM_REMOVE)
    reindex_btn.click(reindex, [lang_state], outs, concurrency_limit=1)
    save_btn.click(save, [picked, lang_state, *boxes.values()], outs, concurrency_limit=1)
    picked.change(load_meta, [picked], list(boxes.values()))
    refresh_btn.click(listing, [lang_state], [grid, picked])

    def relabel(lang: str) -> list:
        return [gr.update(value=f"### {t('doc_list', lang)}"), table(service, lang), gr.update(value=t("refresh", lang)),
                gr.update(value=f"### {t('upload', lang)}"),
                gr.update(label=t("upload_help", lang).format(types=", ".join(types), mb=f"{service.settings.upload_max_mb:g}")),
                gr.update(value=t("upload_btn", lang)), gr.update(label=t("pick_doc", lang), choices=doc_choices(service)),
                gr.update(value=t("remove", lang)), gr.update(value=t("reindex", lang)),
                gr.update(value=f"### {t('edit_meta', lang)}"), *[gr.update(label=t(n, lang)) for n in FIELDS],
                gr.update(value=t("save_meta", lang))]

    return {"relabel": relabel, "listing": listing, "grid": grid, "picked": picked,
            "labelled": [heading, grid, refresh_btn, upload_title, files, upload_btn, picked, remove_btn, reindex_btn,
                         meta_title, *boxes.values(), save_btn]}
