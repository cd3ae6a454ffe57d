"""The start-up status in the page: loading the index, the first build with its progress, or why it failed."""
from __future__ import annotations

import re

from web.i18n import t
from web.render import esc

READING = re.compile(r"reading (.+)")
EMBEDDING = re.compile(r"embedding (\d+)/(\d+) chunks")
SHARE_READING = 0.3   # of the build: reading the files; the rest is embedding their passages


def progress(status: dict, lang: str) -> tuple[int, str]:
    """Percent of the first build done and what it is doing, in `lang`. The build reports reading as 0-30%
    and then embedding as a fraction of its own: both become one rising percentage here."""
    message = status.get("message") or ""
    if m := EMBEDDING.fullmatch(message):
        done, total = int(m[1]), max(1, int(m[2]))
        share = SHARE_READING + (1 - SHARE_READING) * done / total
        return round(share * 100), (f"đã nhúng {done}/{total} đoạn văn bản" if lang == "vi" else
                                    f"{done} of {total} passages embedded")
    if m := READING.fullmatch(message):
        return round(status["progress"] * 100), ("đang đọc " if lang == "vi" else "reading ") + m[1]
    return round(status["progress"] * 100), ""


def status_html(status: dict, lang: str) -> str:
    """Nothing once the index is ready; else a translated sentence, and a progress bar while the index is built."""
    state = status.get("status")
    if state == "ok":
        return ""
    if state == "error":
        return (f'<div class="qa-status qa-status-error" role="alert">{esc(t("start_failed", lang))}: '
                f'{esc(status.get("message"))}</div>')
    if state != "building":
        return f'<div class="qa-status" role="status">{esc(t("load_progress", lang))}</div>'
    percent, detail = progress(status, lang)
    return (f'<div class="qa-status" role="status"><div>{esc(t("build_progress", lang).format(percent=percent))}</div>'
            f'<progress class="qa-progress" max="100" value="{percent}">{percent}%</progress>'
            f'<div class="qa-status-detail">{esc(detail)}</div></div>')
