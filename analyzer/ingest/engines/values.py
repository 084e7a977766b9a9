"""BinXml values: read from a chunk by type, and printed as pyevtx-rs prints them.

Decoded values are text (`str`), `Null` (a NULL value), an `Arr` (an array: its items as text) or,
for an embedded BinXml fragment, its span `(start, end)` in the chunk. Rules kept from pyevtx-rs:
fixed-size types read their own size whatever size the value table declares; strings end at their
first NUL unit and leave unpaired surrogates out; ANSI strings drop NUL bytes and decode as
windows-1252 (WHATWG: every byte maps); times outside what pyevtx-rs can represent make the record
undecodable; floats print as the shortest text that reads back the same, in pyevtx-rs's layout.
"""

from __future__ import annotations

import re
import struct
from datetime import timedelta
from decimal import Decimal

from analyzer.events import FILETIME_EPOCH
from analyzer.evtx.format import (
    V_ANSI_STRING,
    V_ARRAY,
    V_BINARY,
    V_BINXML,
    V_BOOL,
    V_EVT_HANDLE,
    V_EVT_XML,
    V_FILETIME,
    V_GUID,
    V_HEX32,
    V_HEX64,
    V_INT8,
    V_INT16,
    V_INT32,
    V_INT64,
    V_NULL,
    V_REAL32,
    V_REAL64,
    V_SID,
    V_SIZE_T,
    V_STRING,
    V_SYSTEMTIME,
    V_UINT8,
    V_UINT16,
    V_UINT32,
    V_UINT64,
)


class Undecodable(Exception):
    """A record that does not decode: pyevtx-rs would not return it."""


class _NullType:
    __slots__ = ()

    def __repr__(self) -> str:
        return "Null"


Null = _NullType()


class Lazy:
    """A value of fixed size, a string or a binary, decoded only when its text is needed (most
    values of most records never are); what could make it undecodable was checked when read."""

    __slots__ = ("raw", "type")

    def __init__(self, type_: int, raw: bytes) -> None:
        self.type, self.raw = type_, raw

    def text(self) -> str:
        type_ = self.type
        if type_ == V_STRING:
            return utf16_text(self.raw)
        if type_ == V_ANSI_STRING:
            return self.raw.replace(b"\0", b"").decode("latin-1").translate(_ANSI)
        if type_ == V_BINARY:
            return self.raw.hex().upper()
        return _scalar(type_, self.raw)

    def empty(self) -> bool:
        """Whether its text is empty (an optional substitution then drops out)."""
        type_ = self.type
        if type_ == V_STRING:
            return self.raw[:2] in (b"", b"\0\0")
        if type_ == V_ANSI_STRING:
            return not self.raw.strip(b"\0")
        return type_ == V_BINARY and not self.raw


class Arr:
    """An array value: its items as text (None: an empty string item, which empties its element).
    A string array keeps its items' raw UTF-16 until their text is needed."""

    __slots__ = ("_items", "_raw", "count")

    def __init__(self, items: list[str | None] | None = None, raw: list[bytes] | None = None) -> None:
        self._items, self._raw = items, raw
        self.count = len(items if items is not None else raw or ())

    @property
    def items(self) -> list[str | None]:
        if self._items is None:
            self._items = [utf16_text(r) or None for r in self._raw or ()]
        return self._items

    def joined(self) -> str:
        return ",".join(item or "" for item in self.items)


VALID_TYPES = frozenset(
    [*range(V_HEX64 + 1), V_EVT_HANDLE, V_BINXML, V_EVT_XML, *range(V_ARRAY | V_STRING, V_ARRAY | V_HEX64 + 1)]
)
_LONE = re.compile("[\ud800-\udfff]")
_FIXED = {
    V_INT8: "<b",
    V_UINT8: "<B",
    V_INT16: "<h",
    V_UINT16: "<H",
    V_INT32: "<i",
    V_UINT32: "<I",
    V_INT64: "<q",
    V_UINT64: "<Q",
}
WIDTH = {
    V_INT8: 1,
    V_UINT8: 1,
    V_INT16: 2,
    V_UINT16: 2,
    V_INT32: 4,
    V_UINT32: 4,
    V_INT64: 8,
    V_UINT64: 8,
    V_REAL32: 4,
    V_REAL64: 8,
    V_BOOL: 4,
    V_GUID: 16,
    V_FILETIME: 8,
    V_SYSTEMTIME: 16,
    V_HEX32: 4,
    V_HEX64: 8,
}
# windows-1252 as WHATWG defines it: the bytes cp1252 leaves undefined map to the same code point.
_ANSI = str.maketrans({chr(b): bytes([b]).decode("cp1252", "replace") for b in range(0x80, 0xA0)})
_ANSI = {k: (chr(k) if v == "\ufffd" else v) for k, v in _ANSI.items()}
_MAX_SECONDS = 253_402_207_200  # pyevtx-rs's latest time: 9999-12-30T22:00:00Z (+ < 1 s)
_UNIX_FROM_1601 = 11_644_473_600
_INF = float("inf")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _to_nul(raw: bytes) -> bytes:
    """UTF-16LE units up to the first NUL unit (a NUL unit starts at an even offset)."""
    at = raw.find(b"\0\0")
    while at >= 0 and at & 1:
        at = raw.find(b"\0\0", at + 1)
    return raw[:at] if at >= 0 else raw


def utf16_text(raw: bytes) -> str:
    """UTF-16LE text up to the first NUL unit; unpaired surrogates are left out."""
    raw = _to_nul(raw[:-1] if len(raw) & 1 else raw)
    try:
        return raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return _LONE.sub("", raw.decode("utf-16-le", "surrogatepass"))


def utf16_strict(raw: bytes) -> str:
    """A name: UTF-16LE up to the first NUL unit, which must decode (else the record does not)."""
    try:
        return _to_nul(raw).decode("utf-16-le")
    except UnicodeDecodeError:
        raise Undecodable from None


def _take(buf: bytes, pos: int, size: int) -> bytes:
    if pos + size > len(buf):
        raise Undecodable
    return buf[pos : pos + size]


def _float(value: float, single: bool) -> str:
    """As pyevtx-rs prints floats: the shortest digits that read back as the same value, fixed
    notation for moderate exponents (up to 16 digits before the point, 13 for 32-bit floats; down
    to 0.00001), else scientific with an explicit exponent sign."""
    if value != value:
        return "NaN"
    if value in (_INF, -_INF):
        return "inf" if value > 0 else "-inf"
    if single:  # the shortest text that reads back as the same 32-bit float
        packed = struct.pack("<f", value)
        text = next(t for p in range(9) if struct.pack("<f", float(t := f"{value:.{p}e}")) == packed)
    else:
        text = repr(value)
    negative, figures, exponent = Decimal(text).as_tuple()
    sign = "-" if negative else ""
    digits = "".join(map(str, figures)).rstrip("0")
    if not digits:
        return sign + "0.0"
    point = len(figures) + int(exponent)  # digits before the decimal point
    limit = 13 if single else 16
    if len(digits) <= point <= limit:
        return f"{sign}{digits}{'0' * (point - len(digits))}.0"
    if 0 < point <= limit:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    tail = f".{digits[1:]}" if len(digits) > 1 else ""
    power = point - 1
    return f"{sign}{digits[0]}{tail}e{'+' if power > 0 else '-'}{abs(power)}"


def _filetime(ticks: int) -> str:
    if ticks // 10_000_000 - _UNIX_FROM_1601 > _MAX_SECONDS:
        raise Undecodable
    return (FILETIME_EPOCH + timedelta(microseconds=ticks // 10)).isoformat(timespec="microseconds")[:-6] + "Z"


def _systemtime(raw: bytes) -> str:
    year, month, _, day, hour, minute, second, millis = struct.unpack("<8H", raw)
    if not (year or month or day or hour or minute or second or millis):
        return "1601-01-01T00:00:00.000000Z"
    nanos = (millis * 1_000_000) & 0xFFFFFFFF
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if (
        year > 9999
        or not 1 <= month <= 12
        or not 1 <= day <= _DAYS[month - 1] + (month == 2 and leap)
        or hour > 23
        or minute > 59
        or second > 59
        or nanos >= 1_000_000_000
        or (year == 9999 and month == 12 and (day == 31 or (day == 30 and hour >= 22 and (minute or second or nanos))))
    ):
        raise Undecodable
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{nanos // 1000:06d}Z"


def _guid(raw: bytes) -> str:
    a, b, c = struct.unpack_from("<IHH", raw)
    rest = raw[8:].hex().upper()
    return f"{a:08X}-{b:04X}-{c:04X}-{rest[:4]}-{rest[4:]}"


def _sid(buf: bytes, pos: int) -> tuple[str, int]:
    head = _take(buf, pos, 8)
    count = head[1]
    raw = _take(buf, pos, 8 + 4 * count)
    subs = struct.unpack_from(f"<{count}I", raw, 8)
    text = "-".join(["S", str(head[0]), str(int.from_bytes(head[2:8], "big")), *map(str, subs)])
    return text, pos + 8 + 4 * count


def _scalar(type_: int, raw: bytes) -> str:
    """A fixed-size value's text (`raw` is exactly its width)."""
    if type_ in _FIXED:
        return str(struct.unpack(_FIXED[type_], raw)[0])
    if type_ == V_REAL32:
        return _float(struct.unpack("<f", raw)[0], True)
    if type_ == V_REAL64:
        return _float(struct.unpack("<d", raw)[0], False)
    if type_ == V_BOOL:  # pyevtx-rs prints a boolean that is neither 0 nor 1 as its number
        number = struct.unpack("<i", raw)[0]
        return {0: "false", 1: "true"}.get(number, str(number))
    if type_ == V_GUID:
        return _guid(raw)
    if type_ == V_FILETIME:
        return _filetime(int.from_bytes(raw, "little"))
    if type_ == V_SYSTEMTIME:
        return _systemtime(raw)
    return hex(int.from_bytes(raw, "little"))  # V_HEX32, V_HEX64


def _item(type_: int, raw: bytes) -> str:
    """One item of a fixed-size array (booleans print as numbers there)."""
    if type_ == V_BOOL:
        return str(struct.unpack("<i", raw)[0])
    return _scalar(type_, raw)


def _strings(buf: bytes, pos: int, size: int) -> tuple[Arr, int]:
    """A string array: NUL-terminated strings read until `size` bytes are used (the last may run
    past them, to its NUL)."""
    end, items = pos + size, []
    while pos < end:
        at = buf.find(b"\0\0", pos)
        while at >= 0 and (at - pos) & 1:  # a NUL unit, not the high byte of one and the low of the next
            at = buf.find(b"\0\0", at + 1)
        if at < 0:
            raise Undecodable
        items.append(buf[pos:at])
        pos = at + 2
    return Arr(raw=items), pos


def check(type_: int, raw: bytes) -> None:
    """Raise Undecodable for a fixed-size value pyevtx-rs cannot represent (a time out of range)."""
    if type_ == V_FILETIME:
        if int.from_bytes(raw, "little") // 10_000_000 - _UNIX_FROM_1601 > _MAX_SECONDS:
            raise Undecodable
    elif type_ == V_SYSTEMTIME:
        _systemtime(raw)


def decode_sized(buf: bytes, pos: int, type_: int, size: int) -> tuple[object, int]:
    """A template instance value of `type_` and declared `size` at `pos`; (value, position after
    what was read)."""
    width = WIDTH.get(type_)
    if width is not None:  # fixed size, whatever size is declared
        raw = _take(buf, pos, width)
        check(type_, raw)
        return Lazy(type_, raw), pos + width
    if type_ == V_STRING:
        if size == 0:
            return "", pos
        if size & 1:
            raise Undecodable
        return Lazy(V_STRING, _take(buf, pos, size)), pos + size
    if type_ == V_NULL:
        return Null, pos
    if type_ == V_BINXML:
        _take(buf, pos, size)
        return (pos, pos + size), pos + size
    if type_ == V_ARRAY | V_STRING:
        return (Arr([]), pos) if size == 0 else _strings(buf, pos, size)
    if type_ == V_SID:
        return _sid(buf, pos)
    if type_ in (V_ANSI_STRING, V_BINARY):
        return (Lazy(type_, _take(buf, pos, size)) if size else ""), pos + size
    if type_ == V_SIZE_T:
        if size not in (4, 8):
            raise Undecodable
        return hex(int.from_bytes(_take(buf, pos, size), "little")), pos + size
    if type_ in (V_ARRAY | V_INT8, V_ARRAY | V_UINT8):
        raw = _take(buf, pos, size)
        return Arr([str(b - 256 if type_ == V_ARRAY | V_INT8 and b > 127 else b) for b in raw]), pos + size
    if type_ == V_ARRAY | V_SID:
        items, start = [], pos
        while pos - start < size:
            text, pos = _sid(buf, pos)
            items.append(text)
        return Arr(items), pos
    if type_ & V_ARRAY:
        width = WIDTH.get(type_ & ~V_ARRAY)
        if width is None or size % width:
            raise Undecodable
        raw = _take(buf, pos, size)
        base = type_ & ~V_ARRAY
        return Arr([_item(base, raw[i : i + width]) for i in range(0, size, width)]), pos + size
    raise Undecodable  # handles, EvtXml, ANSI string and binary arrays: not implemented in pyevtx-rs


def decode_unsized(buf: bytes, pos: int, type_: int) -> tuple[object, int]:
    """A value whose size is not declared (a value token): strings and BinXml carry a length."""
    if type_ == V_NULL:
        return Null, pos
    if type_ == V_STRING:
        count = int.from_bytes(_take(buf, pos, 2), "little")
        return utf16_text(_take(buf, pos + 2, 2 * count)), pos + 2 + 2 * count
    if type_ == V_BINXML:
        count = int.from_bytes(_take(buf, pos, 2), "little")
        _take(buf, pos + 2, count)
        return (pos + 2, pos + 2 + count), pos + 2 + count
    if type_ == V_SID:
        return _sid(buf, pos)
    width = WIDTH.get(type_)
    if width is None:  # ANSI strings, binaries, SizeT, arrays and handles need a declared size
        raise Undecodable
    return _scalar(type_, _take(buf, pos, width)), pos + width
