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
from analyzer.evtx.format import (
    CHUNK_HEADER,
    CHUNK_HEADER_SIZE,
    CHUNK_HEADER_USED,
    CHUNK_MAGIC,
    CHUNK_NAMES_AT,
    CHUNK_SIZE,
    CHUNK_TABLES_AT,
    CHUNK_TEMPLATES_AT,
    CRC_AT,
    CRC_SPAN,
    FILE_HEADER,
    FILE_HEADER_SIZE,
    FILE_HEADER_USED,
    FILE_MAGIC,
    RECORD_HEADER,
    RECORD_MAGIC,
    V_BINARY,
    V_BINXML,
    V_FILETIME,
    V_HEX64,
    V_SID,
    V_STRING,
    V_UINT8,
    V_UINT16,
    V_UINT64,
)
from analyzer.testkit import binxml_writer as bx
from analyzer.testkit.binxml_writer import Element, Instance, Sub, Template

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.events import Event

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
            Element("EventID", (("Qualifiers", Sub(4, V_UINT16)),), (Sub(3, V_UINT16),)),
            text("Level", 0, V_UINT8),
            text("Task", 2, V_UINT16),
            text("Keywords", 5, V_HEX64),
            Element("TimeCreated", (("SystemTime", Sub(6, V_FILETIME)),)),
            text("EventRecordID", 10, V_UINT64),
            Element("Channel", children=(channel,)),
            Element("Computer", children=(computer,)),
            Element("Security", (("UserID", Sub(12, V_SID)),)),
        ),
    )


CLASSIC_DATA = Template(
    Element(
        "EventData",
        children=(
            Element("Data", children=(Sub(0, bx.STRING_ARRAY),)),
            Element("Binary", children=(Sub(2, V_BINARY),)),
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
        return Template(Element("Event", (("xmlns", EVENT_NS),), (system, Sub(19, V_BINXML))))
    provider = (("Name", event.provider), ("Guid", provider_guid(event.provider)))
    data = tuple(Element("Data", (("Name", name),), (Sub(20 + i, V_STRING),)) for i, name in enumerate(event.fields))
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
        self.body = bytearray()  # records, starting at CHUNK_HEADER_SIZE
        self.first_number = first_number
        self.count = 0
        self.last_offset = CHUNK_HEADER_SIZE

    def add(self, instance: Instance, number: int, filetime: int) -> bool:
        offset = CHUNK_HEADER_SIZE + len(self.body)
        state = self.encoder.snapshot()
        fragment = self.encoder.fragment(instance, offset + RECORD_HEADER.size)
        size = RECORD_HEADER.size + len(fragment) + 4
        if offset + size > CHUNK_SIZE:
            self.encoder.restore(state)
            return False
        self.body += RECORD_HEADER.pack(RECORD_MAGIC, size, number, filetime) + fragment
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
            struct.pack_into("<I", chunk, (CHUNK_TEMPLATES_AT if is_template else CHUNK_NAMES_AT) + bucket * 4, offset)
        last = self.first_number + self.count - 1
        CHUNK_HEADER.pack_into(
            chunk,
            0,
            CHUNK_MAGIC,
            self.first_number,
            last,
            self.first_number,
            last,
            CHUNK_HEADER_USED,
            self.last_offset,
            free,
            zlib.crc32(chunk[CHUNK_HEADER_SIZE:free]),
        )
        header_crc = zlib.crc32(bytes(chunk[:CRC_SPAN]) + bytes(chunk[CHUNK_TABLES_AT:CHUNK_HEADER_SIZE]))
        struct.pack_into("<I", chunk, CRC_AT, header_crc)
        return bytes(chunk)


def file_header(chunk_count: int, next_record: int, minor_version: int = 1) -> bytes:
    head = bytearray(FILE_HEADER_SIZE)
    FILE_HEADER.pack_into(
        head,
        0,
        FILE_MAGIC,
        0,
        max(chunk_count - 1, 0),
        next_record,
        FILE_HEADER_USED,
        minor_version,
        3,
        FILE_HEADER_SIZE,
        chunk_count,
    )
    struct.pack_into("<I", head, CRC_AT, zlib.crc32(bytes(head[:CRC_SPAN])))
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
