"""Every input's events streamed in input order (`wba events --sort time`, `wba files`, the
library's `read_events`), each input read in a guarded worker: a hang or a crash costs that input
only, and an input stopped part way keeps the events it gave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.ingest.inputs import open_inputs
from analyzer.ingest.read import DEFAULT_TIMEOUT, FileReport, read_file, refused
from analyzer.run import pool

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from analyzer.events import Event
    from analyzer.ingest.inputs import Input, Limits, Options


def read_inputs(
    paths: Iterable[Path],
    engine: str,
    reports: list[FileReport],
    warn: Callable[[str], None],
    limits: Limits | None = None,
    options: Options | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[Event]:
    """Events of every input (files, directories, archives, `-`) in sorted order; `warn` gets one
    line per problem input and per archive member skipped."""
    with open_inputs(paths, limits, options) as inputs:
        reports += refused(inputs, engine, warn)
        for found in read_guarded(inputs.files, engine, timeout):
            if isinstance(found, FileReport):
                reports.append(found)
                message = found.message()
                if message:
                    warn(message)
                continue
            yield found


def _file_events(item: Input, engine: str) -> Iterator[Event | FileReport]:
    """(In a worker.) The events of one input, then its account."""
    report = FileReport(item.display, engine)
    yield from read_file(item, engine, report)
    yield report


def read_guarded(items: list[Input], engine: str, timeout: float) -> Iterator[Event | FileReport]:
    """Each input read in a guarded worker (a time limit; a crash or hang costs that input only):
    its events as they come, then its account. An input stopped part way keeps the events it gave."""
    index = given = 0
    for found in pool.stream(_file_events, [(item, engine) for item in items], timeout):
        if found is None:
            index, given = index + 1, 0
        elif isinstance(found, pool.Failed):
            item = items[index]
            reason = f"{found.reason} after {given} events" if given else found.reason
            yield FileReport(item.display, engine, error=reason, kind=item.kind, events=given)
            index, given = index + 1, 0
        else:
            given += not isinstance(found, FileReport)
            yield found
