"""Event Viewer "Save as CSV" and "Save as Text" (tab-separated) exports -> events, streamed.

The header names the columns shown in Event Viewer, in its display language
(`labels.COLUMNS`); each row holds those columns and then the description, which has no
column name. Such an export carries no computer, channel, record id, qualifiers or keywords
(they are null), and its times are the exporting machine's local time in its regional format
(`exported.Clock`: the day/month order is settled once per file).
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from analyzer.errors import InputError, RecordError
from analyzer.events import Event
from analyzer.ingest import sniff
from analyzer.ingest.exports import labels
from analyzer.ingest.exports.common import FIELD_LIMIT, DateOrderError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.ingest.exports.common import Clock, Facts


def _rows(path: Path) -> Iterator[list[str]]:
    """The file's rows (the first is the header), streamed; a malformed row ends the file with
    a RecordError row marker (a list holding the error)."""
    with sniff.open_text(path) as fh:
        first = fh.readline(FIELD_LIMIT)
        delimiter = "\t" if "\t" in first else ","
        reader = csv.reader(_chain(first, fh), delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            raise _Broken(reader.line_num, str(exc)) from None


class _Broken(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def read(path: Path, file: str, clock: Clock, facts: Facts) -> Iterator[Event | RecordError]:
    """Yield each exported event, or why a row could not be read; raise InputError for a file that
    is not such an export or whose dates cannot be read."""
    header, columns = _header(path)
    date, source, event_id, level = columns["date"], columns["source"], columns["event_id"], columns.get("level")
    width = len(header)
    try:
        order = clock.settle(row[date] for row in _data_rows(path) if len(row) > date)
    except DateOrderError as exc:
        raise InputError(path, str(exc)) from None
    except _Broken:
        order = clock.order or "dmy"  # the second pass reports where the file breaks
    zone = clock.tz()
    facts.carried(["computer", "channel", "record ids", "qualifiers", "keywords"])
    facts.local_times(clock)
    with sniff.open_text(path) as fh:
        delimiter = "\t" if "\t" in fh.readline(FIELD_LIMIT) else ","
    try:
        for row in _data_rows(path):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(date, source, event_id):
                yield RecordError("row with fewer columns than the header")
                continue
            try:
                yield Event(
                    file,
                    None,
                    clock.parse(row[date], order, zone),
                    row[source].strip(),
                    int(row[event_id]),
                    None,
                    labels.level_number(row[level]) if level is not None else None,
                    None,
                    None,
                    None,
                    None,
                    [delimiter.join(row[width:])],
                    {},
                )
            except ValueError:
                yield RecordError("row with a non-numeric event id")
            except RecordError as exc:
                yield exc
    except _Broken as exc:
        yield RecordError(f"malformed from line {exc.line} on ({exc.reason}): the rest of the file was not read")


def _header(path: Path) -> tuple[list[str], dict[str, int]]:
    try:
        header = next(_rows(path), [])
    except _Broken:
        header = []
    columns = labels.eventviewer_header(header)
    if columns is None:
        raise InputError(path, "not an Event Viewer export (unexpected header)")
    return header, columns


def _data_rows(path: Path) -> Iterator[list[str]]:
    rows = _rows(path)
    next(rows, None)
    return rows
