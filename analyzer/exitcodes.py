"""Process exit codes (documented in README.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # every input read completely
    ERROR = 1  # nothing could be done (e.g. invalid catalogue, unwritable output)
    USAGE = 2  # bad command line (Click's own code)
    INPUT_PROBLEMS = 4  # finished, but some inputs failed or were read only partly
    INTERRUPTED = 130  # Ctrl-C
