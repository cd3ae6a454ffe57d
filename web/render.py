"""HTML fragments for answers and results: everything from documents and queries escaped, matches highlighted."""
from __future__ import annotations

import html
from typing import Callable
from urllib.parse import quote

from index.engine import figure_spans
from index.engine import format_date
from web.i18n import t

Spans = list[tuple[int, int]] | list[list[int]]
Highlighter = Callable[[str], Spans]
# Characters that template engines (Gradio's HTML component uses JS template strings and Handlebars)
# could act on are written as entities too, so text from a document can never become markup or code.
_EXTRA = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True).translate(_EXTRA)


def marked(text: str, layers: list[tuple[str, Spans]]) -> str:
    """`text` escaped, with <mark class="..."> around each layer's character spans (layers may overlap)."""
    n = len(text)
    flags = [0] * n
    for bit, (_, spans) in enumerate(layers):
        for start, end in spans:
            while start < end and text[start:start + 1].isspace():
                start += 1
            while end > start and text[end - 1:end].isspace():
                end -= 1
            for i in range(max(0, start), min(n, end)):
                flags[i] |= 1 << bit
    out, i = [], 0
    while i < n:
        j = i
        while j < n and flags[j] == flags[i]:
            j += 1
        piece = esc(text[i:j])
        if flags[i]:
            names = " ".join(layers[b][0] for b in range(len(layers)) if flags[i] >> b & 1)
            piece = f'<mark class="{names}">{piece}</mark>'
        out.append(piece)
        i = j
    return "".join(out)


def view_url(doc_id: str, line_start: int | None = None, line_end: int | None = None) -> str:
    if not line_start:
        return f"/view/{quote(doc_id)}"
    return f"/view/{quote(doc_id)}?from={line_start}&to={line_end or line_start}#L{max(1, line_start - 3)}"


def lines_label(cite: dict, lang: str) -> str:
    start, end = cite.get("line_start"), cite.get("line_end")
    if start is None:
        return ""
    text = f"{t('line', lang)} {start}" if start == end else f"{t('lines', lang)} {start}–{end}"
    return text + (f", {t('page', lang)} {cite['page']}" if cite.get("page") else "")


def source_line(cite: dict, lang: str) -> str:
    """Title — issuer · date · province · section · lines, each part escaped."""
    doc = cite["doc"]
    parts = [doc.get("issuer"), format_date(doc.get("date")), doc.get("province"), cite.get("section"),
             lines_label(cite, lang)]
    rest = " · ".join(f'<span class="qa-src-part">{esc(p)}</span>' for p in parts if p)
    return f'<span class="qa-src-title">{esc(doc.get("title"))}</span>' + (f" — {rest}" if rest else "")


def cite_link(cite: dict, lang: str, label: str | None = None) -> str:
    url = view_url(cite["doc"]["id"], cite.get("line_start"), cite.get("line_end"))
    return (f'<a class="cite-link" href="{esc(url)}" target="_blank" rel="noopener" '
            f'data-doc="{esc(cite["doc"]["id"])}">{esc(label or t("open_doc", lang))}</a>')


def copy_button(quote_text: str | None, lang: str) -> str:
    if not quote_text:
        return ""
    return (f'<button type="button" class="copy-quote" data-quote="{esc(quote_text)}" '
            f'data-done="{esc(t("copied", lang))}">{esc(t("copy", lang))}</button>')


def passage(text: str, highlight: Highlighter | None, sentence: str | None = None,
            figures: Spans = ()) -> str:
    """A passage with query words (class hl) and the answering sentence's figures (class fig) marked."""
    layers: list[tuple[str, Spans]] = [("hl", list(highlight(text)) if highlight else [])]
    at = text.find(sentence) if sentence else -1
    if at >= 0:
        layers.append(("ans", [(at, at + len(sentence))]))
        layers.append(("fig", [(at + s, at + e) for s, e in figures]))
    return marked(text, layers)


def answer_html(result: dict, lang: str, highlight: Highlighter | None = None) -> str:
    """The reply to a question: the answering sentence, numbered citations, other documents' figures."""
    found = result.get("answer")
    if not found:
        return f'<div class="qa-noanswer">{esc(t("no_answer", lang))}</div>'
    cites = found["citations"]
    refs = "".join(f'<sup class="qa-ref">[{n}]</sup>' for n in range(1, len(cites) + 1))
    out = [f'<div class="qa-answer">{marked(found["text"], [("fig", found["figures"])])} {refs}</div>']
    if result.get("restored"):
        out.append(f'<div class="qa-restored">{esc(t("restored", lang))}: {esc(result["restored"])}</div>')
    out.append(f'<div class="qa-h">{esc(t("sources", lang))}</div><ol class="qa-cites">')
    for n, cite in enumerate(cites, start=1):
        out.append(_citation(n, cite, lang, passage(cite["text"], highlight, found["text"], found["figures"])))
    out.append("</ol>")
    others = found.get("other_figures") or []
    if others:
        out.append(f'<div class="qa-h qa-h-others">{esc(t("others", lang))}</div><ol class="qa-cites qa-others" '
                   f'start="{len(cites) + 1}">')
        for n, other in enumerate(others, start=len(cites) + 1):
            label = other["doc"].get("province") or other["doc"].get("title")
            statement = (f'<div class="qa-other-statement"><span class="qa-label">{esc(label)}:</span> '
                         f'{marked(other["statement"], [("fig", figure_spans(other["statement"]))])}</div>')
            body = passage(other["text"], highlight, other["statement"], figure_spans(other["statement"]))
            out.append(_citation(n, other, lang, body, statement))
        out.append("</ol>")
    return "".join(out)


def _citation(n: int, cite: dict, lang: str, body: str, lead: str = "") -> str:
    return (f'<li class="qa-cite" value="{n}"><div class="qa-cite-head"><b>[{n}]</b> {source_line(cite, lang)}</div>'
            f'{lead}<blockquote class="qa-passage">{body}</blockquote>'
            f'<div class="qa-actions">{cite_link(cite, lang)} {copy_button(cite.get("quote"), lang)}</div></li>')


def chat_html(turns: list[tuple[str, str]], lang: str) -> str:
    """The conversation: (question, reply HTML) pairs, newest last; replies are already escaped HTML."""
    if not turns:
        return f'<div class="qa-empty">{esc(t("empty_chat", lang))}</div>'
    return "".join(f'<div class="qa-turn"><div class="qa-q">{esc(q)}</div><div class="qa-a">{reply}</div></div>'
                   for q, reply in turns)


def results_html(result: dict, lang: str) -> str:
    """Search results: passage with highlights, citation line, score, also-in sources, copy and open."""
    rows = result.get("results") or []
    if not rows:
        return f'<div class="qa-noanswer">{esc(t("no_results", lang))}</div>'
    out = [f'<div class="qa-meta">{len(rows)} {esc(t("results_n", lang))} · {esc(t("took", lang))} '
           f'{esc(result.get("took_ms"))} ms</div><ol class="qa-results">']
    for row in rows:
        also = "".join(f'<div class="qa-also">{esc(t("also_in", lang))}: {source_line(c, lang)} {cite_link(c, lang)}</div>'
                       for c in row.get("also_in") or [])
        out.append(f'<li class="qa-result" value="{row["rank"]}"><blockquote class="qa-passage">'
                   f'{marked(row["text"], [("hl", row.get("highlights") or [])])}</blockquote>'
                   f'<div class="qa-cite-head">{source_line(row, lang)} '
                   f'<span class="qa-score">{esc(t("score", lang))} {row["score"]:.4f}</span></div>{also}'
                   f'<div class="qa-actions">{cite_link(row, lang)} {copy_button(row.get("quote"), lang)}'
                   f'<span class="qa-quote">{esc(row.get("quote"))}</span></div></li>')
    out.append("</ol>")
    return "".join(out)
