"""`wba timeline`'s rows (`analysis/timeline.py`) as a table, Markdown, JSON, JSON Lines or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from analyzer.analysis.timeline import EVENT_COLUMNS
from analyzer.reports.rows import short
from analyzer.reports.textsafe import csv_cell, json_text

# Columns a narrow terminal drops first, and the shortest a text column may become.
DROP = ["provider", "tracking_id", "name", "events", "duration_s", "level", "kind", "cause", "user"]
SHRINK = {"meaning": 20, "server": 12, "user": 16, "cause": 12}


def render(rows: list[dict[str, Any]], fmt: str, width: int | None = None) -> str:
    """`width`: the terminal's, for the table to fit (None: every column)."""
    if fmt == "json":
        return json_text(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n"
    if fmt == "jsonl":
        return "".join(json_text(json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)
    columns = list(rows[0]) if rows else EVENT_COLUMNS
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([csv_cell(v) for v in r.values()] for r in rows)
        return buffer.getvalue()
    table = [[short(v) if k in ("time", "start") else v for k, v in r.items()] for r in rows]
    if fmt == "markdown":
        from analyzer.reports.markdown import table as markdown_table

        return "\n".join(markdown_table(columns, table, "en")).rstrip("\n") + "\n"
    from analyzer.reports.columns import grid

    return grid(columns, table, width, drop=DROP, shrink=SHRINK) + "\n"
