"""Archive formats -> their members, one at a time, as streams of bytes.

zip (stdlib; encrypted members with pyzipper: ZipCrypto and AES), tar (stdlib, streamed, so
sparse members count by the bytes they become), gzip / bzip2 / xz (stdlib; a compressed tar is
read as a tar), 7z (py7zr, AES with a password) and rar / cab (libarchive, when the system has
it). Nothing here writes a file: `bundles.Unpacker` decides what to keep and enforces the caps,
with `Counted` telling it how many packed bytes each member took.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


ENCRYPTED = "encrypted archive member: not read (give the password with --archive-password)"


class ArchiveError(Exception):
    """The archive as a whole cannot be read (its message is the one line for it)."""


@dataclass
class Member:
    name: str  # its path inside the archive, for display only
    open: Callable[[], contextlib.AbstractContextManager[IO[bytes]]] | None = None
    packed: int | None = None  # packed size the archive states for it (zip), if any
    problem: str | None = None  # why it is not read at all (a link, encrypted, ...)


class Counted(io.RawIOBase):
    """A read-only file that counts the bytes read from it (the packed bytes a member took)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0

    def readable(self) -> bool:
        return True


class Prepended(io.RawIOBase):
    """`head` (already read to look at) followed by the rest of `stream`."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self.head, self.stream = head, stream

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
        else:
            data = self.stream.read(size)
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


# ----- zip ---------------------------------------------------------------------------------------

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header


def _overlaps(path: Path, infos: list[zipfile.ZipInfo]) -> bool:
    """True when two entries share bytes (a zip bomb that points many names at one entry)."""
    spans = []
    with path.open("rb") as fh:
        for info in infos:
            fh.seek(info.header_offset)
            raw = fh.read(_LOCAL.size)
            if len(raw) < _LOCAL.size or raw[:4] != b"PK\x03\x04":
                raise ArchiveError("cannot read archive: an entry points outside the archive")
            fields = _LOCAL.unpack(raw)
            start = info.header_offset
            spans.append((start, start + _LOCAL.size + fields[10] + fields[11] + info.compress_size))
    spans.sort()
    return any(spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1))


def zip_members(path: Path, password: str | None) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"cannot read archive: {first_line(exc)}") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if _overlaps(path, archive.infolist()):
            raise ArchiveError("entries overlap one another (zip bomb?)")
        encrypted = None
        for info in sorted(infos, key=lambda i: i.filename):
            if info.flag_bits & 0x1:
                if password is None:
                    yield Member(info.filename, problem=ENCRYPTED)
                    continue
                if encrypted is None:
                    import pyzipper

                    encrypted = pyzipper.AESZipFile(path)
                    encrypted.setpassword(password.encode("utf-8"))
                yield Member(info.filename, _opener(encrypted, info.filename), info.compress_size)
            else:
                yield Member(info.filename, _opener(archive, info), info.compress_size)
        if encrypted is not None:
            encrypted.close()


def _opener(archive: Any, which: Any) -> Callable[[], contextlib.AbstractContextManager[IO[bytes]]]:
    return lambda: archive.open(which)


# ----- tar and single compressed streams -----------------------------------------------------------

_DECOMPRESS: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "bzip2": lambda raw: bz2.BZ2File(raw),
    "xz": lambda raw: lzma.LZMAFile(raw),  # noqa: SIM115  # closed by `compressed_members`
}
_STRIP = {".tgz": ".tar", ".tbz2": ".tar", ".tbz": ".tar", ".txz": ".tar", ".gz": "", ".bz2": "", ".xz": ""}


def inner_name(name: str) -> str:
    """`Application.evtx.gz` -> `Application.evtx`; `logs.tgz` -> `logs.tar`."""
    lowered = name.lower()
    for suffix, replacement in _STRIP.items():
        if lowered.endswith(suffix):
            return name[: -len(suffix)] + replacement
    return name + ".out"


def tar_members(stream: IO[bytes]) -> Iterator[Member]:
    """A tar read front to back (never seeking), as it arrives from a file or a decompressor."""
    archive = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115  # closed below
    with archive:
        for info in archive:
            if info.isdir():
                continue
            if info.issym() or info.islnk():
                yield Member(info.name, problem="link in archive: not followed")
            elif not info.isfile():
                yield Member(info.name, problem="not a regular file (device, pipe): not read")
            else:
                yield Member(info.name, _tar_opener(archive, info))


def _tar_opener(archive: tarfile.TarFile, info: tarfile.TarInfo) -> Callable[[], Any]:
    return lambda: contextlib.nullcontext(archive.extractfile(info))


def compressed_members(raw: Counted, kind: str, name: str) -> Iterator[Member]:
    """A gzip, bzip2 or xz stream: a tar inside is read as a tar, anything else is one member."""
    stream = _DECOMPRESS[kind](raw)
    with stream:
        head = stream.read(512)
        if len(head) == 512 and _is_tar(head):
            yield from tar_members(Prepended(head, stream))
        else:
            yield Member(inner_name(name), lambda: contextlib.nullcontext(Prepended(head, stream)))


def _is_tar(head: bytes) -> bool:
    try:
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
    except tarfile.TarError:
        return False
    return True


# ----- 7z ---------------------------------------------------------------------------------------


def sevenzip_list(path: Path, password: str | None) -> list[tuple[str, int]]:
    """(name, unpacked size) of each file member; raises ArchiveError when it cannot be listed."""
    try:
        import py7zr
    except ImportError:
        raise ArchiveError("7z archives need py7zr (pip install py7zr)") from None
    try:
        with py7zr.SevenZipFile(path, password=password) as archive:
            if archive.needs_password() and password is None:
                raise ArchiveError(ENCRYPTED)
            return [(i.filename, i.uncompressed or 0) for i in archive.list() if not i.is_directory]
    except py7zr.PasswordRequired:
        raise ArchiveError(ENCRYPTED) from None
    except ArchiveError:
        raise
    except Exception as exc:  # py7zr raises many kinds on damage or a wrong key
        raise ArchiveError(_seven_zip_problem(password, exc)) from None


def sevenzip_extract(path: Path, password: str | None, create: Callable[[str], Any]) -> None:
    """Unpack every member through writers made by `create(name)` (py7zr pushes the bytes)."""
    import py7zr

    class Factory(py7zr.WriterFactory):
        def create(self, filename: str) -> Any:
            return create(filename)

    try:
        with py7zr.SevenZipFile(path, password=password) as archive:
            archive.extract(factory=Factory())
    except (ArchiveError, MemoryError):
        raise
    except Exception as exc:
        if getattr(exc, "wba_cap", False):  # a cap stopped it: the Unpacker's own exception
            raise
        raise ArchiveError(_seven_zip_problem(password, exc)) from None


def _seven_zip_problem(password: str | None, exc: BaseException) -> str:
    if password is not None:
        return "cannot unpack: wrong --archive-password, or the archive is damaged"
    return f"cannot read archive: damaged 7z ({type(exc).__name__})"


# ----- rar and cab (libarchive) ----------------------------------------------------------------------


_BOUND: dict[str, Any] = {}


def _libarchive(kind: str) -> Any:
    try:
        import libarchive
        from libarchive import ffi

        if "encrypted" not in _BOUND:  # libarchive-c does not wrap this one
            _BOUND["encrypted"] = ffi.ffi("entry_is_data_encrypted", [ffi.c_archive_entry_p], ffi.c_int)
    except Exception:  # ImportError, or the C library missing (OSError/AttributeError from ctypes)
        raise ArchiveError(
            f"{kind} archives need the libarchive library (Debian/Ubuntu: apt install libarchive13; "
            "see README): not read"
        ) from None
    return libarchive


def libarchive_members(raw: Counted, kind: str, password: str | None) -> Iterator[Member]:
    libarchive = _libarchive(kind)
    try:
        with libarchive.stream_reader(raw, passphrase=password) as archive:
            for entry in archive:
                name = entry.pathname or "(no name)"
                if entry.isdir:
                    continue
                if entry.issym or entry.islnk:
                    yield Member(name, problem="link in archive: not followed")
                elif not entry.isreg:
                    yield Member(name, problem="not a regular file (device, pipe): not read")
                elif _BOUND["encrypted"](entry._entry_p):
                    yield Member(
                        name,
                        problem=f"encrypted {kind.upper()} member: wba cannot decrypt {kind.upper()} "
                        "(libarchive cannot); unpack it with the password and give wba the files",
                    )
                else:
                    yield Member(name, _blocks_opener(entry))
    except libarchive.ArchiveError as exc:
        text = str(exc).lower()
        if "encrypt" in text or "passphrase" in text:
            raise ArchiveError(f"encrypted {kind.upper()} archive: wba cannot decrypt it") from None
        raise ArchiveError(f"cannot read archive: {first_line(exc)}") from None


class _Blocks(io.RawIOBase):
    """libarchive's blocks of one entry as a file."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        super().__init__()
        self.blocks, self.rest = blocks, b""

    def readinto(self, buffer: Any) -> int:
        while not self.rest:
            block = next(self.blocks, None)
            if block is None:
                return 0
            self.rest = bytes(block)
        size = min(len(buffer), len(self.rest))
        buffer[:size], self.rest = self.rest[:size], self.rest[size:]
        return size

    def readable(self) -> bool:
        return True


def _blocks_opener(entry: Any) -> Callable[[], Any]:
    return lambda: contextlib.nullcontext(_Blocks(iter(entry.get_blocks())))


def first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
