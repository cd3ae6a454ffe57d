"""The Gradio interface: Ask, Search and Documents tabs with a language toggle, and the compact embed view."""
from __future__ import annotations

import gradio as gr

from web import status, ui_chat, ui_docs, ui_search
from web.auth import Auth
from web.i18n import lang_of, t
from web.render import esc
from web.service import Service


def status_html(service: Service, lang: str) -> str:
    return status.status_html(service.status, lang)


def build(service: Service, auth: Auth) -> gr.Blocks:
    # Files given to the upload box stay in Gradio's cache (under $TMPDIR/gradio): drop them after an hour.
    with gr.Blocks(title=t("app_title"), analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        lang = gr.State("vi")
        with gr.Row(equal_height=True, elem_id="qa-header"):
            header = gr.Markdown(f"## {t('app_title')}\n{t('subtitle')}")
            toggle = gr.Radio([("Tiếng Việt", "vi"), ("English", "en")], value="vi", label=t("lang"), scale=0,
                              min_width=270, elem_id="qa-lang")
            logout = gr.HTML(f'<a href="/logout">{esc(t("logout"))}</a>' if auth.on else "", js_on_load=None,
                             scale=0, min_width=80, visible=auth.on)
        shown = gr.HTML(status_html(service, "vi"), js_on_load=None, elem_id="qa-start")
        timer = gr.Timer(2.0, active=not service.ready)
        with gr.Tabs():
            with gr.Tab(t("tab_chat"), id="chat") as tab_chat:
                chat = ui_chat.build(service, lang)
            with gr.Tab(t("tab_search"), id="search") as tab_search:
                search = ui_search.build(service, lang)
            with gr.Tab(t("tab_docs"), id="docs") as tab_docs:
                docs = ui_docs.build(service, auth, lang)

        labelled = [header, toggle, logout, shown, tab_chat, tab_search, tab_docs,
                    *chat["labelled"], *search["labelled"], *docs["labelled"]]

        def relabel(value, turns, result):
            value = lang_of(value)
            return [value, gr.update(value=f"## {t('app_title', value)}\n{t('subtitle', value)}"),
                    gr.update(label=t("lang", value)),
                    f'<a href="/logout">{esc(t("logout", value))}</a>' if auth.on else "", status_html(service, value),
                    gr.update(label=t("tab_chat", value)), gr.update(label=t("tab_search", value)),
                    gr.update(label=t("tab_docs", value)), *chat["relabel"](value, turns), *search["relabel"](value, result),
                    *docs["relabel"](value)]

        toggle.change(relabel, [toggle, chat["turns"], search["last"]], [lang, *labelled])

        def on_load(request: gr.Request):
            """?lang=en in the address picks English; filters and the document list come from the index."""
            value = lang_of(request.query_params.get("lang") if request else None)
            return value

        demo.load(on_load, None, toggle)
        demo.load(lambda value: [status_html(service, value), gr.Timer(active=not service.ready)], [lang], [shown, timer])

        def tick(value):
            ready = service.ready
            return [status_html(service, value), gr.Timer(active=not ready), *search["refresh"](value),
                    *docs["listing"](value)]

        timer.tick(tick, [lang], [shown, timer, *search["filters"], docs["grid"], docs["picked"]])
        demo.load(lambda value: [*search["refresh"](value), *docs["listing"](value)], [lang],
                  [*search["filters"], docs["grid"], docs["picked"]])
    return demo


def build_embed(service: Service) -> gr.Blocks:
    """Chat only, compact, for an iframe on an intranet page; ?lang=en for English; the start-up status on top."""
    with gr.Blocks(title=t("app_title"), analytics_enabled=False, fill_width=True) as demo:
        lang = gr.State("vi")
        shown = gr.HTML(status_html(service, "vi"), js_on_load=None, elem_id="qa-start")
        timer = gr.Timer(2.0, active=not service.ready)
        chat = ui_chat.build(service, lang, compact=True)

        def on_load(request: gr.Request):
            value = lang_of(request.query_params.get("lang") if request else None)
            return [value, status_html(service, value), gr.Timer(active=not service.ready), *chat["relabel"](value, [])]

        demo.load(on_load, None, [lang, shown, timer, *chat["labelled"]])
        timer.tick(lambda value: [status_html(service, value), gr.Timer(active=not service.ready)], [lang], [shown, timer])
    return demo
