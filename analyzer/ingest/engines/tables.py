"""Value tables: where each value of a template instance lies, and reading the values there.

Records of one kind share their value table (the declared sizes and types of their values), so
where each value lies is worked out once per table and each record's values are made only when
asked for: most values of most records never are (a record of another provider is only counted).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from analyzer.evtx.format import (
    V_ANSI_STRING,
    V_ARRAY,
    V_BINARY,
    V_BINXML,
    V_FILETIME,
    V_NULL,
    V_SID,
    V_STRING,
    V_SYSTEMTIME,
)
from analyzer.ingest.engines.values import VALID_TYPES, WIDTH, Lazy, Null, Undecodable, check, decode_sized

if TYPE_CHECKING:
    from collections.abc import Iterator


class Layout:
    """Where each value of a template instance lies, for one value table (the table's bytes),
    when that does not depend on the values themselves: values of a fixed size, strings,
    binaries, embedded fragments (`total`: how far the values reach; None: read them one by one).
    String arrays, SIDs and arrays are decoded for each record (they must end within their size);
    times are checked for each record (pyevtx-rs cannot represent some)."""

    __slots__ = ("checks", "decoded", "entries", "spans", "total")

    def __init__(self, entries: list[tuple[int, int, int]], total: int | None) -> None:
        self.entries, self.total = entries, total  # (type, offset, size read)
        self.checks = [i for i, (t, _, _) in enumerate(entries) if t in (V_FILETIME, V_SYSTEMTIME)]
        self.decoded = [
            i
            for i, (t, _, _) in enumerate(entries)
            if t in (V_SID, V_ARRAY | V_STRING) or (t & V_ARRAY and t != V_ARRAY | V_STRING)
        ]
        self.spans = [i for i, (t, _, _) in enumerate(entries) if t == V_BINXML]

    @classmethod
    def of(cls, table: bytes) -> Layout:
        count = len(table) // 4
        declared = struct.unpack_from(f"<{2 * count}H", table) if count else ()
        entries, at = [], 0
        for i in range(count):
            size, type_ = declared[2 * i], declared[2 * i + 1] & 0xFF
            width = WIDTH.get(type_)
            if width is not None:
                entries.append((type_, at, width))
                at += max(width, size)
                continue
            item = WIDTH.get(type_ & ~V_ARRAY) if type_ & V_ARRAY else None
            fixed = type_ in (V_NULL, V_ANSI_STRING, V_BINARY, V_BINXML, V_ARRAY | V_STRING, V_SID) or (
                type_ == V_STRING and not size & 1
            )
            if not (fixed or (item and not size % item)):
                return cls([], None)  # SizeT, odd strings, handles, unknown types: one by one
            entries.append((type_, at, size))
            at += size
        return cls(entries, at)

    def read(self, buf: bytes, start: int) -> Values | None:
        """The values of an instance whose values start at `start`; None if one of them does not
        end within its declared size (then they are read one by one)."""
        if start + (self.total or 0) > len(buf):
            raise Undecodable
        entries, known = self.entries, {}
        for i in self.checks:
            type_, at, width = entries[i]
            check(type_, buf[start + at : start + at + width])
        for i in self.decoded:
            type_, at, size = entries[i]
            value, end = decode_sized(buf, start + at, type_, size)
            if end > start + at + size:
                return None
            known[i] = value
        return Values(buf, start, self, known)


class Values:
    """A record's values where its layout puts them, each made when asked for."""

    __slots__ = ("buf", "known", "layout", "start")

    def __init__(self, buf: bytes, start: int, layout: Layout, known: dict[int, Any]) -> None:
        self.buf, self.start, self.layout, self.known = buf, start, layout, known

    def __len__(self) -> int:
        return len(self.layout.entries)

    def __getitem__(self, index: int) -> Any:
        value = self.known.get(index)
        if value is not None:
            return value
        type_, at, size = self.layout.entries[index]
        at += self.start
        if type_ == V_NULL:
            return Null
        if type_ == V_BINXML:
            return (at, at + size)
        return Lazy(type_, self.buf[at : at + size]) if size else ""

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self.layout.entries)))

    def spans(self) -> list[tuple[int, int]]:
        return [self[i] for i in self.layout.spans]


_LAYOUTS: dict[bytes, Layout] = {}  # by value table: the same in every chunk


def layout_of(table: bytes) -> Layout:
    """The layout of a value table (its bytes), worked out once."""
    layout = _LAYOUTS.get(table)
    if layout is None:
        if len(_LAYOUTS) > 4096:  # bound the memory on logs of very varied records
            _LAYOUTS.clear()
        layout = _LAYOUTS[table] = Layout.of(table)
    return layout


def read_values(buf: bytes, pos: int) -> tuple[Any, int]:
    """The values of a template instance whose value count is at `pos` in the chunk `buf`, and
    the position after them: read where the value table puts them, or one by one as pyevtx-rs
    reads them (each by its declared type; a value that reads fewer bytes than its declared size
    is skipped to its end, one that reads more leaves the next reading from where it stopped)."""
    if pos + 4 > len(buf):
        raise Undecodable
    count = _U32(buf, pos)[0]
    pos += 4
    if pos + 4 * count > len(buf):
        raise Undecodable
    table = buf[pos : pos + 4 * count]
    pos += 4 * count
    layout = layout_of(table)
    if layout.total is not None:
        found = layout.read(buf, pos)
        if found is not None:
            return found, pos + layout.total
    declared = struct.unpack_from(f"<{2 * count}H", table) if count else ()
    values: list[Any] = []
    for i in range(count):
        size, type_ = declared[2 * i], declared[2 * i + 1] & 0xFF
        if type_ not in VALID_TYPES:
            raise Undecodable
        before = pos
        value, pos = decode_sized(buf, pos, type_, size)
        if value is Null:
            pos += size
        if pos < before + size:
            pos = before + size
        if pos > len(buf):
            raise Undecodable
        values.append(value)
    return values, pos


_U32 = struct.Struct("<I").unpack_from


def spans(values: Any) -> list[tuple[int, int]]:
    """The embedded fragments among a record's values."""
    return values.spans() if values.__class__ is Values else [v for v in values if v.__class__ is tuple]
