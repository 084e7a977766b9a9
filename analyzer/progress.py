"""Progress on stderr while inputs are read: a live line on a terminal, and a one-line summary."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, live: bool, quiet: bool, stream: TextIO | None = None) -> None:
        self.total, self.live, self.quiet = total, live and not quiet, quiet
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.done = self.records = 0
        self._shown = 0.0

    def update(self, records: int) -> None:
        self.done += 1
        self.records += records
        now = time.monotonic()
        if self.live and (now - self._shown > 0.1 or self.done == self.total):
            self._shown = now
            elapsed = now - self.started
            eta = elapsed / self.done * (self.total - self.done) if self.done else 0
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
