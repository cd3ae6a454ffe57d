"""HTML fragments for answers and results: everything from documents and queries escaped, matches highlighted."""
from __future__ import annotations

import html
from typing import Callable
from urllib.parse import quote

from index.engine import figure_spans
from index.engine import format_date
from web.i18n import DOC_TYPES, t

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
    """Title, then labelled fields (type in English, number, issuer, date, province, section, lines), all escaped."""
    doc = cite["doc"]
    kind = doc.get("type")
    kind = f"{DOC_TYPES[kind]} ({kind})" if lang == "en" and kind in DOC_TYPES else kind if lang == "en" else None
    fields = [("f_type", kind), ("f_number", doc.get("number")), ("f_issuer", doc.get("issuer")),
              ("f_date", format_date(doc.get("date"))), ("f_province", doc.get("province")), ("f_section", cite.get("section"))]
    parts = [f'<span class="qa-src-part qa-{key[2:]}"><span class="qa-k">{esc(t(key, lang))}:</span> {esc(value)}</span>'
             for key, value in fields if value]
    if lines_label(cite, lang):
        parts.append(f'<span class="qa-src-part">{esc(lines_label(cite, lang))}</span>')
    return f'<span class="qa-src-title">{esc(doc.get("title"))}</span>' + (f" — {' · '.join(parts)}" if parts else "")


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


def confidence_html(level: str, lang: str) -> str:
    """"Confidence: high" in plain words, with why for a medium or low one; nothing for "none" (no answer says so)."""
    if level not in ("high", "medium", "low"):
        return ""
    why = t(f"conf_{level}_why", lang)
    note = f' <span class="qa-why">{esc(why)}</span>' if level != "high" else ""
    return (f'<div class="qa-confidence qa-conf-{level}" title="{esc(why)}">{esc(t("confidence", lang))}: '
            f'<b>{esc(t(f"conf_{level}", lang))}</b>{note}</div>')


def answer_html(result: dict, lang: str, highlight: Highlighter | None = None, turn: int = 0,
                level: str | None = None, read_as: str | None = None) -> str:
    """The reply to a question: how it was read, the answering sentence with [n] links to its numbered citations
    (ids qa-c<turn>-<n>), how sure it is, the citations and other documents' figures."""
    out = [f'<div class="qa-understood">{esc(t("understood", lang))}: {esc(read_as)}</div>'] if read_as else []
    out.append(not_covered_html(result, lang))
    found = result.get("answer")
    if not found:
        return "".join(out) + f'<div class="qa-noanswer">{esc(t("no_answer", lang))}</div>' + closest_html(result, lang, highlight)
    cites = found["citations"]
    refs = "".join(f'<sup class="qa-ref"><a href="#qa-c{turn}-{n}">[{n}]</a></sup>' for n in range(1, len(cites) + 1))
    out.append(f'<div class="qa-h qa-h-answer">{esc(t("answer_quoted", lang))}</div>'
               f'<div class="qa-answer" lang="vi">{marked(found["text"], [("fig", found["figures"])])} {refs}</div>')
    out.append(confidence_html(level or "", lang))
    if result.get("restored"):
        out.append(f'<div class="qa-restored">{esc(t("restored", lang))}: {esc(result["restored"])}</div>')
    out.append(f'<div class="qa-h">{esc(t("sources", lang))}</div><ol class="qa-cites">')
    for n, cite in enumerate(cites, start=1):
        out.append(_citation(n, cite, lang, passage(cite["text"], highlight, found["text"], found["figures"]),
                             anchor=f"qa-c{turn}-{n}"))
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


CLOSEST = 3   # passages shown under "no answer"


def not_covered_html(result: dict, lang: str) -> str:
    """What the question names that no indexed document is about, said first ("Không có văn bản nào của Hà Giang")."""
    missing = result.get("not_covered") or {}
    lines = [t(key, lang).format(names=", ".join(missing[field])) for field, key in
             (("provinces", "not_province"), ("years", "not_year"), ("numbers", "not_number")) if missing.get(field)]
    return "".join(f'<div class="qa-notcovered">{esc(line)}</div>' for line in lines)


def closest_html(result: dict, lang: str, highlight: Highlighter | None) -> str:
    """The closest passages when nothing answers, each with its source (title, province, section, lines)."""
    rows = (result.get("results") or [])[:CLOSEST]
    if not rows:
        return ""
    items = "".join(_citation(n, row, lang, passage(row["text"], highlight)) for n, row in enumerate(rows, start=1))
    return (f'<div class="qa-h qa-h-closest">{esc(t("closest", lang))}</div>'
            f'<ol class="qa-cites qa-closest">{items}</ol>')


def _citation(n: int, cite: dict, lang: str, body: str, lead: str = "", anchor: str = "") -> str:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    # In English the Vietnamese reference is shown as the one to quote; in Vietnamese the source line says it.
    quote_line = (f'<div class="qa-quote-line"><span class="qa-k">{esc(t("cite_as", lang))}:</span> '
                  f'<span class="qa-quote" lang="vi">{esc(cite["quote"])}</span></div>') if cite.get("quote") and lang == "en" else ""
    return (f'<li class="qa-cite" value="{n}"{ident}><div class="qa-cite-head"><b>[{n}]</b> {source_line(cite, lang)}</div>'
            f'{lead}<blockquote class="qa-passage" lang="vi">{body}</blockquote>{quote_line}'
            f'<div class="qa-actions">{cite_link(cite, lang)} {copy_button(cite.get("quote"), lang)}</div></li>')


def chat_html(turns: list[tuple[str, str]], lang: str) -> str:
    """The conversation: (question, reply HTML) pairs, newest last; replies are already escaped HTML."""
    if not turns:
        return f'<div class="qa-empty">{esc(t("empty_chat", lang))}</div>'
    return "".join(f'<div class="qa-turn"><div class="qa-q">{esc(q)}</div><div class="qa-a">{reply}</div></div>'
                   for q, reply in turns)


def results_html(result: dict, lang: str, level: str | None = None) -> str:
    """Search results: passage with highlights, citation line, also-in sources, copy and open (no raw score: it means
    nothing to a reader; the API and the CSV keep it)."""
    rows = result.get("results") or []
    if not rows:
        return not_covered_html(result, lang) + f'<div class="qa-noanswer">{esc(t("no_results", lang))}</div>'
    out = [not_covered_html(result, lang), confidence_html(level or "", lang),
           f'<div class="qa-meta">{len(rows)} {esc(t("results_n", lang))} · {esc(t("took", lang))} '
           f'{esc(result.get("took_ms"))} ms</div><ol class="qa-results">']
    for row in rows:
        also = "".join(f'<div class="qa-also">{esc(t("also_in", lang))}: {source_line(c, lang)} {cite_link(c, lang)}</div>'
                       for c in row.get("also_in") or [])
        out.append(f'<li class="qa-result" value="{row["rank"]}"><blockquote class="qa-passage">'
                   f'{marked(row["text"], [("hl", row.get("highlights") or [])])}</blockquote>'
                   f'<div class="qa-cite-head">{source_line(row, lang)}</div>{also}'
                   f'<div class="qa-actions">{cite_link(row, lang)} {copy_button(row.get("quote"), lang)}'
                   f'<span class="qa-quote">{esc(row.get("quote"))}</span></div></li>')
    out.append("</ol>")
    return "".join(out)
