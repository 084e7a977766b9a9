"""Renderers for `wba events` (streamed) and `wba files` (one row per input)."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

from analyzer.events import COLUMNS, iso_utc

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TextIO

    from analyzer.events import Event
    from analyzer.reader import FileReport

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
_TABLE = "{:<27} {:<24} {:<28} {:>6} {:>5} {:>10}  {}"
_LEVELS = {1: "crit", 2: "error", 3: "warn", 4: "info", 5: "verbose", 0: "info"}


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def write_events(events: Iterable[Event], fmt: str, out: TextIO) -> int:
    """Write events as they come; returns how many were written."""
    count = 0
    if fmt == "jsonl":
        for count, event in enumerate(events, 1):  # noqa: B007
            out.write(event.as_json() + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for count, event in enumerate(events, 1):  # noqa: B007
            row: list[Any] = [getattr(event, name) for name in COLUMNS]
            row[2] = iso_utc(event.time_created)
            row[-2] = json.dumps(event.data, ensure_ascii=False)
            row[-1] = json.dumps(event.fields, ensure_ascii=False)
            writer.writerow(["" if v is None else v for v in row])
    else:
        out.write(_TABLE.format("time (UTC)", "computer", "provider", "id", "level", "record", "data") + "\n")
        for count, event in enumerate(events, 1):  # noqa: B007
            level = _LEVELS.get(event.level or 0, str(event.level))
            out.write(
                _TABLE.format(
                    iso_utc(event.time_created),
                    _one_line(event.computer or "", 24),
                    _one_line(event.provider, 28),
                    event.event_id,
                    level,
                    event.event_record_id,
                    _one_line(" | ".join(event.data), 100),
                )
                + "\n"
            )
    return count


def file_row(report: FileReport) -> dict[str, Any]:
    def top(counter: Any, n: int = 3) -> str:
        return ", ".join(f"{k} ({v})" for k, v in counter.most_common(n))

    return {
        "path": report.path,
        "status": report.status,
        "engine": report.engine,
        "chunks": report.chunks,
        "records": report.events,
        "unreadable": report.unreadable,
        "first_event": iso_utc(report.first_event) if report.first_event else None,
        "last_event": iso_utc(report.last_event) if report.last_event else None,
        "computers": top(report.computers),
        "channels": top(report.channels),
        "top_providers": top(report.providers),
        "error": report.error or ("; ".join(report.problems) if report.problems else None),
    }


def write_files(reports: Iterable[FileReport], fmt: str, out: TextIO) -> None:
    rows = [file_row(r) for r in reports]
    if fmt == "json":
        out.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FILE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        from tabulate import tabulate

        shown = [{**r, "error": _one_line(r["error"] or "", 60)} for r in rows]
        out.write(tabulate(shown, headers="keys", tablefmt="simple", missingval="-") + "\n")
