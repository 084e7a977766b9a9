"""Write `Event`s as a binary EVTX file shaped like the ones Windows writes.

- 4 KiB file header, then 64 KiB chunks, each with correct header and data CRC32s;
- per chunk, name strings and templates are defined inline on first use and
  referenced by offset afterwards (the chunk's string and template hash tables
  point at them);
- classic events (`fields` empty) use the template Windows uses for the legacy
  EventLog API: Provider, Channel and Computer are literal text in the template,
  and EventData is a nested BinXml value whose `<Data>` holds one string-array
  substitution with all the insertion strings;
- manifest events (`fields` set) use `<Data Name=...>` substitutions.

Record-header numbers run 1..N in file order; the XML `EventRecordID` is the
event's own, as in a log exported from a live system.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import TYPE_CHECKING, BinaryIO

from analyzer.events import datetime_to_filetime
from analyzer.testkit import binxml_writer as bx
from analyzer.testkit.binxml_writer import Element, Instance, Sub, Template

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.events import Event

CHUNK_SIZE = 0x10000
FILE_HEADER_SIZE = 0x1000
CHUNK_HEADER_SIZE = 0x200
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
CLASSIC_KEYWORDS = 0x80000000000000


def _system(provider: tuple[tuple[str, str | Sub], ...], channel: str, computer: str) -> Element:
    """The System element shared by both kinds; substitution indexes follow Windows' classic layout."""

    def text(name: str, index: int, type_: int) -> Element:
        return Element(name, children=(Sub(index, type_),))

    return Element(
        "System",
        children=(
            Element("Provider", provider),
            Element("EventID", (("Qualifiers", Sub(4, bx.UINT16)),), (Sub(3, bx.UINT16),)),
            text("Level", 0, bx.UINT8),
            text("Task", 2, bx.UINT16),
            text("Keywords", 5, bx.HEX64),
            Element("TimeCreated", (("SystemTime", Sub(6, bx.FILETIME)),)),
            text("EventRecordID", 10, bx.UINT64),
            Element("Channel", children=(channel,)),
            Element("Computer", children=(computer,)),
            Element("Security", (("UserID", Sub(12, bx.SID)),)),
        ),
    )


CLASSIC_DATA = Template(
    Element(
        "EventData",
        children=(
            Element("Data", children=(Sub(0, bx.WSTRING_ARRAY),)),
            Element("Binary", children=(Sub(2, bx.BINARY),)),
        ),
    )
)


def provider_guid(name: str) -> str:
    """A stable, made-up provider GUID for manifest-style sample providers."""
    h = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest().upper()
    return "{" + f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" + "}"


def _template(event: Event) -> Template:
    channel, computer = event.channel or "", event.computer or ""
    if not event.fields:
        system = _system((("Name", event.provider),), channel, computer)
        return Template(Element("Event", (("xmlns", EVENT_NS),), (system, Sub(19, bx.BINXML))))
    provider = (("Name", event.provider), ("Guid", provider_guid(event.provider)))
    data = tuple(Element("Data", (("Name", name),), (Sub(20 + i, bx.WSTRING),)) for i, name in enumerate(event.fields))
    body = (_system(provider, channel, computer), Element("EventData", children=data))
    return Template(Element("Event", (("xmlns", EVENT_NS),), body))


def _instance(event: Event) -> Instance:
    values = [bx.null() for _ in range(20)]
    values[0] = bx.u8(event.level or 0)
    values[2] = bx.u16(event.task or 0)
    values[3] = bx.u16(event.event_id)
    if event.qualifiers is not None:
        values[4] = bx.u16(event.qualifiers)
    values[5] = bx.hex64(CLASSIC_KEYWORDS if event.keywords is None else event.keywords)
    values[6] = bx.filetime(datetime_to_filetime(event.time_created))
    if event.event_record_id is not None:  # else none, as in a forwarded-events bookmark
        values[10] = bx.u64(event.event_record_id)
    if event.fields:
        values += [bx.wstring(v) for v in event.fields.values()]
    else:
        data = Instance(CLASSIC_DATA, [bx.string_array(event.data), bx.null(), bx.null()])
        values[19] = bx.nested(data)
    return Instance(_template(event), values)


class _Chunk:
    def __init__(self, first_number: int) -> None:
        self.encoder = bx.ChunkEncoder()
        self.body = bytearray()  # records, starting at chunk offset 0x200
        self.first_number = first_number
        self.count = 0
        self.last_offset = CHUNK_HEADER_SIZE

    def add(self, instance: Instance, number: int, filetime: int) -> bool:
        offset = CHUNK_HEADER_SIZE + len(self.body)
        state = self.encoder.snapshot()
        fragment = self.encoder.fragment(instance, offset + 24)
        size = 24 + len(fragment) + 4
        if offset + size > CHUNK_SIZE:
            self.encoder.restore(state)
            return False
        self.body += struct.pack("<IIQQ", 0x2A2A, size, number, filetime) + fragment
        self.body += struct.pack("<I", size)
        self.last_offset = offset
        self.count += 1
        return True

    def build(self) -> bytes:
        chunk = bytearray(CHUNK_SIZE)
        free = CHUNK_HEADER_SIZE + len(self.body)
        chunk[CHUNK_HEADER_SIZE:free] = self.body
        for target, value in self.encoder.patches:
            struct.pack_into("<I", chunk, target, value)
        for bucket, offset, is_template in self.encoder.heads:
            struct.pack_into("<I", chunk, (0x180 + bucket * 4) if is_template else (0x80 + bucket * 4), offset)
        last = self.first_number + self.count - 1
        struct.pack_into(
            "<8sQQQQIIII",
            chunk,
            0,
            b"ElfChnk\0",
            self.first_number,
            last,
            self.first_number,
            last,
            0x80,
            self.last_offset,
            free,
            zlib.crc32(chunk[CHUNK_HEADER_SIZE:free]),
        )
        header_crc = zlib.crc32(bytes(chunk[:0x78]) + bytes(chunk[0x80:CHUNK_HEADER_SIZE]))
        struct.pack_into("<I", chunk, 0x7C, header_crc)
        return bytes(chunk)


def file_header(chunk_count: int, next_record: int, minor_version: int = 1) -> bytes:
    head = bytearray(FILE_HEADER_SIZE)
    struct.pack_into(
        "<8sQQQIHHHH",
        head,
        0,
        b"ElfFile\0",
        0,
        max(chunk_count - 1, 0),
        next_record,
        0x80,
        minor_version,
        3,
        FILE_HEADER_SIZE,
        chunk_count,
    )
    struct.pack_into("<I", head, 0x7C, zlib.crc32(bytes(head[:0x78])))
    return bytes(head)


def write_evtx(out: BinaryIO, events: Iterable[Event]) -> int:
    """Stream `events` into `out` (seekable) chunk by chunk; returns the record count."""
    out.write(bytes(FILE_HEADER_SIZE))
    number, chunks = 1, 0
    chunk = _Chunk(number)
    for event in events:
        instance = _instance(event)
        filetime = datetime_to_filetime(event.time_created)
        if not chunk.add(instance, number, filetime):
            if chunk.count == 0:
                raise ValueError(f"event {event.event_record_id} is larger than a chunk")
            out.write(chunk.build())
            chunks += 1
            chunk = _Chunk(number)
            if not chunk.add(instance, number, filetime):
                raise ValueError(f"event {event.event_record_id} is larger than a chunk")
        number += 1
    if chunk.count:
        out.write(chunk.build())
        chunks += 1
    out.seek(0)
    out.write(file_header(chunks, number))
    out.seek(0, 2)
    return number - 1
