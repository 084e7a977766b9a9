"""Inputs: files, directories, archives and standard input -> readable files, each named.

Every file is judged by its content (`sniff`), its name only a hint. Archives of every
format `archives` reads are unpacked (`unpack`: nested, under caps for the whole run) into one
private temporary directory (mode 0700), removed when the command ends; standard input is
spooled there too.

Nothing is dropped silently: a file or member not read is either refused (`problems`: an
`error:` line: it may hold events but cannot be read) or, found in a directory or an archive,
skipped as not a log by name and content (notes, scripts, screenshots: a `skipped:` line). Either
is an input of the report and makes the run exit 4 (`read.refused`).
Each input keeps a display name such as `bundle.zip!srv1/Application.evtx`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from analyzer.ingest.unpack import Input, Inputs, Limits, Options, Unpacker

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["Input", "Inputs", "Limits", "Options", "kind_of", "open_inputs"]

KINDS = {".evtx": "evtx", ".xml": "xml-export", ".csv": "csv-export"}
STDIN = "(stdin)"


def kind_of(name: str) -> str | None:
    return KINDS.get(PurePosixPath(name.lower()).suffix)


def _walk(root: Path, unpacker: Unpacker) -> None:
    """Every file under a directory, in sorted order; unreadable subdirectories are refused."""
    found = 0
    failed: list[OSError] = []
    for folder, dirs, names in os.walk(root, onerror=failed.append):
        for name in [d for d in dirs if d.startswith(".") or d == "__MACOSX"]:  # .git, .svn, a Mac's forks
            dirs.remove(name)
            why = "macOS resource forks, not logs" if name == "__MACOSX" else "a hidden folder, not read"
            unpacker.result.skipped.append((str(Path(folder, name)), why))
        dirs.sort()
        for name in sorted(names):
            path = Path(folder, name)
            if path.is_symlink() and not path.is_file():
                continue  # a dangling link: nothing to read
            found += unpacker.add(path, str(path), given=False)
        for name in dirs:
            if Path(folder, name).is_symlink():
                unpacker.refuse(str(Path(folder, name)), "link to a directory: not followed")
    for exc in failed:
        unpacker.refuse(exc.filename or str(root), f"cannot read directory: {exc.strerror or type(exc).__name__}")
    if not found and not failed:
        unpacker.refuse(str(root), "no logs, exports or archives in this directory")


def _stdin(unpacker: Unpacker) -> None:
    """Standard input, spooled to the private directory (any format, judged by content)."""
    target = unpacker.new_path("stdin")
    source = sys.stdin.buffer
    with target.open("wb") as out:
        while block := source.read(1 << 20):
            unpacker.bytes_left -= len(block)
            if unpacker.bytes_left < 0:
                unpacker.refuse(STDIN, f"more than --max-archive-mb {unpacker.limits.max_total_bytes >> 20}: not read")
                return
            out.write(block)
    unpacker.add(target, STDIN, given=True)


@contextlib.contextmanager
def open_inputs(
    paths: Iterable[Path], limits: Limits | None = None, options: Options | None = None
) -> Iterator[Inputs]:
    """Every readable input under `paths`, in sorted order; archives unpacked into a private directory."""
    result = Inputs()
    workdir = Path(tempfile.mkdtemp(prefix="wba-"))
    workdir.chmod(stat.S_IRWXU)
    unpacker = Unpacker(workdir, limits or Limits(), options or Options(), result)
    try:
        for path in paths:
            if str(path) == "-":
                _stdin(unpacker)
            elif path.is_dir():
                _walk(path, unpacker)
            elif path.is_file():
                unpacker.add(path, str(path), given=True)
            elif path.exists() or path.is_symlink():
                unpacker.refuse(str(path), "not a regular file or directory")
            else:
                unpacker.refuse(str(path), "no such file or directory")
        result.files.sort(key=lambda i: i.display)
        yield result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def file_sha256(path: Path) -> str:
    """The SHA-256 of an input, as the report lists it (read a MiB at a time)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
