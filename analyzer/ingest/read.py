"""Read inputs with an engine: events streamed record by record, plus an account of each file.

For every file, records in chunks = events + unreadable: the chunk headers say
how many records each chunk holds, so records an engine skipped, could not
parse, or lost with a damaged chunk are all counted.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError, InputError, RecordError
from analyzer.events import Lines, iso_utc
from analyzer.evtx import layout as layout_mod
from analyzer.ingest.inputs import Input, kind_of
from analyzer.ingest.normalize import parse_time
from analyzer.sentences import CONVERTED, LOCAL_TIMES

if TYPE_CHECKING:
    from array import array
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from analyzer.events import Event
    from analyzer.ingest.counting import Coverage, Keep
    from analyzer.ingest.inputs import Inputs

ENGINES = ("auto", "rust", "python")
DEFAULT_TIMEOUT = 600.0  # seconds one file may take before its reader is stopped


def resolve_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise AnalyzerError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if engine != "auto":
        return engine
    try:
        import evtx  # noqa: F401
    except ImportError:
        return "python"
    return "rust"


@dataclass
class FileReport:
    """What reading one input produced; `wba files` prints one row per report."""

    path: str
    engine: str
    size: int = 0
    chunks: int = 0
    expected: int = 0  # records the chunk headers declare
    events: int = 0
    unreadable: int = 0
    first_event: datetime | None = None
    last_event: datetime | None = None
    computers: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    providers: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False  # not read, as no log (`error` says why): a `skipped:` line, not an `error:`
    kind: str = "evtx"  # one of analyzer.ingest.sniff.LOGS
    notes: list[str] = field(default_factory=list)  # facts about the input that are not problems
    times: str = "utc"  # "local": times are the exporting machine's wall clock (no zone known)
    timezone: str | None = None  # the zone local times were converted from (--input-tz)
    rejected: Counter[str] = field(default_factory=Counter)  # records that did not parse, by reason
    # Counting per chunk (by index), so that pieces of a file add up to the whole: records each
    # chunk declares (chunks read here), and records counted against each chunk by their number.
    declared: dict[int, int] = field(default_factory=dict)
    returned: Counter[int] = field(default_factory=Counter)
    stray: int = 0  # records numbered outside every chunk header's range: not read (not events)

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        if self.error:
            return "failed"
        if self.unreadable:
            return "partial"
        return "damaged" if self.problems else "ok"

    def message(self) -> str | None:
        """The one stderr line for this input, or None when it was read cleanly."""
        if self.error:
            return f"{'skipped' if self.skipped else 'error'}: {self.path}: {self.error}"
        if not self.problems and not self.unreadable:
            return None
        what = "; ".join(self.problems[:3]) + (f"; +{len(self.problems) - 3} more" if len(self.problems) > 3 else "")
        return f"warning: {self.path}: {self.unreadable} of {self.expected} records unreadable ({what})"

    def observe(self, event: Event) -> None:
        self.events += 1
        moment = event.time_created
        if self.first_event is None or moment < self.first_event:
            self.first_event = moment
        if self.last_event is None or moment > self.last_event:
            self.last_event = moment
        self.computers[event.computer or ""] += 1
        self.channels[event.channel or ""] += 1
        self.providers[event.provider] += 1


def _spans(chunks: list[layout_mod.Chunk]) -> list[tuple[int, int, int]]:
    """Record numbers -> chunk: (first, last, index in `chunks`), sorted and disjoint. Where the
    ranges chunk headers declare overlap (damage), a number belongs to the first chunk in the
    file that declares it, so records count the same whichever way they are read."""
    ranked = [(c.first, c.last, i) for i, c in enumerate(chunks) if c.expected]
    ordered = sorted(ranked)
    if all(a[1] < b[0] for a, b in pairwise(ordered)):
        return ordered  # no overlap: the usual case
    spans: list[tuple[int, int, int]] = []
    for first, last, index in ranked:  # in file order: earlier chunks keep what they declare
        at = bisect.bisect_left(spans, (first, -1, -1))
        if at and spans[at - 1][1] >= first:
            at -= 1
        gaps, low = [], first
        while at < len(spans) and spans[at][0] <= last:
            if spans[at][0] > low:
                gaps.append((low, spans[at][0] - 1, index))
            low = max(low, spans[at][1] + 1)
            at += 1
        if low <= last:
            gaps.append((low, last, index))
        for gap in gaps:
            bisect.insort(spans, gap)
    return spans


class _Ledger:
    """Per-chunk counts of what the engine returned, keyed by record-header number."""

    def __init__(self, layout: layout_mod.Layout) -> None:
        self.ranges = _spans(layout.chunks)
        self.firsts = [r[0] for r in self.ranges]
        self.layout = layout
        self.returned = Counter[int]()
        self._last: tuple[int, int, int] | None = None
        self.rejected = Counter[str]()
        self.stray = 0  # records whose number no chunk header declares: not read

    def chunk_of(self, number: int) -> int | None:
        last = self._last
        if last is not None and last[0] <= number <= last[1]:
            return last[2]
        i = bisect.bisect_right(self.firsts, number) - 1
        if i >= 0 and self.ranges[i][0] <= number <= self.ranges[i][1]:
            self._last = self.ranges[i]
            return self.ranges[i][2]
        return None

    def take(self, numbers: list[int]) -> bool:
        """Count records of readable chunks together, if all of them are (else count none)."""
        ordered = sorted(numbers)  # already in order, mostly: quick
        if not ordered:
            return True
        at = bisect.bisect_right(self.firsts, ordered[0]) - 1
        counts = []
        while at >= 0 and at < len(self.ranges):
            first, last, index = self.ranges[at]
            low = bisect.bisect_left(ordered, first)
            high = bisect.bisect_right(ordered, last)
            if high > low:
                if not self.layout.chunks[index].readable:
                    return False
                counts.append((index, high - low))
            if high == len(ordered) or first > ordered[-1]:
                break
            at += 1
        if sum(count for _, count in counts) != len(ordered):
            return False  # some outside every chunk's range: counted one by one
        for index, count in counts:
            self.returned[index] += count
        return True

    def tally(self, numbers: array[int], layout: layout_mod.Layout) -> int:
        """Count records returned without being parsed, per chunk in bulk (numpy: no Python int per
        record); returns how many of them are events (those of readable chunks)."""
        if len(numbers) < 1_000_000:  # small: plain Python is quick and spares numpy's import
            ordered_list = sorted(numbers)
            counts = [
                bisect.bisect_right(ordered_list, last) - bisect.bisect_left(ordered_list, first)
                for first, last, _ in self.ranges
            ]
        else:
            import numpy as np

            ordered = np.sort(np.frombuffer(numbers, dtype=np.uint64))
            if not self.ranges:
                counts = []
            else:
                firsts = np.array([r[0] for r in self.ranges], dtype=np.uint64)  # same dtype: no casting
                lasts = np.array([r[1] for r in self.ranges], dtype=np.uint64)
                counts = (np.searchsorted(ordered, lasts, "right") - np.searchsorted(ordered, firsts, "left")).tolist()
        kept = 0
        for (_, _, index), count in zip(self.ranges, counts, strict=True):
            if layout.chunks[index].readable:
                self.returned[index] += count
                kept += count
        self.stray += len(numbers) - sum(counts)
        return kept

    def by_chunk(self) -> Counter[int]:
        """Records counted against each chunk, keyed by the chunk's index in the file."""
        return Counter({self.layout.chunks[i].index: count for i, count in self.returned.items()})


def read_file(
    source: Path | Input,
    engine: str,
    report: FileReport,
    keep: Keep | None = None,
    coverage: Coverage | None = None,
    piece: layout_mod.Piece | None = None,
    lines: str | None = None,
) -> Iterator[Event | Lines]:
    """Stream the events of one input (or of a `piece` of an EVTX file's chunks); fill `report` as
    a side effect (complete when exhausted).

    With `keep` and `coverage`, the rust engine may skip parsing records of other providers:
    they are counted, and their computer and time go into `coverage` instead of an event.
    With `lines` ("json" or "row"), the rust engine gives most events as `Lines` instead.
    """
    item = source if isinstance(source, Input) else Input(str(source), source, kind_of(source.name) or "evtx")
    report.kind = item.kind
    if item.kind != "evtx":
        yield from _read_export(item, report, keep, coverage)
        return
    path = item.path
    try:
        layout = layout_mod.scan(path, piece)
    except InputError as exc:
        report.error = exc.problem
        return
    except OSError as exc:
        report.error = f"cannot read: {exc.strerror or type(exc).__name__}"
        return
    report.size, report.chunks, report.expected = layout.size, len(layout.own), layout.expected
    report.declared = {c.index: c.expected for c in layout.own}
    report.problems = layout.problems()
    ledger = _Ledger(layout)
    file = item.display
    if engine == "rust":
        from analyzer.ingest.engines import rust

        records = rust.read(path, file, layout, keep, coverage, piece, lines)
    else:
        from analyzer.ingest.engines import python

        records = python.read(path, file, layout, keep, coverage)
    try:
        yield from _account(records, ledger, layout, report)
    except InputError as exc:
        report.error = exc.problem
        return
    if coverage is not None and coverage.skipped:  # records counted but not parsed (see `keep`)
        report.events += ledger.tally(coverage.skipped, layout)
    report.returned, report.rejected, report.stray = ledger.by_chunk(), ledger.rejected, ledger.stray
    report.unreadable = _unreadable(report)
    report.problems += _record_problems(report)


def _unreadable(report: FileReport) -> int:
    """Records a chunk declares but nothing returned (a damaged place), plus records that did not parse."""
    missing = sum(max(count - report.returned[index], 0) for index, count in report.declared.items())
    return missing + sum(report.rejected.values())


_MISSING = "records missing from chunks without a parse error"


def _stray(count: int) -> str:
    return f"{count} record(s) numbered outside their chunk headers' ranges: not read"


def _record_problems(report: FileReport) -> list[str]:
    found = [f"{count} record(s): {reason}" for reason, count in sorted(report.rejected.items())]
    found += [_stray(report.stray)] if report.stray else []
    return found or ([_MISSING] if report.unreadable and not report.problems else [])


def merge_pieces(parts: list[FileReport]) -> FileReport:
    """One file's report from the reports of its pieces (in chunk order): what reading it whole
    gives."""
    whole = FileReport(parts[0].path, parts[0].engine, size=parts[0].size, kind=parts[0].kind)
    own = {_MISSING}  # what `_record_problems` adds: recounted for the whole below
    for part in parts:
        own |= {f"{count} record(s): {reason}" for reason, count in part.rejected.items()}
        own |= {_stray(part.stray)} if part.stray else set()
    for part in parts:
        whole.chunks += part.chunks
        whole.expected += part.expected
        whole.events += part.events
        whole.declared.update(part.declared)
        whole.returned.update(part.returned)
        for moment in (part.first_event, part.last_event):
            if moment is not None:
                whole.first_event = min(whole.first_event or moment, moment)
                whole.last_event = max(whole.last_event or moment, moment)
        whole.computers.update(part.computers)
        whole.channels.update(part.channels)
        whole.providers.update(part.providers)
        whole.rejected.update(part.rejected)
        whole.stray += part.stray
        whole.error = whole.error or part.error
        # the file header's problem is in every piece; chunk problems in one each
        whole.problems += [p for p in part.problems if p not in own and p not in whole.problems]
        whole.notes += [n for n in part.notes if n not in whole.notes]
    whole.unreadable = _unreadable(whole)
    whole.problems += _record_problems(whole)
    return whole


def _account(
    records: Iterator[tuple[int, Event | Lines | RecordError]],
    ledger: _Ledger,
    layout: layout_mod.Layout,
    report: FileReport,
) -> Iterator[Event | Lines]:
    chunks, returned = layout.chunks, ledger.returned
    stamps: list[str] = []  # the lines' first and last times (as printed, they sort as times)
    try:
        for number, item in records:
            if number < 0:  # Lines: counted together when all are of readable chunks, else one by one
                if not ledger.take(item.numbers):  # type: ignore[union-attr]
                    item = _each(item, ledger, chunks)  # type: ignore[arg-type]
                if item.numbers:  # type: ignore[union-attr]
                    _observe(item.lines, report, stamps)  # type: ignore[union-attr]
                    yield item  # type: ignore[misc]
                continue
            chunk = ledger.chunk_of(number)
            if chunk is None:
                ledger.stray += 1  # no chunk header declares it: not read, and said so
                continue
            if not chunks[chunk].readable:
                continue  # a chunk cut short is not read by either engine; its records count as unreadable
            returned[chunk] += 1
            if isinstance(item, RecordError):
                ledger.rejected[str(item)] += 1
                continue
            report.observe(item)  # type: ignore[arg-type]
            yield item  # type: ignore[misc]
    finally:
        for stamp in stamps:
            moment = parse_time(stamp)
            report.first_event = min(report.first_event or moment, moment)
            report.last_event = max(report.last_event or moment, moment)


def _each(lines: Lines, ledger: _Ledger, chunks: list[layout_mod.Chunk]) -> Lines:
    """The lines of readable chunks, each counted on its own."""
    kept = Lines([], [])
    for number, line in zip(lines.numbers, lines.lines, strict=True):
        chunk = ledger.chunk_of(number)
        if chunk is None:
            ledger.stray += 1
        elif chunks[chunk].readable:
            ledger.returned[chunk] += 1
            kept.numbers.append(number)
            kept.lines.append(line)
    return kept


def _observe(lines: list[tuple[Any, str, str, str | None, str | None]], report: FileReport, stamps: list[str]) -> None:
    """`FileReport.observe` for lines, in bulk."""
    _, times, providers, channels, computers = zip(*lines, strict=True)
    report.events += len(lines)
    report.computers.update([c or "" for c in computers])
    report.channels.update([c or "" for c in channels])
    report.providers.update(providers)
    first, last = min(times), max(times)
    if not stamps:
        stamps += [first, last]
    else:
        stamps[0], stamps[1] = min(stamps[0], first), max(stamps[1], last)


def _read_export(
    item: Input, report: FileReport, keep: Keep | None = None, coverage: Coverage | None = None
) -> Iterator[Event]:
    """An export (every kind but EVTX), streamed: each record is an event or counted unreadable.
    With `keep` and `coverage`, as for EVTX: events of other providers and codes are counted, and
    only their server and time kept (in `coverage`), so memory does not grow with them."""
    from analyzer.events import server_of
    from analyzer.ingest.exports import csv_export, powershell, text_export, xml_export
    from analyzer.ingest.exports.common import Facts

    module = {
        "xml-export": xml_export,
        "csv-export": csv_export,
        "text-export": csv_export,
        "powershell-csv": powershell,
        "powershell-json": powershell,
        "details-text": text_export,
    }[item.kind]
    facts = Facts()
    rejected: Counter[str] = Counter()
    try:
        report.size = item.path.stat().st_size
        for record in module.read(item.path, item.display, item.clock, facts):
            report.expected += 1
            if isinstance(record, RecordError):
                rejected[str(record)] += 1
                continue
            report.observe(record)
            if facts.local and report.times != facts.times:  # known before the first local time is given
                report.times, report.timezone = facts.times, facts.zone
            if keep is not None and coverage is not None:
                codes = keep.get(record.provider, ())
                if codes is not None and record.event_id not in codes:
                    stamp = iso_utc(record.time_created)
                    coverage.span(server_of(record), stamp, stamp)
                    continue
            yield record
    except InputError as exc:
        report.error = exc.problem.replace(str(item.path), item.display)
    except OSError as exc:
        report.error = f"cannot read: {exc.strerror or type(exc).__name__}"
    report.notes += facts.notes
    if facts.local:
        report.times, report.timezone = facts.times, facts.zone
        report.notes.append(CONVERTED.say(zone=facts.zone) if facts.zone else LOCAL_TIMES.say())
    report.unreadable = sum(rejected.values())
    report.problems += [f"{count} record(s): {reason}" for reason, count in sorted(rejected.items())]


def refused(inputs: Inputs, engine: str, warn: Callable[[str], None]) -> list[FileReport]:
    """A report (and its one line) per input not read: `skipped:` for a file or member that is no log
    (an archive's `__MACOSX/` folder: one), `error:` for one that may hold events but cannot be read.
    Either makes the run exit 4: the report was made without it."""
    reports: list[FileReport] = []
    forks: set[str] = set()  # archives whose __MACOSX/ folder has its line
    for display, why in inputs.skipped:
        folder, mac, _ = display.partition("__MACOSX/")
        if mac and "!" in folder:
            if folder in forks:
                continue
            forks.add(folder)
            display, why = folder + mac, "macOS resource forks, not logs"
        reports.append(FileReport(display, engine, error=why, skipped=True, kind="skipped"))
    reports += [FileReport(display, engine, error=problem) for display, problem in inputs.problems]
    for report in reports:
        warn(report.message() or "")
    return reports
