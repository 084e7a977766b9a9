"""Structure-aware mutation of EVTX files: fields chosen by what they mean, checksums fixed after.

`sites(data)` walks a well-formed file (file header, chunk headers, records, BinXml templates and
their instances) and lists every field it finds as a `Site` (kind, offset, size, chunk). `mutate`
changes one to three of them with values that mean something for their kind (a link pointing at
its own chain, an offset to another template, a size off by one, a count one too high, another
value type, the GUID of another template...) and then, in most cases, recomputes the chunk and
file header checksums, so that readers get past them and meet the damage itself.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass

HEADER, CHUNK, CHUNK_HEADER = 0x1000, 0x10000, 0x200
FIX_CRC = 0.7  # share of cases whose checksums are recomputed after the mutation
TYPES = (0x00, 0x01, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0D, 0x0E, 0x0F, 0x11, 0x12, 0x13, 0x15, 0x21, 0x81, 0x86, 0x8F)


@dataclass(frozen=True)
class Site:
    kind: str
    offset: int  # absolute, in the file
    size: int  # bytes
    chunk: int  # chunk index, -1 for the file header


_FILE_FIELDS = (
    ("file.first_chunk", 0x08, 8),
    ("file.last_chunk", 0x10, 8),
    ("file.next_record", 0x18, 8),
    ("file.header_size", 0x20, 4),
    ("file.minor", 0x24, 2),
    ("file.major", 0x26, 2),
    ("file.block_size", 0x28, 2),
    ("file.chunk_count", 0x2A, 2),
    ("file.flags", 0x78, 4),
)
_CHUNK_FIELDS = (
    ("chunk.first_number", 0x08, 8),
    ("chunk.last_number", 0x10, 8),
    ("chunk.first_id", 0x18, 8),
    ("chunk.last_id", 0x20, 8),
    ("chunk.header_size", 0x28, 4),
    ("chunk.last_offset", 0x2C, 4),
    ("chunk.free_offset", 0x30, 4),
)


class _Walker:
    """Collects the sites of one chunk's records and templates (well-formed input only)."""

    def __init__(self, data: bytes, chunk: int, found: list[Site]) -> None:
        self.data, self.chunk, self.found = data, chunk, found
        self.base = HEADER + chunk * CHUNK

    def add(self, kind: str, offset: int, size: int) -> None:
        self.found.append(Site(kind, offset, size, self.chunk))

    def u8(self, at: int) -> int:
        return self.data[at]

    def u16(self, at: int) -> int:
        return struct.unpack_from("<H", self.data, at)[0]

    def u32(self, at: int) -> int:
        return struct.unpack_from("<I", self.data, at)[0]

    def name(self, at: int) -> int:
        """A name reference at `at`; returns the position after it (and its inline definition)."""
        self.add("name.offset", at, 4)
        offset = self.u32(at)
        at += 4
        if self.base + offset == at:
            self.add("string.link", at, 4)
            self.add("string.hash", at + 4, 2)
            self.add("string.length", at + 6, 2)
            at += 8 + 2 * self.u16(at + 6) + 2
        return at

    def tokens(self, at: int, end: int, template: bool) -> int:
        """Tokens from `at` up to an end-of-stream token (or `end`); returns where they stop."""
        depth = 0
        while at < end:
            token = self.u8(at)
            kind = token & 0x0F
            if kind == 0x00:
                return at + 1
            if kind == 0x0F:
                at += 4
            elif kind == 0x0C:
                at = self.instance(at, end)
                if depth == 0:
                    return at
            elif kind == 0x01:
                if template:
                    self.add("element.dependency", at + 1, 2)
                    at += 2
                self.add("element.size", at + 1, 4)
                at = self.name(at + 5)
                if token & 0x40:
                    self.add("element.attributes_size", at, 4)
                    at += 4
                depth += 1
            elif kind == 0x02:
                at += 1
            elif kind in (0x03, 0x04):
                depth -= 1
                at += 1
                if depth == 0 and not template:
                    return at
            elif kind == 0x06:
                at = self.name(at + 1)
            elif kind == 0x05:
                self.add("value.type", at + 1, 1)
                type_ = self.u8(at + 1)
                if type_ == 0x01:
                    self.add("value.length", at + 2, 2)
                    at += 4 + 2 * self.u16(at + 2)
                else:
                    return end  # not written by our writer: stop here
            elif kind in (0x0D, 0x0E):
                self.add("sub.index", at + 1, 2)
                self.add("sub.type", at + 3, 1)
                at += 4
            else:
                return end
        return at

    def instance(self, at: int, end: int) -> int:
        self.add("instance.template_id", at + 2, 4)
        self.add("instance.template_offset", at + 6, 4)
        offset = self.u32(at + 6)
        at += 10
        if self.base + offset == at:
            self.add("template.link", at, 4)
            self.add("template.guid", at + 4, 16)
            self.add("template.size", at + 20, 4)
            size = self.u32(at + 20)
            self.tokens(at + 24, at + 24 + size, template=True)
            at += 24 + size
        self.add("values.count", at, 4)
        count = self.u32(at)
        table = at + 4
        at = table + 4 * count
        for i in range(count):
            self.add("values.size", table + 4 * i, 2)
            self.add("values.type", table + 4 * i + 2, 1)
        for i in range(count):
            size, type_ = self.u16(table + 4 * i), self.u8(table + 4 * i + 2)
            if type_ == 0x21 and size:
                self.tokens(at, at + size, template=False)
            at += size
        return at


def sites(data: bytes) -> list[Site]:
    """Every field of a well-formed EVTX file, by meaning."""
    found = [Site(kind, offset, size, -1) for kind, offset, size in _FILE_FIELDS]
    chunks = (len(data) - HEADER) // CHUNK
    for chunk in range(chunks):
        base = HEADER + chunk * CHUNK
        if data[base : base + 8] != b"ElfChnk\0":
            continue
        found += [Site(kind, base + offset, size, chunk) for kind, offset, size in _CHUNK_FIELDS]
        found += [Site("chunk.string_bucket", base + 0x80 + 4 * i, 4, chunk) for i in range(64)]
        found += [Site("chunk.template_bucket", base + 0x180 + 4 * i, 4, chunk) for i in range(32)]
        walker = _Walker(data, chunk, found)
        pos, free = base + CHUNK_HEADER, base + struct.unpack_from("<I", data, base + 0x30)[0]
        while pos + 28 <= free:
            magic, size = struct.unpack_from("<II", data, pos)
            if magic != 0x2A2A or size < 28:
                break
            for kind, offset, width in (("record.size", 4, 4), ("record.number", 8, 8), ("record.time", 16, 8)):
                found.append(Site(kind, pos + offset, width, chunk))
            found.append(Site("record.size_copy", pos + size - 4, 4, chunk))
            walker.tokens(pos + 24, pos + size - 4, template=False)
            pos += size
    return found


def _read(data: bytearray, site: Site) -> int:
    return int.from_bytes(data[site.offset : site.offset + site.size], "little")


def _write(data: bytearray, site: Site, value: int) -> None:
    data[site.offset : site.offset + site.size] = (value % (1 << (8 * site.size))).to_bytes(site.size, "little")


def _chunk_offset(site: Site, absolute: int) -> int:
    return absolute - (HEADER + site.chunk * CHUNK)


def _offsets_of(found: list[Site], kind: str, chunk: int) -> list[int]:
    return [s.offset for s in found if s.kind == kind and s.chunk == chunk]


def _value(data: bytearray, site: Site, found: list[Site], rng: random.Random) -> int | bytes:
    """A meaningful new value for `site`."""
    old = _read(data, site)
    kind = site.kind
    if kind == "template.guid":
        others = [bytes(data[s.offset : s.offset + 16]) for s in found if s.kind == kind and s != site]
        return rng.choice(others) if others and rng.random() < 0.7 else rng.randbytes(16)
    if kind in ("instance.template_offset", "name.offset", "string.link", "template.link"):
        # Another definition of the same kind in this chunk, itself, or out of the chunk.
        target_kind = "template.link" if kind in ("instance.template_offset", "template.link") else "string.link"
        targets = [_chunk_offset(site, o) for o in _offsets_of(found, target_kind, site.chunk)]
        here = _chunk_offset(site, site.offset)
        choices = [
            *targets,
            here,
            0,
            0x10000,
            0xFFFFFFFF,
            old + rng.choice((-4, -2, 2, 4)),
            rng.randrange(0x200, 0x10000),
        ]
        if kind in ("string.link", "template.link") and targets:
            choices += [rng.choice(targets)] * 4  # links into other entries: chains that loop
        return rng.choice(choices)
    if kind in ("chunk.string_bucket", "chunk.template_bucket"):
        targets = _offsets_of(found, "string.link" if kind == "chunk.string_bucket" else "template.link", site.chunk)
        picks = [_chunk_offset(site, t) for t in targets] or [0x200]
        return rng.choice([*picks, 0, 0x10000, rng.randrange(0x80, 0x10000)])
    if kind in ("sub.type", "value.type", "values.type"):
        return rng.choice([*TYPES, rng.randrange(256)])
    if kind == "sub.index":
        return rng.choice([old + 1, old - 1, rng.randrange(24), 0xFFFF, 20])
    if kind in ("chunk.first_number", "chunk.last_number", "chunk.first_id", "chunk.last_id", "record.number"):
        return rng.choice([old + 1, old - 1, old + 20, old - 20, 0, 1, old + 100_000, 0xFFFFFFFFFFFFFFFF])
    if kind == "record.size":  # overlapping or gapped records
        return rng.choice([old + 8, old - 8, old + 4, old // 2, old * 2, 0, 24, 0x10000])
    if kind == "record.time":
        return rng.choice([0, old + 1, 1 << 63, (1 << 64) - 1])
    if kind in ("file.major", "file.minor", "file.block_size", "file.chunk_count"):
        return rng.choice([old + 1, old - 1, 0, 0xFFFF, 1, 2, 3])
    # sizes, lengths, counts, numbers: near misses and extremes
    return rng.choice([old + 1, old - 1, old + 2, old * 2, 0, 1, 0xFF, 0xFFFF, (1 << (8 * site.size)) - 1])


def fix_checksums(data: bytearray) -> None:
    """Recompute every chunk's header and data checksums and the file header's."""
    for chunk in range((len(data) - HEADER) // CHUNK):
        base = HEADER + chunk * CHUNK
        if data[base : base + 8] != b"ElfChnk\0":
            continue
        free = struct.unpack_from("<I", data, base + 0x30)[0]
        if CHUNK_HEADER <= free <= CHUNK:
            struct.pack_into("<I", data, base + 0x34, zlib.crc32(data[base + CHUNK_HEADER : base + free]))
        crc = zlib.crc32(bytes(data[base : base + 0x78]) + bytes(data[base + 0x80 : base + CHUNK_HEADER]))
        struct.pack_into("<I", data, base + 0x7C, crc)
    struct.pack_into("<I", data, 0x7C, zlib.crc32(bytes(data[:0x78])))


def mutate(data: bytes, rng: random.Random, found: list[Site] | None = None) -> tuple[bytes, list[str]]:
    """`data` with one to three fields changed by meaning; returns it and what was changed."""
    found = found if found is not None else sites(data)
    out = bytearray(data)
    kinds = sorted({s.kind for s in found})
    changed = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.choice(kinds)  # every kind as likely, however many sites it has
        site = rng.choice([s for s in found if s.kind == kind])
        value = _value(out, site, found, rng)
        if isinstance(value, bytes):
            out[site.offset : site.offset + site.size] = value
        else:
            _write(out, site, value)
        changed.append(kind)
    if rng.random() < FIX_CRC:
        fix_checksums(out)
        changed.append("crc-fixed")
    return bytes(out), changed
