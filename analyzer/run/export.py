"""`wba events`: every input's events written out in order, read and serialized by the workers.

In file order (`export`), each input (a big log: each piece of its chunks) is read and serialized
by a guarded worker into a spill file, which this process copies to the output in order as they
are done: no event is held here, however big the inputs. By time (`export_by_time`), every event is
held and sorted first.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
from contextlib import ExitStack, closing, contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.events import Lines
from analyzer.ingest.inputs import open_inputs
from analyzer.ingest.read import DEFAULT_TIMEOUT, FileReport, merge_pieces, read_file, refused
from analyzer.reports.listing import event_rows, events_header, write_events

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import TextIO

    from analyzer.events import Event
    from analyzer.evtx.layout import Piece
    from analyzer.ingest.inputs import Input, Limits, Options
    from analyzer.run.progress import Progress


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

    # The workers are ended (`closing`) before their spill directory is removed, also when the output
    # goes away (`| head`): a worker still writing there would make its removal fail.
    with (
        open_inputs(paths, limits, options) as inputs,
        tempfile.TemporaryDirectory(prefix="wba-events-", ignore_cleanup_errors=True) as spill,
        _sink(fmt, out, width) as take,
        ExitStack() as stack,
    ):
        reports += refused(inputs, engine, warn)
        items = inputs.files
        meter = progress(len(items)) if progress else None
        plans = split(items, jobs, engine)
        tasks = [(item, piece) for item, plan in zip(items, plans, strict=True) for piece in plan]
        if meter:
            meter.plan(len(tasks))
        worker = partial(_spill, engine, fmt, width, Path(spill))
        results = stack.enter_context(
            closing(pool.run(worker, [(n, *task) for n, task in enumerate(tasks)], jobs, timeout))
        )
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

        events = _framed(read_file(item, engine, report, piece=piece, lines="row"))
        parquet.spill(events, path, lambda: (report.path,) if report.times == "local" else ())
        return report
    with path.open("wb") as frames:
        for batch in _framed(read_file(item, engine, report, piece=piece, lines="json" if fmt == "jsonl" else None)):
            data = event_rows(batch, fmt, width, report.times == "local").encode()
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


def export_by_time(
    events: Iterable[Event], reports: list[FileReport], fmt: str, output: Path | None, width: int | None = None
) -> None:
    """Every event, sorted by (time, file, record id), to `output` (stdout if None; Parquet: a
    directory). All of them are held in memory to be sorted; `reports` fill as `events` are read."""
    from analyzer.reports.destination import open_output

    ordered = iter(sorted(events, key=lambda e: (e.time_created, e.file, e.event_record_id or 0)))
    local = {r.path for r in reports if r.times == "local"}
    if fmt == "parquet":
        from analyzer.reports import parquet

        assert output is not None
        parquet.write(ordered, output, local)
        return
    with open_output(output) as out:
        write_events(ordered, fmt, out, width, local)
