"""Renderers for `wba events` (streamed) and `wba files` (one row per input)."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import sys
import tempfile
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.events import COLUMNS, Lines, iso_utc, json_line
from analyzer.ingest.inputs import open_inputs
from analyzer.ingest.read import DEFAULT_TIMEOUT, FileReport, merge_pieces, read_file
from analyzer.reports.columns import shorten, width_of
from analyzer.reports.rows import short
from analyzer.reports.textsafe import clean, csv_cell, json_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import TextIO

    from analyzer.events import Event
    from analyzer.evtx.layout import Piece
    from analyzer.ingest.inputs import Input, Limits, Options
    from analyzer.run.progress import Progress

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


def write_events(events: Iterable[Event], fmt: str, out: TextIO, width: int | None = None) -> int:
    """Write events as they come; returns how many were written. `width`: the terminal's, which
    the table fits (None: every column, and the first 100 characters of the data)."""
    out.write(events_header(fmt, width))
    return write_rows(events, fmt, out, width)


def events_header(fmt: str, width: int | None = None) -> str:
    """What `write_events` writes before the first event."""
    if fmt == "csv":
        return ",".join(COLUMNS) + "\n"
    if fmt == "jsonl":
        return ""
    form, _ = _layout(width)
    head = ["time (UTC)", "computer", "provider", "id", "level", "record", "data"]
    return form.format(*(head[:5] + head[6:] if width is not None and width < 140 else head)) + "\n"


def event_rows(events: list[Event | Lines], fmt: str, width: int | None = None) -> str:
    """The rows of `events` (`Lines`: events already in their JSON lines)."""
    if fmt == "jsonl":
        return "".join(
            "".join(line[0] for line in item.lines) if type(item) is Lines else json_line(item)  # type: ignore[union-attr, arg-type]
            for item in events
        )
    out = io.StringIO()
    write_rows(events, fmt, out, width)  # type: ignore[arg-type]
    return out.getvalue()


def write_rows(events: Iterable[Event], fmt: str, out: TextIO, width: int | None = None) -> int:
    """The events' rows, without the header."""
    count = 0
    if fmt == "jsonl":
        for count, event in enumerate(events, 1):  # noqa: B007
            out.write(json_line(event))
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        for count, event in enumerate(events, 1):  # noqa: B007
            row: list[Any] = [getattr(event, name) for name in COLUMNS]
            row[2] = iso_utc(event.time_created)
            row[-2] = json_text(json.dumps(event.data, ensure_ascii=False))
            row[-1] = json_text(json.dumps(event.fields, ensure_ascii=False))
            writer.writerow(["" if v is None else csv_cell(v) for v in row])
    else:
        form, data = _layout(width)
        narrow = width is not None and width < 140
        names = 16 if narrow else 24, 16 if narrow else 28
        for count, event in enumerate(events, 1):  # noqa: B007
            cells = [
                short(iso_utc(event.time_created)),
                _one_line(event.computer or "", names[0]),
                _one_line(event.provider, names[1]),
                event.event_id,
                _LEVELS.get(event.level or 0, str(event.level)),
                event.event_record_id,
                _one_line(" | ".join(event.data), data),
            ]
            out.write(form.format(*(cells[:5] + cells[6:] if narrow else cells)) + "\n")
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


# -- `wba events` in file order: read and serialized by the workers, written here in order --------

FRAME = 1024  # events a worker writes at a time
_HEAD = struct.Struct("<QI")  # a frame: its length in bytes and its number of events, then the bytes


def export(
    paths: list[Path],
    engine: str,
    fmt: str,
    out: TextIO | Path,
    reports: list[FileReport],
    warn: Callable[[str], None],
    jobs: int = 1,
    width: int | None = None,
    limits: Limits | None = None,
    options: Options | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int], Progress] | None = None,
) -> None:
    """Every input's events in input and record order, as `write_events` writes them to `out`
    (Parquet: as `parquet.write` writes them into the directory `out`).

    Each input (a big log: each piece of its chunks) is read and serialized by a guarded worker
    into a spill file of frames (Parquet: Arrow batches), which this process copies to `out` in
    order as they are done: no event is held in memory here, however big the inputs. An input
    stopped part way (time limit, crash) keeps the events of its whole frames, as a streamed read
    would.
    """
    from analyzer.run import pool
    from analyzer.run.pipeline import split

    with (
        open_inputs(paths, limits, options) as inputs,
        tempfile.TemporaryDirectory(prefix="wba-events-") as spill,
        _sink(fmt, out, width) as take,
    ):
        for display, why in inputs.skipped:
            warn(f"skipped: {display}: {why}")
        for display, problem in inputs.problems:
            report = FileReport(display, engine, error=problem)
            reports.append(report)
            warn(report.message() or "")
        items = inputs.files
        meter = progress(len(items)) if progress else None
        plans = split(items, jobs, engine)
        tasks = [(item, piece) for item, plan in zip(items, plans, strict=True) for piece in plan]
        if meter:
            meter.plan(len(tasks))
        worker = partial(_spill, engine, fmt, width, Path(spill))
        results = pool.run(worker, [(n, *task) for n, task in enumerate(tasks)], jobs, timeout)
        done = 0
        for item, plan in zip(items, plans, strict=True):
            parts: list[FileReport] = []
            given, failed = 0, None
            for _ in plan:
                result, frames = next(results), Path(spill) / str(done)
                done += 1
                if failed is None:  # the pieces after a failed one are not written, as if read whole
                    events = take(frames)
                    given += events
                    if meter:
                        meter.piece(events)
                    if isinstance(result, pool.Failed):
                        failed = result
                    else:
                        parts.append(result)
                frames.unlink(missing_ok=True)
            if failed is not None:
                reason = f"{failed.reason} after {given} events" if given else failed.reason
                report = FileReport(item.display, engine, error=reason, kind=item.kind, events=given)
            else:
                report = parts[0] if len(parts) == 1 else merge_pieces(parts)
            reports.append(report)
            if meter:
                meter.file()
            message = report.message()
            if message:
                warn(message)
        if meter:
            meter.finish()


def _spill(
    engine: str, fmt: str, width: int | None, folder: Path, n: int, item: Input, piece: Piece | None
) -> FileReport:
    """(In a worker.) Read one input or piece into frames of serialized events in `folder`/`n`."""
    report = FileReport(item.display, engine)
    path = folder / str(n)
    if fmt == "parquet":
        from analyzer.reports import parquet

        parquet.spill(_framed(read_file(item, engine, report, piece=piece, lines="row")), path)
        return report
    with path.open("wb") as frames:
        for batch in _framed(read_file(item, engine, report, piece=piece, lines="json" if fmt == "jsonl" else None)):
            data = event_rows(batch, fmt, width).encode()
            frames.write(_HEAD.pack(len(data), _count(batch)) + data)
            frames.flush()  # whole frames on disk: what a stopped worker gave is kept
    return report


def _count(items: list[Event | Lines]) -> int:
    return sum(len(item.numbers) if type(item) is Lines else 1 for item in items)  # type: ignore[union-attr]


def _framed(items: Iterator[Event | Lines]) -> Iterator[list[Event | Lines]]:
    """Items in lists of about FRAME events."""
    frame: list[Event | Lines] = []
    size = 0
    for item in items:
        frame.append(item)
        size += len(item.numbers) if type(item) is Lines else 1  # type: ignore[union-attr]
        if size >= FRAME:
            yield frame
            frame, size = [], 0
    if frame:
        yield frame


@contextmanager
def _sink(fmt: str, out: TextIO | Path, width: int | None) -> Iterator[Callable[[Path], int]]:
    """What takes a spill file into the output, and returns how many events it held."""
    if fmt == "parquet":
        from analyzer.reports import parquet

        assert isinstance(out, Path)
        with parquet.Export(out) as export:

            def add(frames: Path) -> int:
                count = 0
                for batch in parquet.unspill(frames):
                    export.add(batch)
                    count += batch.num_rows
                return count

            yield add
        return
    assert not isinstance(out, Path)
    out.write(events_header(fmt, width))
    write = _writer(out)
    yield lambda frames: _copy(frames, write)


def _copy(frames: Path, write: Callable[[bytes], Any]) -> int:
    """The whole frames of a spill file to the output; returns how many events they held."""
    events = 0
    try:
        source = frames.open("rb")
    except FileNotFoundError:  # the worker died before it began
        return 0
    with source:
        while len(head := source.read(_HEAD.size)) == _HEAD.size:
            size, count = _HEAD.unpack(head)
            data = source.read(size)
            if len(data) < size:
                break  # cut short by a stopped worker
            write(data)
            events += count
    return events


def _writer(out: TextIO) -> Callable[[bytes], Any]:
    """Bytes to `out`: to its binary layer, unless it translates newlines (standard output on
    Windows) or has none (a test's capture): then as text."""
    binary = getattr(out, "buffer", None)
    if binary is None or (out is sys.stdout and os.linesep != "\n"):
        return lambda data: out.write(data.decode())
    out.flush()
    return binary.write
