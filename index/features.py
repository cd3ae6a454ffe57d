"""What each passage is, computed once when it is indexed: kind of content, recipients list, scope, words."""
from __future__ import annotations

import re
import sys

from core.document import SIGNATURE, Chunk, Features, Metadata
from core.text import YEAR, content_words
from core.vietnamese import fold

_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}", re.I)
_FIGURE = re.compile(r"(?<![(\w])\d+(?:[.,]\d+)*\s*(?:%|ha\b|tỷ|triệu|nghìn|USD|xã|lượt|đảng viên|giường|bác sĩ|trường)", re.I)
RECIPIENTS = "noi nhan"   # the folded heading of a recipients list ("Nơi nhận")
FEATURES_VERSION = 1      # recorded in the index manifest; bump it when features_of changes, so the next ingest recomputes


def kinds_of(chunk: Chunk) -> list[str]:
    """What kinds of answer a passage holds: "number", "date", "who", "signer"."""
    kinds = []
    if _FIGURE.search(chunk.text):
        kinds.append("number")
    if _DATE.search(chunk.text):
        kinds.append("date")
    if chunk.section[-1:] == [SIGNATURE]:
        kinds += ["who", "signer"]
    return kinds


def features_of(chunk: Chunk, meta: Metadata) -> Features:
    """A passage's features in the context its document gives it (title, issuer, province, headings)."""
    context = " ".join([" ".join(filter(None, [meta.title, meta.issuer, meta.province])), *chunk.section, chunk.text])
    words = content_words(context)
    scope = ([fold(meta.province)] if meta.province else []) + sorted(w for w in words if YEAR.fullmatch(w))
    # words are interned: a million passages share one copy of each word, not one per passage
    return Features(kinds=kinds_of(chunk), aside=fold(chunk.section[0] if chunk.section else "") == RECIPIENTS,
                    scope=scope, words=sorted(map(sys.intern, words)),
                    words_exact=sorted(map(sys.intern, content_words(context, exact=True))))
