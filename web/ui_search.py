"""The search panel for journalists: modes, accent switch, filters, results with citations, CSV export."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import gradio as gr

from index.engine import Filters, confidence
from web.export import results_csv
from web.i18n import t
from web.render import esc, results_html
from web.service import NotReady, Service

EXPORTS = Path(tempfile.gettempdir()) / "qa-exports"


def mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("mode_smart", lang), "smart"), (t("mode_phrase", lang), "phrase"), (t("mode_number", lang), "number")]


def filter_choices(service: Service, lang: str) -> dict[str, list]:
    """Choices of each filter from the documents in the index, "All" first."""
    everything = [(t("all", lang), "")]
    try:
        docs = list(service.engine.documents.values())
    except NotReady:
        docs = []
    provinces = sorted({d.meta.province for d in docs if d.meta.province})
    types = sorted({d.meta.type for d in docs if d.meta.type})
    years = sorted({str(d.meta.year) for d in docs if d.meta.year}, reverse=True)
    titles = sorted(((d.meta.title or d.source)[:90], d.id) for d in docs)
    return {"province": everything + [(p, p) for p in provinces], "type": everything + [(x, x) for x in types],
            "year": everything + [(y, y) for y in years], "document": everything + titles}


def level(service: Service, result: dict, mode: str = "smart") -> str | None:
    """How sure the answer leading smart results is; phrase and number modes give no answer to judge."""
    return confidence(result) if mode == "smart" and result.get("answer") else None


def build(service: Service, lang_state: gr.State) -> dict:
    last = gr.State(None)
    with gr.Row(equal_height=True):
        query = gr.Textbox(label=t("query"), scale=6, elem_id="qa-search-q")
        go = gr.Button(t("search"), variant="primary", scale=1, min_width=80)
    with gr.Row():
        mode = gr.Radio(mode_choices("vi"), value="smart", label=t("mode"), scale=3)
        accents = gr.Checkbox(value=True, label=t("accents"), scale=1)
        k = gr.Slider(1, 50, value=10, step=1, label=t("k"), scale=2)
    with gr.Row():
        drops = {name: gr.Dropdown([(t("all"), "")], value="", label=t(name), scale=1)
                 for name in ("province", "type", "year", "document")}
    results = gr.HTML(f'<div class="qa-empty"></div>', elem_classes="qa-results-box", js_on_load=None)
    csv = gr.DownloadButton(t("csv"), visible=False, size="sm")

    def run(text, mode_value, accent, k_value, province, doc_type, year, doc, lang):
        text = (text or "").strip()
        if not text:
            return gr.update(), None, gr.update(visible=False)
        filters = Filters(province or None, doc_type or None, int(year) if year else None, doc or None)
        try:
            result = service.search(text, int(k_value), filters if any(vars(filters).values()) else None,
                                    mode_value, bool(accent))
        except (NotReady, ValueError) as err:
            return f'<div class="qa-noanswer">{esc(t("error", lang))}: {esc(err)}</div>', None, gr.update(visible=False)
        EXPORTS.mkdir(parents=True, exist_ok=True)
        path = EXPORTS / f"ket-qua-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**6}.csv"
        path.write_text(results_csv(result), encoding="utf-8")
        return (results_html(result, lang, level(service, result, mode_value)), result,
                gr.update(value=str(path), visible=bool(result["results"])))

    inputs = [query, mode, accents, k, *drops.values(), lang_state]
    go.click(run, inputs, [results, last, csv], concurrency_limit=4)
    query.submit(run, inputs, [results, last, csv], concurrency_limit=4)

    def refresh(lang: str) -> list:
        choices = filter_choices(service, lang)
        return [gr.update(choices=choices[name], label=t(name, lang)) for name in drops]

    def relabel(lang: str, result) -> list:
        return [gr.update(label=t("query", lang)), gr.update(value=t("search", lang)),
                gr.update(choices=mode_choices(lang), label=t("mode", lang)), gr.update(label=t("accents", lang)),
                gr.update(label=t("k", lang)), *refresh(lang), gr.update(label=t("csv", lang)),
                results_html(result, lang, level(service, result)) if result else gr.update()]

    return {"last": last, "relabel": relabel, "refresh": refresh, "filters": list(drops.values()),
            "labelled": [query, go, mode, accents, k, *drops.values(), csv, results]}
