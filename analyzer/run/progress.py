"""Progress on stderr while inputs are read: a live line on a terminal, and a one-line summary."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, ClassVar, TextIO

from analyzer.reports.i18n import counted

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sized

CLEAR = "\r\x1b[K"


class Progress:
    """Files done of `total`, records read, and an ETA from the pieces of work done (a big log read
    in pieces advances the line before the whole file is done). `summary`: a line at the end."""

    shown: ClassVar[Progress | None] = None  # the one whose line is on the terminal now

    def __init__(self, total: int, live: bool, quiet: bool, stream: TextIO | None = None, summary: bool = True) -> None:
        self.total, self.live, self.quiet, self.summary = total, live and not quiet, quiet, summary and not quiet
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.done = self.records = 0
        self.units, self.units_done = total, 0
        self._shown = 0.0

    def plan(self, units: int) -> None:
        """How many pieces of work the files make (one per file unless read in pieces)."""
        self.units = units

    def piece(self, records: int) -> None:
        self.units_done += 1
        self.records += records
        self._draw()

    def file(self) -> None:
        self.done += 1
        self._draw()

    def update(self, records: int) -> None:
        """A whole file read."""
        self.units_done += 1
        self.records += records
        self.file()

    def follow(self, events: Iterable[object], files: Sized) -> Iterator[object]:
        """Pass a stream of events through, counting them (and the inputs begun, `files`) on the
        line; for commands that stream events rather than read whole files. The line goes when the
        stream ends."""
        try:
            for count, event in enumerate(events, 1):
                if not count & 1023:
                    self.records, self.done = count, len(files)
                    self._draw()
                yield event
        finally:
            self.finish()

    def _draw(self) -> None:
        now = time.monotonic()
        if self.live and (now - self._shown > 0.1 or self.done == self.total):
            self._shown = now
            Progress.shown = self
            if self.total:
                elapsed = now - self.started
                left = max(self.units - self.units_done, 0)
                eta = elapsed / self.units_done * left if self.units_done else 0
                line = f"{self.done}/{self.total} files, {self.records:,} records, ETA {eta:,.0f} s"
            else:
                line = f"{counted(self.done, 'file')}, {counted(self.records, 'record')}"
            self.stream.write(CLEAR + line)
            self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write(CLEAR)
            Progress.shown = None
        if self.summary:
            seconds = time.monotonic() - self.started
            rate = self.records / seconds if seconds > 0 else 0
            self.stream.write(
                f"read {counted(self.done, 'file')}, {counted(self.records, 'record')} in {seconds:.2f} s "
                f"({rate:,.0f} records/s)\n"
            )
        self.stream.flush()


def clear() -> None:
    """Take a live progress line off the terminal (before `interrupted` or an error line)."""
    line = Progress.shown
    if line is not None:
        Progress.shown = None
        try:
            line.stream.write(CLEAR)
            line.stream.flush()
        except (OSError, ValueError):
            pass
