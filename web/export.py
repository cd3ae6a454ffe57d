"""Search results as CSV (UTF-8 with a BOM so spreadsheet programs read Vietnamese correctly), formula-safe."""
from __future__ import annotations

import csv
import io

from index.engine import format_date

FORMULA = ("=", "+", "-", "@", "\t", "\r")   # a text cell starting so would run as a formula (OWASP CSV injection)
COLUMNS = ["rank", "score", "title", "type", "number", "issuer", "date", "province", "section",
           "line_start", "line_end", "page", "text", "quote", "doc_id", "path"]


def results_csv(result: dict) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in result.get("results") or []:
        doc = row["doc"]
        writer.writerow([cell(v) for v in (
            row["rank"], row["score"], doc.get("title"), doc.get("type"), doc.get("number"), doc.get("issuer"),
            format_date(doc.get("date")), doc.get("province"), row.get("section"), row.get("line_start"),
            row.get("line_end"), row.get("page"), row.get("text"), row.get("quote"), doc.get("id"), doc.get("path"))])
    return out.getvalue()


def cell(value):
    """Numbers stay numbers; text that a spreadsheet would run as a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return value
