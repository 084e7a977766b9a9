"""Inputs: files, directories and archives (.zip, .tar, .tar.gz/.tgz, nested one level) -> readable files.

Archive members are copied, under names this module makes up, into one private
temporary directory (mode 0700) that is removed when the command ends; a member's
own path is never used to write anything, so `../` or absolute names cannot escape.
Each input keeps a display name such as `bundle.zip!srv1/Application.evtx`.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

KINDS = {".evtx": "evtx", ".xml": "xml-export", ".csv": "csv-export"}
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz")


@dataclass(frozen=True)
class Limits:
    """Caps against hostile archives (zip bombs, huge member counts)."""

    max_members: int = 10_000
    max_total_bytes: int = 64 << 30  # uncompressed, per archive
    max_ratio: int = 200  # uncompressed / compressed, per member larger than 1 MiB


@dataclass(frozen=True)
class Input:
    display: str  # what reports call it
    path: Path  # where it can be read
    kind: str  # evtx | xml-export | csv-export


@dataclass
class Inputs:
    files: list[Input] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (display, problem)


def kind_of(name: str) -> str | None:
    return KINDS.get(PurePosixPath(name.lower()).suffix)


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVES)


class _Unpacker:
    def __init__(self, workdir: Path, limits: Limits, result: Inputs) -> None:
        self.workdir, self.limits, self.result = workdir, limits, result
        self.count = 0

    def _target(self, name: str) -> Path:
        self.count += 1
        return self.workdir / f"{self.count:06d}{''.join(PurePosixPath(name.lower()).suffixes[-2:])}"

    def _copy(self, source: IO[bytes], name: str, budget: list[int]) -> Path:
        target = self._target(name)
        with target.open("wb") as out:
            while block := source.read(1 << 20):
                budget[0] -= len(block)
                if budget[0] < 0:
                    raise ValueError(f"archive expands beyond {self.limits.max_total_bytes} bytes")
                out.write(block)
        return target

    def _member(self, display: str, name: str, opener: IO[bytes], depth: int, budget: list[int]) -> None:
        if is_archive(name):
            if depth >= 1:
                self.result.problems.append((display, "archive nested more than one level deep: not read"))
                return
            path = self._copy(opener, name, budget)
            self.archive(path, display, depth + 1)
        elif kind_of(name):
            self.result.files.append(Input(display, self._copy(opener, name, budget), kind_of(name) or ""))

    def archive(self, path: Path, display: str, depth: int = 0) -> None:
        try:
            if path.name.lower().endswith(".zip") or zipfile.is_zipfile(path):
                self._zip(path, display, depth)
            else:
                self._tar(path, display, depth)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
            self.result.problems.append((display, f"cannot read archive: {_reason(exc)}"))

    def _zip(self, path: Path, display: str, depth: int) -> None:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            self._check_count(len(members))
            budget = [self.limits.max_total_bytes]
            for member in sorted(members, key=lambda m: m.filename):
                shown = f"{display}!{member.filename}"
                if not (is_archive(member.filename) or kind_of(member.filename)):
                    continue
                if member.flag_bits & 0x1:
                    self.result.problems.append((shown, "encrypted archive member: not read"))
                    continue
                if member.file_size > (1 << 20) and member.file_size > self.limits.max_ratio * max(
                    member.compress_size, 1
                ):
                    self.result.problems.append((shown, "compression ratio too high (zip bomb?): not read"))
                    continue
                with archive.open(member) as source:
                    self._member(shown, member.filename, source, depth, budget)

    def _tar(self, path: Path, display: str, depth: int) -> None:
        with tarfile.open(path, "r:*") as archive:
            members = archive.getmembers()
            self._check_count(len(members))
            budget = [self.limits.max_total_bytes]
            for member in sorted(members, key=lambda m: m.name):
                shown = f"{display}!{member.name}"
                if not (is_archive(member.name) or kind_of(member.name)):
                    continue
                if member.issym() or member.islnk():
                    self.result.problems.append((shown, "link in archive: not followed"))
                    continue
                if not member.isfile():
                    continue
                source = archive.extractfile(member)
                if source is not None:
                    self._member(shown, member.name, source, depth, budget)

    def _check_count(self, count: int) -> None:
        if count > self.limits.max_members:
            raise ValueError(f"{count} members, more than the limit of {self.limits.max_members}")


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


@contextlib.contextmanager
def open_inputs(paths: Iterable[Path], limits: Limits | None = None) -> Iterator[Inputs]:
    """Every readable input under `paths`, in sorted order; archives unpacked into a private directory."""
    result = Inputs()
    workdir = Path(tempfile.mkdtemp(prefix="wba-"))
    workdir.chmod(stat.S_IRWXU)
    unpacker = _Unpacker(workdir, limits or Limits(), result)
    try:
        for path in paths:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file() and (kind_of(p.name) or is_archive(p.name)))
                if not found:
                    result.problems.append((str(path), "no .evtx, export or archive files in this directory"))
                for item in found:
                    _add(item, unpacker, result)
            elif path.is_file():
                _add(path, unpacker, result)
            else:
                result.problems.append((str(path), "no such file or directory"))
        result.files.sort(key=lambda i: i.display)
        yield result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _add(path: Path, unpacker: _Unpacker, result: Inputs) -> None:
    if is_archive(path.name):
        unpacker.archive(path, str(path))
    else:
        result.files.append(Input(str(path), path, kind_of(path.name) or "evtx"))
