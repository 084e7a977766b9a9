"""Where command output goes: stdout, a device, or a file written whole.

`check` runs before any input is read, so a bad `-o` costs nothing. A regular file is written to a
temporary name beside it and renamed at the end: nothing appears at the target unless the command
completes. New report files get mode 0600 (owner only): reports hold user names, DNs and server
names. A file that already exists keeps its mode. A character device or a named pipe (`/dev/null`,
`/dev/stdout`, a FIFO) is written through, never replaced; a symbolic link or any other file that is
not regular is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from collections.abc import Iterator

NEW_FILE_MODE = 0o600


class OutputError(AnalyzerError):
    """The output path cannot be written (exit 1, before anything is read)."""


def check(target: Path) -> str:
    """How `target` will be written, `file` (replaced whole) or `device` (written through), or
    OutputError naming the problem."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{target}: cannot write the output: {exc.strerror}") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{target}: is a symbolic link: not replaced (give the path it points to)")
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{target}: is a directory: give a file name")
        if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
            if not os.access(target, os.W_OK):
                raise OutputError(f"{target}: device not writable")
            return "device"
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{target}: not a regular file, a character device or a pipe: not replaced")
    directory = target.absolute().parent
    if not directory.is_dir():
        raise OutputError(f"{target}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{target}: directory {directory} is not writable")
    return "file"


# Errors of writing itself (a full disk, a quota, a file too big, an I/O error, a read-only mount).
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


@contextlib.contextmanager
def open_output(target: Path | None) -> Iterator[TextIO]:
    """Yield a text stream for `target` (None or `-`: stdout). A write that fails (a full disk)
    is an OutputError naming the output; a file being replaced is left as it was."""
    try:
        with _open(target) as stream:
            yield stream
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS or isinstance(exc, BrokenPipeError):
            raise
        name = "standard output" if target is None or str(target) == "-" else str(target)
        raise OutputError(f"{name}: cannot write the output: {exc.strerror or type(exc).__name__}") from None


@contextlib.contextmanager
def _open(target: Path | None) -> Iterator[TextIO]:
    if target is None or str(target) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    if check(target) == "device":
        with target.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.absolute().parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write the output: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        Path(temp).chmod(mode)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
