"""Progress on stderr while inputs are read: a live line on a terminal, and a one-line summary."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Files done of `total`, records read, and an ETA from the pieces of work done (a big log read
    in pieces advances the line before the whole file is done)."""

    def __init__(self, total: int, live: bool, quiet: bool, stream: TextIO | None = None) -> None:
        self.total, self.live, self.quiet = total, live and not quiet, quiet
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

    def _draw(self) -> None:
        now = time.monotonic()
        if self.live and (now - self._shown > 0.1 or self.done == self.total):
            self._shown = now
            elapsed = now - self.started
            left = max(self.units - self.units_done, 0)
            eta = elapsed / self.units_done * left if self.units_done else 0
            self.stream.write(f"\r\x1b[K{self.done}/{self.total} files, {self.records:,} records, ETA {eta:,.0f} s")
            self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
        if not self.quiet:
            seconds = time.monotonic() - self.started
            rate = self.records / seconds if seconds > 0 else 0
            self.stream.write(
                f"read {self.done} files, {self.records:,} records in {seconds:.2f} s ({rate:,.0f} records/s)\n"
            )
        self.stream.flush()
