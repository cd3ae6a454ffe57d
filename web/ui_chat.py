"""The chat panel (also the whole embed view): question, answer with citations and confidence, follow-ups, examples."""
from __future__ import annotations

import gradio as gr

from index.engine import confidence, follow_up
from web.i18n import EXAMPLES, t
from web.render import answer_html, chat_html, esc
from web.service import NotReady, Service
from web.status import progress

MAX_TURNS = 20


def render(service: Service, turns: list, lang: str, newest_first: bool = False) -> str:
    """The conversation in `lang`; turns are (question, engine result or error message, question as read or None)."""
    shown = []
    for n, (question, result, read_as) in enumerate(turns):
        if isinstance(result, str):
            shown.append((question, f'<div class="qa-noanswer">{esc(result)}</div>'))
            continue
        try:
            highlight = service.highlighter(read_as or question)
        except NotReady:
            highlight = None
        shown.append((question, answer_html(result, lang, highlight, turn=n, level=confidence(result),
                                            read_as=read_as)))
    return chat_html(shown[::-1] if newest_first else shown, lang)


def read(service: Service, history: list, text: str) -> str | None:
    """`text` read with the previous question's topic when it is a follow-up ("Còn Bắc Giang thì sao?"), else None."""
    if not history or isinstance(history[-1][1], str):
        return None
    question, _, read_as = history[-1]
    return follow_up(read_as or question, text, service.provinces())


def not_ready(service: Service, lang: str) -> str:
    """The reply to a question asked while the index is loading or being built."""
    if service.status["status"] == "building":
        return t("build_progress", lang).format(percent=progress(service.status, lang)[0])
    if service.status["status"] == "error":
        return f"{t('start_failed', lang)}: {service.status['message']}"
    return t("load_progress", lang)


def build(service: Service, lang_state: gr.State, compact: bool = False) -> dict:
    """Components of the chat panel and a `relabel(lang, turns)` giving their updates in another language."""
    turns = gr.State([])
    chat = gr.HTML(chat_html([], "vi"), elem_classes="qa-chat", elem_id="qa-chat", js_on_load=None, render=False)
    if not compact:
        chat.render()
    with gr.Row(equal_height=True, elem_id="qa-ask-row", elem_classes="qa-top" if compact else None):
        question = gr.Textbox(label=t("question"), placeholder=t("question_ph"), lines=1, max_lines=4, scale=6,
                              elem_id="qa-question", show_label=not compact, autofocus=not compact)
        ask = gr.Button(t("ask"), variant="primary", scale=1, min_width=80, elem_id="qa-ask")
    if compact:   # in a small iframe the question box stays on top and the newest answer comes first
        chat.render()
    with gr.Column(visible=True) as examples_box:
        examples_title = gr.Markdown(f"**{t('examples')}**")
        with gr.Row():
            example_buttons = [gr.Button(text, size="sm", elem_classes="qa-example") for text in EXAMPLES["vi"]]
    clear = gr.Button(t("clear"), size="sm", variant="secondary", visible=not compact)

    def answer(text, history, lang):
        text = (text or "").strip()
        if not text:
            return gr.update(), text, history, gr.update()
        read_as = read(service, history, text)
        try:
            result = service.search(read_as or text, k=5)
        except NotReady:
            result = not_ready(service, lang)
        except ValueError as err:
            result = f"{t('error', lang)}: {err}"
        history = (history + [(text, result, read_as)])[-MAX_TURNS:]
        return render(service, history, lang, compact), "", history, gr.update(visible=False)

    outputs = [chat, question, turns, examples_box]
    ask.click(answer, [question, turns, lang_state], outputs, concurrency_limit=4)
    question.submit(answer, [question, turns, lang_state], outputs, concurrency_limit=4)
    for button in example_buttons:
        button.click(answer, [button, turns, lang_state], outputs, concurrency_limit=4)
    clear.click(lambda lang: (chat_html([], lang), [], gr.update(visible=True)), [lang_state], [chat, turns, examples_box])

    def relabel(lang: str, history: list) -> list:
        return [gr.update(label=t("question", lang), placeholder=t("question_ph", lang)), gr.update(value=t("ask", lang)),
                gr.update(value=f"**{t('examples', lang)}**"), gr.update(value=t("clear", lang)),
                *[gr.update(value=text) for text in EXAMPLES[lang]], render(service, history, lang, compact)]

    return {"turns": turns, "relabel": relabel,
            "labelled": [question, ask, examples_title, clear, *example_buttons, chat]}
