"""Rows of `wba events` (streamed), `wba files` (one row per input) and `wba timeline`."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from analyzer.analysis.timeline import EVENT_COLUMNS
from analyzer.events import COLUMNS, Lines, iso_time, json_line
from analyzer.ingest.read import FileReport
from analyzer.reports.columns import shorten, width_of
from analyzer.reports.rows import short
from analyzer.reports.textsafe import clean, csv_cell, json_text

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from typing import TextIO

    from analyzer.events import Event

FILE_COLUMNS = [
    "path",
    "status",
    "engine",
    "chunks",
    "records",
    "unreadable",
    "first_event",
    "last_event",
    "computers",
    "channels",
    "top_providers",
    "error",
]
_LEVELS = {1: "crit", 2: "error", 3: "warn", 4: "info", 5: "verbose", 0: "info"}
DATA_WIDTH = 100  # the data column of the events table, when no terminal width is known


def _layout(width: int | None) -> tuple[str, int]:
    """The events table's row format and data width: every column when the terminal is wide (or
    unknown), otherwise narrower computer and provider columns and no record id."""
    if width is None or width >= 140:
        return "{:<20} {:<24} {:<28} {:>6} {:<5} {:>10}  {}", DATA_WIDTH if width is None else width - 100
    return "{:<20} {:<16} {:<16} {:>6} {:<5}  {}", max(width - 69, 10)


def _one_line(text: str, width: int) -> str:
    flat = clean(" ".join(text.split()))
    return flat if width_of(flat) <= width else shorten(flat, width)


def write_events(
    events: Iterable[Event], fmt: str, out: TextIO, width: int | None = None, local: Collection[str] = ()
) -> int:
    """Write events as they come; returns how many were written. `width`: the terminal's, which
    the table fits (None: every column, and the first 100 characters of the data). `local`: the
    inputs whose times are local wall clocks (written without `Z`)."""
    out.write(events_header(fmt, width))
    return write_rows(events, fmt, out, width, local)


def events_header(fmt: str, width: int | None = None) -> str:
    """What `write_events` writes before the first event."""
    if fmt == "csv":
        return ",".join(COLUMNS) + "\n"
    if fmt == "jsonl":
        return ""
    form, _ = _layout(width)
    head = ["time (UTC)", "computer", "provider", "id", "level", "record", "data"]
    return form.format(*(head[:5] + head[6:] if width is not None and width < 140 else head)) + "\n"


def event_rows(events: list[Event | Lines], fmt: str, width: int | None = None, local: bool = False) -> str:
    """The rows of `events` (`Lines`: events already in their JSON lines) of one input (`local`:
    whose times are local wall clocks)."""
    if fmt == "jsonl":
        return "".join(
            "".join(line[0] for line in item.lines) if type(item) is Lines else json_line(item, local)  # type: ignore[union-attr, arg-type]
            for item in events
        )
    out = io.StringIO()
    files = {e.file for e in events if type(e) is not Lines} if local else ()  # type: ignore[union-attr]
    write_rows(events, fmt, out, width, files)  # type: ignore[arg-type]
    return out.getvalue()


def write_rows(
    events: Iterable[Event], fmt: str, out: TextIO, width: int | None = None, local: Collection[str] = ()
) -> int:
    """The events' rows, without the header."""
    count = 0
    if fmt == "jsonl":
        for count, event in enumerate(events, 1):  # noqa: B007
            out.write(json_line(event, event.file in local))
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        for count, event in enumerate(events, 1):  # noqa: B007
            row: list[Any] = [getattr(event, name) for name in COLUMNS]
            row[2] = iso_time(event.time_created, event.file in local)
            row[-2] = json_text(json.dumps(event.data, ensure_ascii=False))
            row[-1] = json_text(json.dumps(event.fields, ensure_ascii=False))
            writer.writerow(["" if v is None else csv_cell(v) for v in row])
    else:
        form, data = _layout(width)
        narrow = width is not None and width < 140
        names = 16 if narrow else 24, 16 if narrow else 28
        for count, event in enumerate(events, 1):  # noqa: B007
            cells = [
                short(iso_time(event.time_created, event.file in local)),
                _one_line(event.computer or "", names[0]),
                _one_line(event.provider, names[1]),
                event.event_id,
                _LEVELS.get(event.level or 0, str(event.level)),
                "-" if event.event_record_id is None else event.event_record_id,
                _one_line(" | ".join(event.data), data),
            ]
            out.write(form.format(*(cells[:5] + cells[6:] if narrow else cells)) + "\n")
    return count


def file_row(report: FileReport) -> dict[str, Any]:
    def top(counter: Any, n: int = 3) -> str:
        return ", ".join(f"{k or '(none)'} ({v})" for k, v in counter.most_common(n))

    return {
        "path": report.path,
        "status": report.status,
        "engine": report.engine if report.kind in (None, "evtx") else report.kind,  # an export: its reader
        "chunks": report.chunks,
        "records": report.events,
        "unreadable": report.unreadable,
        "first_event": iso_time(report.first_event, report.times == "local") if report.first_event else None,
        "last_event": iso_time(report.last_event, report.times == "local") if report.last_event else None,
        "computers": top(report.computers),
        "channels": top(report.channels),
        "top_providers": top(report.providers),
        "error": report.error or ("; ".join(report.problems) if report.problems else None),
    }


# Columns a narrow terminal drops first, and the shortest a text column may become.
FILE_DROP = ["channels", "engine", "chunks", "first_event", "top_providers", "last_event", "computers", "status"]
FILE_SHRINK = {"path": 20, "error": 20, "computers": 16, "top_providers": 16}


def write_files(reports: Iterable[FileReport], fmt: str, out: TextIO, width: int | None = None) -> None:
    rows = [file_row(r) for r in reports]
    if fmt == "json":
        out.write(json_text(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FILE_COLUMNS)
        writer.writerows([csv_cell(v) for v in row.values()] for row in rows)
    else:
        from analyzer.reports.columns import grid

        table = [[short(v) if k in ("first_event", "last_event") else v for k, v in row.items()] for row in rows]
        out.write(grid(FILE_COLUMNS, table, width, drop=FILE_DROP, shrink=FILE_SHRINK) + "\n")


# -- `wba timeline` ---------------------------------------------------------------------------------

# Columns a narrow terminal drops first, and the shortest a text column may become.
TIMELINE_DROP = ["provider", "tracking_id", "name", "events", "duration_s", "level", "kind", "cause", "user"]
TIMELINE_SHRINK = {"meaning": 20, "server": 12, "user": 16, "cause": 12}


def timeline_text(rows: list[dict[str, Any]], fmt: str, width: int | None = None, local: bool = False) -> str:
    """`wba timeline`'s rows (`analysis/timeline.py`) in `fmt`. `width`: the terminal's, for the
    table to fit (None: every column). `local`: some times are local wall clocks (shown without
    `Z`); the table and Markdown say so above the rows."""
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
    banner = f"!! {LOCAL_TIMES}\n\n" if local else ""
    if fmt == "markdown":
        from analyzer.reports.markdown import table as markdown_table

        return banner + "\n".join(markdown_table(columns, table, "en")).rstrip("\n") + "\n"
    from analyzer.reports.columns import grid

    return banner + grid(columns, table, width, drop=TIMELINE_DROP, shrink=TIMELINE_SHRINK) + "\n"


LOCAL_TIMES = (
    "Times without Z are the exporting machine's local time, time zone unknown (not UTC): "
    "give --input-tz to convert them."
)
