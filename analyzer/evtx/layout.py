"""EVTX file and chunk headers, read without any parser: the basis for counting records.

Every engine walks the chunks found here (all of them, not the header's
possibly stale chunk count), and each chunk header's first/last record numbers
say how many records it holds, so what a parser failed to return can be counted.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.errors import InputError
from analyzer.evtx.format import (
    CHUNK_DATA_CRC_AT,
    CHUNK_FREE_AT,
    CHUNK_HEADER_SIZE,
    CHUNK_IDS_AT,
    CHUNK_MAGIC,
    CHUNK_NAMES,
    CHUNK_NAMES_AT,
    CHUNK_RECORD_NUMBERS,
    CHUNK_SIZE,
    CHUNK_TABLES_AT,
    CHUNK_TEMPLATES,
    CHUNK_TEMPLATES_AT,
    CRC_AT,
    CRC_SPAN,
    FILE_HEADER_BLOCK_AT,
    FILE_HEADER_SIZE,
    FILE_HEADER_USED,
    FILE_MAGIC,
    FILE_VERSION,
    FILE_VERSION_AT,
    NAME_ENTRY,
    RECORD_HEADER,
    RECORD_MAGIC,
    RECORD_MIN_SIZE,
    TEMPLATE_HEADER,
)

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class Chunk:
    index: int
    offset: int
    first: int = 0  # first record number (record header numbering)
    last: int = -1
    free_offset: int = 0
    problem: str | None = None  # why the chunk is damaged, if it is
    readable: bool = True  # False: no engine reads it (bad magic, truncated)
    tables: str | None = None  # what is wrong with its name or template table (pyevtx-rs must not read it)
    own: bool = True  # False: outside the piece being read (known by its header, for counting only)

    @property
    def expected(self) -> int:
        return max(self.last - self.first + 1, 0)


@dataclass
class Layout:
    path: str
    size: int
    version: str
    header_problem: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    header_block: int = FILE_HEADER_SIZE  # as the file header states it (pyevtx-rs counts chunks by it)

    @property
    def own(self) -> list[Chunk]:
        """The chunks being read (all, unless a piece is)."""
        return [c for c in self.chunks if c.own]

    @property
    def expected(self) -> int:
        return sum(c.expected for c in self.own)

    def problems(self) -> list[str]:
        found = [self.header_problem] if self.header_problem else []
        for c in self.own:
            found += [f"chunk {c.index}: {p}" for p in (c.problem, c.tables) if p]
        return found


_MOST = CHUNK_SIZE // 10  # name entries a chunk can hold: a chain longer than that loops


def _names(data: bytes) -> str | None:
    """Walk the name table as pyevtx-rs does (each bucket's chain: link, hash, count, UTF-16
    units, NUL; a link to itself ends a chain); what would make it hang or fail, or None."""
    size = len(data)
    entry = NAME_ENTRY.unpack_from
    for pos in CHUNK_NAMES.unpack_from(data, CHUNK_NAMES_AT):
        steps = 0
        while pos:
            if pos + 10 > size:
                return "name table links outside the chunk"
            link, _, count = entry(data, pos)
            end = pos + 8 + 2 * count
            if end + 2 > size:
                return "name table entry runs past the chunk"
            try:
                data[pos + 8 : end].decode("utf-16-le")
            except UnicodeDecodeError:
                if not _decodes_to_nul(data[pos + 8 : end]):
                    return "name table holds an undecodable name"
            if link == pos:
                break
            pos = link
            steps += 1
            if steps > _MOST:
                return "name table loops"
    return None


def _decodes_to_nul(raw: bytes) -> bool:
    """Whether UTF-16 units up to the first NUL unit decode (pyevtx-rs reads a name that far)."""
    units = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if b"\0\0" in units:
        units = units[: units.index(b"\0\0")]
    try:
        b"".join(units).decode("utf-16-le")
    except UnicodeDecodeError:
        return False
    return True


def _templates(data: bytes) -> str | None:
    """The template table's chains: loops or links outside the chunk, or None."""
    size = len(data)
    for pos in CHUNK_TEMPLATES.unpack_from(data, CHUNK_TEMPLATES_AT):
        seen = set()
        while pos:
            if pos in seen:
                return "template table loops"
            seen.add(pos)
            if pos + TEMPLATE_HEADER.size > size:
                return "template table links outside the chunk"
            link = struct.unpack_from("<I", data, pos)[0]
            if link == pos:
                break
            pos = link
    return None


def _walk_records(data: bytes) -> list[int]:
    """Record numbers found by following record headers from a chunk's first record."""
    numbers, pos, end = [], CHUNK_HEADER_SIZE, len(data)
    while pos + RECORD_MIN_SIZE <= end:
        magic, size, number, _ = RECORD_HEADER.unpack_from(data, pos)
        if magic != RECORD_MAGIC or size < RECORD_MIN_SIZE or pos + size > end:
            break
        numbers.append(number)
        pos += size
    return numbers


def _chunk(data: bytes, index: int, offset: int, available: int, check: bool = True) -> Chunk | None:
    """The chunk whose bytes (up to 64 KiB, fewer if the file ends; `available` of them in the
    file) are `data`, or at least its header; None if unused. `check`: verify its checksums."""
    chunk = Chunk(index, offset, own=check)
    head = data[:CHUNK_HEADER_SIZE]
    if len(head) < CHUNK_HEADER_SIZE:
        if head.strip(b"\0"):
            chunk.problem, chunk.readable = "truncated chunk header", False
            return chunk
        return None
    if head[:8] != CHUNK_MAGIC:
        if not data.strip(b"\0"):
            return None
        numbers = _walk_records(data)
        if not numbers:
            return None  # slack space, not a chunk
        chunk.problem, chunk.readable = "bad chunk signature", False
        chunk.first, chunk.last = min(numbers), max(numbers)
        return chunk
    # Record headers carry the "record identifiers", not the chunk's own record numbers.
    first, last = CHUNK_RECORD_NUMBERS.unpack_from(head, CHUNK_IDS_AT)
    free = struct.unpack_from("<I", head, CHUNK_FREE_AT)[0]
    chunk.first, chunk.last, chunk.free_offset = first, last, free
    if last < first or last - first > CHUNK_SIZE // RECORD_HEADER.size:
        chunk.problem, chunk.readable = f"implausible record numbers {first}-{last}", False
        chunk.first, chunk.last = 0, -1
        return chunk
    if available < CHUNK_SIZE:
        chunk.problem, chunk.readable = f"truncated: {available} of {CHUNK_SIZE} bytes", False
        return chunk
    if not check:
        return chunk
    chunk.tables = _names(data) or _templates(data)
    header_crc = zlib.crc32(head[:CRC_SPAN] + head[CHUNK_TABLES_AT:CHUNK_HEADER_SIZE])
    if header_crc != struct.unpack_from("<I", head, CRC_AT)[0]:
        chunk.problem = "chunk header checksum mismatch"
    elif CHUNK_HEADER_SIZE <= free <= CHUNK_SIZE:
        if zlib.crc32(data[CHUNK_HEADER_SIZE:free]) != struct.unpack_from("<I", head, CHUNK_DATA_CRC_AT)[0]:
            chunk.problem = "record data checksum mismatch"
    else:
        chunk.problem = f"bad free-space offset {free}"
    return chunk


Piece = tuple[int, int | None]  # chunks [start, stop) of a file; stop None: to its end


def chunks_in(size: int) -> int:
    """How many chunk places a file of `size` bytes has (the last may be cut short)."""
    return max(0, -(-(size - FILE_HEADER_SIZE) // CHUNK_SIZE))


def scan(path: Path, piece: Piece | None = None) -> Layout:
    """Read the file header and every chunk, a chunk at a time (memory stays flat for any file
    size); raise InputError if it is not EVTX at all. With `piece`, chunks outside it are known by
    their headers only: their record numbers and readability, so that records are counted against
    the same chunks whether a file is read whole or in pieces."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(FILE_HEADER_SIZE)
        if size == 0:
            raise InputError(path, "empty file")
        if head[:8] != FILE_MAGIC:
            raise InputError(path, "not an EVTX file (no ElfFile signature)")
        if size < FILE_HEADER_USED:
            raise InputError(path, f"not an EVTX file ({size} bytes, too short for a header)")
        if size < FILE_HEADER_SIZE:
            raise InputError(path, f"truncated: {size} bytes, shorter than the 4 KiB file header")
        minor, major, header_block = FILE_VERSION.unpack_from(head, FILE_VERSION_AT)
        layout = Layout(str(path), size, f"{major}.{minor}")
        if major != 3 or minor not in (1, 2):
            raise InputError(path, f"unsupported EVTX format version {major}.{minor}")
        if zlib.crc32(head[:CRC_SPAN]) != struct.unpack_from("<I", head, CRC_AT)[0]:
            layout.header_problem = "file header checksum mismatch"
        if header_block != FILE_HEADER_SIZE:
            layout.header_problem = f"unexpected header size {header_block}"
            layout.header_block = header_block
        start, stop = piece or (0, None)
        offset, index = FILE_HEADER_SIZE, 0
        while offset < size:
            own = start <= index and (stop is None or index < stop)
            fh.seek(offset)
            data = fh.read(CHUNK_SIZE if own else CHUNK_HEADER_SIZE)
            if not own and data[:8] != CHUNK_MAGIC:  # known only by walking its records
                data += fh.read(CHUNK_SIZE - len(data))
            chunk = _chunk(data, index, offset, min(CHUNK_SIZE, size - offset), own)
            if chunk is not None:
                layout.chunks.append(chunk)
            offset += CHUNK_SIZE
            index += 1
        return layout


class ChunkView(io.RawIOBase):
    """The file header followed by the chunks of `piece`, read as if they were the whole file (for
    parsers that take a file object: chunks stand alone, so a piece can be parsed on its own). The
    header states the standard header size, so that pyevtx-rs counts the chunks as `scan` does."""

    def __init__(self, path: Path, piece: Piece) -> None:
        super().__init__()
        self._file = path.open("rb")
        header = bytearray(self._file.read(FILE_HEADER_SIZE))
        if len(header) >= FILE_HEADER_BLOCK_AT + 2:
            struct.pack_into("<H", header, FILE_HEADER_BLOCK_AT, FILE_HEADER_SIZE)
        self._header = bytes(header)
        size = os.fstat(self._file.fileno()).st_size
        start, stop = piece
        self._base = FILE_HEADER_SIZE + start * CHUNK_SIZE
        end = size if stop is None else min(size, FILE_HEADER_SIZE + stop * CHUNK_SIZE)
        self._size = FILE_HEADER_SIZE + max(end - self._base, 0)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        done = 0
        while done < len(out) and self._pos < self._size:
            pos = self._pos
            if pos < FILE_HEADER_SIZE:  # the header, then the piece's chunks
                count = min(FILE_HEADER_SIZE - pos, len(out) - done, len(self._header) - pos)
                if count <= 0:
                    break
                out[done : done + count] = self._header[pos : pos + count]
                done += count
                self._pos += count
                continue
            real, left = self._base + pos - FILE_HEADER_SIZE, self._size - pos
            self._file.seek(real)
            count = self._file.readinto(out[done : done + min(left, len(out) - done)])
            if not count:
                break
            done += count
            self._pos += count
        return done

    def close(self) -> None:
        self._file.close()
        super().close()
