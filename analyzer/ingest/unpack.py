"""Archives -> their members on disk, judged by content, under caps that hold for the whole run.

Members are written, under names made up here, into the run's private directory; a member's
own path is never used to write anything, so `../` or absolute names cannot escape. Only a log,
an export or an archive is written out (its first bytes are judged before the rest is read);
nested archives are unpacked in turn, to `MAX_DEPTH`, sharing the run's budget: members
unpacked, bytes unpacked (`Limits`), and the ratio of unpacked to packed bytes of each member
(when its archive states it: zip; a plain tar's member by the bytes it took, so a sparse member
counts by what it becomes) and of each archive as it is read (a compressed stream cannot say
which member its bytes belong to).
"""

from __future__ import annotations

import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from analyzer.ingest import archives, sniff
from analyzer.ingest.exports.common import Clock

if TYPE_CHECKING:
    from collections.abc import Callable

GRACE = 64 << 10  # bytes any member may unpack to beyond its ratio (tiny members compress oddly)
MAX_DEPTH = 8  # archives inside archives


@dataclass(frozen=True)
class Limits:
    """Caps against hostile archives, for the whole run (nested archives share them)."""

    max_members: int = 10_000
    max_total_bytes: int = 64 << 30  # unpacked, all archives together
    max_ratio: int = 200  # unpacked / packed, per member and per archive


@dataclass(frozen=True)
class Options:
    """How to read inputs: the archive password, and how to read local times in exports."""

    password: str | None = None
    clock: Clock = field(default_factory=Clock)


@dataclass(frozen=True)
class Input:
    display: str  # what reports call it
    path: Path  # where it can be read
    kind: str  # one of sniff.LOGS
    clock: Clock = field(default_factory=Clock)


@dataclass
class Inputs:
    files: list[Input] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (display, why not read): exit 4
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (display, why): found in a folder, not logs


class _Cap(Exception):
    """A cap was reached: for one member, for its archive, or for the whole run."""

    wba_cap = True  # lets `archives` tell it from the libraries' own exceptions

    def __init__(self, reason: str, scope: str = "member") -> None:
        super().__init__(reason)
        self.reason, self.scope = reason, scope


class _Sink:
    """Where one member's bytes go: its head is judged first; only a log, an export or an archive
    is written out, under the caps."""

    def __init__(self, unpacker: Unpacker, name: str, packed: Callable[[], int | None], archive: _Archive) -> None:
        self.unpacker, self.name, self.packed, self.archive = unpacker, name, packed, archive
        self.head = bytearray()
        self.out: IO[bytes] | None = None
        self.target: Path | None = None
        self.verdict: sniff.Verdict | None = None
        self.written = 0

    def write(self, data: bytes) -> int:
        if self.verdict is None:
            self.head += data
            if len(self.head) >= sniff.HEAD:
                self._judge()
            return len(data)
        if self.out is not None:
            self._count(len(data))
            self.out.write(data)
        else:  # not kept, but unpacked all the same: it counts against its archive's ratio
            self._unpacked(len(data))
        return len(data)

    def _judge(self) -> None:
        self.verdict = sniff.classify(bytes(self.head[: sniff.HEAD]), self.name)
        if self.verdict.kind is not None:
            self.target = self.unpacker.new_path(self.verdict.kind)
            self.out = self.target.open("wb")
            self._count(len(self.head))
            self.out.write(self.head)
        self.head = bytearray()

    def _unpacked(self, size: int) -> None:
        self.archive.unpacked += size
        ratio = self.unpacker.limits.max_ratio
        if self.archive.unpacked > ratio * self.archive.consumed() + GRACE:
            raise _Cap(f"unpacks to more than {ratio} times the packed bytes read (zip bomb?)", "archive")

    def _count(self, size: int) -> None:
        self.written += size
        unpacker = self.unpacker
        unpacker.bytes_left -= size
        if unpacker.bytes_left < 0:
            raise _Cap(f"unpacking goes beyond --max-archive-mb {unpacker.limits.max_total_bytes >> 20}", "run")
        self._unpacked(size)
        ratio = unpacker.limits.max_ratio
        packed = self.packed()
        if packed is not None and self.written > ratio * packed + GRACE:
            raise _Cap(f"expands more than {ratio} times its packed size (zip bomb?)")

    def finish(self) -> sniff.Verdict:
        if self.verdict is None:
            self._judge()
        if self.out is not None:
            self.out.close()
            self.out = None
        assert self.verdict is not None
        return self.verdict

    def discard(self) -> None:
        if self.out is not None:
            self.out.close()
        if self.target is not None:
            self.target.unlink(missing_ok=True)

    # py7zr's writer interface (Py7zIO)
    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.written + len(self.head)

    def close(self) -> None:
        self.finish()  # py7zr is done with this member: no file stays open


@dataclass
class _Archive:
    display: str
    size: int  # packed bytes
    unpacked: int = 0  # bytes its members unpacked to, kept or not
    found: int = 0  # logs and refusals found inside (anything but skipped members)
    # Packed bytes read so far: a stream's count as it is read (a compressed stream cannot say
    # which member its bytes belong to), else the whole size.
    consumed: Callable[[], int] = lambda: 1


class Unpacker:
    def __init__(self, workdir: Path, limits: Limits, options: Options, result: Inputs) -> None:
        self.workdir, self.limits, self.options, self.result = workdir, limits, options, result
        self.count = 0
        self.bytes_left = limits.max_total_bytes
        self.members_left = limits.max_members
        self.spent: str | None = None  # why unpacking stopped for the rest of the run

    def new_path(self, kind: str) -> Path:
        self.count += 1
        return self.workdir / f"{self.count:06d}.{kind}"

    def refuse(self, display: str, reason: str) -> None:
        self.result.problems.append((display, reason))

    def add(self, path: Path, display: str, given: bool, depth: int = 0) -> bool:
        """Judge a file on disk and read, unpack, refuse or skip it; True unless skipped."""
        try:
            verdict = sniff.sniff(path, PurePosixPath(display.rsplit("!", 1)[-1]).name)
        except OSError as exc:
            self.refuse(display, f"cannot read: {exc.strerror or type(exc).__name__}")
            return True
        return self._place(path, display, verdict, given, depth)

    def _place(self, path: Path, display: str, verdict: sniff.Verdict, given: bool, depth: int) -> bool:
        if verdict.kind in sniff.ARCHIVES:
            self.archive(path, display, verdict.kind or "", depth)
            return True
        if verdict.kind is not None:
            self.result.files.append(Input(display, path, verdict.kind, self.options.clock))
            return True
        if verdict.refused or given:
            self.refuse(display, verdict.reason)
            return True
        self.result.skipped.append((display, verdict.reason))  # a directory's file or an archive's member
        return False

    def archive(self, path: Path, display: str, kind: str, depth: int) -> None:
        if self.spent:
            self.refuse(display, f"not unpacked: {self.spent}")
            return
        if depth >= MAX_DEPTH:
            self.refuse(display, f"archive nested more than {MAX_DEPTH} levels deep: not read")
            return
        size = max(path.stat().st_size, 1)
        state = _Archive(display, size, consumed=lambda: size)
        before = len(self.result.problems)
        try:
            if kind == "7z":
                self._sevenzip(path, state, depth)
            else:
                self._stream(path, kind, state, depth)
        except archives.ArchiveError as exc:
            self.refuse(display, str(exc))
        except _Cap as exc:
            if exc.scope != "done":
                self.refuse(display, f"{exc.reason}: the rest of this archive was not read")
            if exc.scope == "run":
                self.spent = exc.reason
        except (OSError, EOFError, ValueError, tarfile.TarError) as exc:
            self.refuse(display, f"cannot read archive: {archives.first_line(exc)}")
        if state.found == 0 and len(self.result.problems) == before:
            self.refuse(display, "no logs or exports in this archive")

    def _stream(self, path: Path, kind: str, state: _Archive, depth: int) -> None:
        with path.open("rb") as fh:
            raw = archives.Counted(fh)
            if kind != "zip":
                state.consumed = lambda: max(raw.count, 1)
            name = PurePosixPath(state.display.rsplit("!", 1)[-1]).name
            if kind == "zip":
                members = archives.zip_members(path, self.options.password)
            elif kind == "tar":
                members = archives.tar_members(raw)
            elif kind in ("rar", "cab"):
                members = archives.libarchive_members(raw, kind, self.options.password)
            else:
                members = archives.compressed_members(raw, kind, name)
            for member in members:
                packed = _fixed(member.packed) if kind == "zip" else _since(raw, raw.count, kind)
                self._member(member, state, depth, packed)

    def _member(self, member: archives.Member, state: _Archive, depth: int, packed: Any) -> None:
        display = f"{state.display}!{member.name}"
        if member.problem is not None or member.open is None:
            state.found += 1
            self.refuse(display, member.problem or "cannot be read")
            return
        self._take_member(display)
        sink = _Sink(self, member.name, packed, state)
        try:
            with member.open() as stream:
                while block := stream.read(1 << 20):
                    sink.write(block)
                    if sink.verdict is not None and sink.out is None and member.packed is not None:
                        break  # not kept, and a zip need not read it through
            verdict = sink.finish()
        except _Cap as exc:
            sink.discard()
            state.found += 1
            if exc.scope == "member":
                self.refuse(display, f"{exc.reason}: not read")
                return
            if exc.scope == "archive":  # named at the member it happened in; the archive stops there
                self.refuse(display, f"{exc.reason}: not read, nor the rest of this archive")
                raise _Cap(exc.reason, "done") from None
            raise
        except RuntimeError as exc:  # pyzipper's "Bad password"
            sink.discard()
            state.found += 1
            bad = "password" in str(exc).lower()
            self.refuse(display, "wrong --archive-password" if bad else f"cannot unpack: {archives.first_line(exc)}")
            return
        except (OSError, EOFError, ValueError, NotImplementedError, zipfile.BadZipFile) as exc:
            sink.discard()
            state.found += 1
            self.refuse(display, _member_problem(exc, self.options.password))
            return
        self._after(sink, verdict, display, state, depth)

    def _take_member(self, display: str) -> None:
        self.members_left -= 1
        if self.members_left < 0:
            raise _Cap(f"more than --max-archive-members {self.limits.max_members} members in this run", "run")

    def _after(self, sink: _Sink, verdict: sniff.Verdict, display: str, state: _Archive, depth: int) -> None:
        if verdict.kind is None or sink.target is None:
            if verdict.refused:
                state.found += 1
                self.refuse(display, verdict.reason)
            else:
                self.result.skipped.append((display, verdict.reason))
            return
        state.found += 1
        if verdict.kind in sniff.ARCHIVES:
            self.archive(sink.target, display, verdict.kind, depth + 1)
            sink.target.unlink(missing_ok=True)  # its members are out: free the disk (the budget stays spent)
        else:
            self.result.files.append(Input(display, sink.target, verdict.kind, self.options.clock))

    def _sevenzip(self, path: Path, state: _Archive, depth: int) -> None:
        listed = archives.sevenzip_list(path, self.options.password)
        declared = sum(size for _, size in listed)
        if declared > self.limits.max_ratio * state.size + GRACE:
            raise _Cap(
                f"the archive says it expands more than {self.limits.max_ratio} times its size (zip bomb?)", "archive"
            )
        sinks: list[tuple[str, _Sink]] = []

        def create(name: str) -> _Sink:
            self._take_member(f"{state.display}!{name}")
            sink = _Sink(self, name, lambda: None, state)
            sinks.append((name, sink))
            return sink

        try:
            archives.sevenzip_extract(path, self.options.password, create)
        except BaseException:
            for _, sink in sinks:
                sink.discard()
            raise
        for name, sink in sorted(sinks, key=lambda s: s[0]):
            self._after(sink, sink.finish(), f"{state.display}!{name}", state, depth)


def _fixed(size: int | None) -> Callable[[], int | None]:
    return lambda: size


def _since(raw: archives.Counted, start: int, kind: str) -> Callable[[], int | None]:
    """Packed bytes read since `start`, for a plain tar: what the member took (a sparse member
    counts by the bytes it becomes). Compressed streams cannot tell (None): their archive's
    running ratio guards them."""
    return (lambda: max(raw.count - start, 1)) if kind == "tar" else (lambda: None)


def _member_problem(exc: BaseException, password: str | None) -> str:
    if isinstance(exc, NotImplementedError):
        return f"compression method not supported ({archives.first_line(exc)}): repack it as a plain zip or 7z"
    if isinstance(exc, zipfile.BadZipFile) and password is not None:
        return "cannot unpack: wrong --archive-password, or the member is damaged"
    return f"cannot unpack: {archives.first_line(exc)}"
