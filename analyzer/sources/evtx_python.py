"""The `python` engine: the project's own pure-Python EVTX reader (`binxml.py` and what it uses).

It reads every chunk `layout.scan` finds (not the file header's possibly stale chunk count) and
walks each chunk's records by the rules pyevtx-rs follows, so that both engines return the same
records from damaged files as from clean ones:
- records are read from offset 0x200 up to the chunk's free-space offset, and no further than
  the record whose number is the chunk header's last one (a stale header hides the rest: counted
  by the reader, not returned);
- a record header that is not one (bad signature, size under 28 bytes, data past the chunk, a
  time pyevtx-rs cannot represent) ends the chunk's records;
- a record whose BinXml does not decode is not returned (pyevtx-rs drops it): the reader counts
  it as missing from its chunk.
The rust engine hands chunks that would make pyevtx-rs hang or fail as a whole to `read_chunk`.
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

from analyzer.errors import RecordError
from analyzer.sources.binxml import ChunkDecoder
from analyzer.sources.tree import LACKS, parse_number, parse_time, to_event
from analyzer.sources.values import Undecodable

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.events import Event
    from analyzer.sources.counting import Coverage, Keep
    from analyzer.sources.layout import Chunk, Layout

_HEADER = struct.Struct("<IIQQ")
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")  # as canonical_time prints times
_MAX_TICKS = (253_402_207_200 + 11_644_473_600 + 1) * 10_000_000  # pyevtx-rs's last representable time


def records(buf: bytes, last: int, free: int) -> Iterator[tuple[int, int, int]]:
    """(offset, size, number) of each record pyevtx-rs walks in a chunk (`buf`: its bytes)."""
    end, pos = min(free, len(buf)), 0x200
    while pos < end and pos + 24 <= len(buf):
        magic, size, number, ticks = _HEADER.unpack_from(buf, pos)
        if magic != 0x2A2A or ticks >= _MAX_TICKS or size < 28 or pos + size - 4 > len(buf):
            return
        yield pos, size, number
        if number == last:
            return
        pos += size


def read_chunk(
    buf: bytes, chunk: Chunk, file: str, wanted: dict[str, frozenset[str] | None] | None, coverage: Coverage | None
) -> Iterator[tuple[int, Event | RecordError]]:
    """(record-header number, event or why it is not one) for each record of one chunk that
    decodes. With `wanted` and `coverage`: a record of another provider (or code) is only
    counted, its computer and time going into `coverage` (read from where its template puts them,
    its values all decoded and judged as they would be whole)."""
    decoder = ChunkDecoder(buf)
    for pos, size, number in records(buf, chunk.last, chunk.free_offset):
        try:
            if wanted is not None and coverage is not None:
                seen = decoder.glance(pos + 24, size - 28)
                if seen is not None:
                    provider, event_id, computer, stamp = seen
                    code = parse_number(event_id)
                    if not provider or code is None or not stamp:
                        raise RecordError(LACKS)
                    ids = wanted.get(provider, _NOT_KEPT)
                    if ids is _NOT_KEPT or (ids is not None and str(code) not in ids):
                        moment = parse_time(stamp)  # a time, not zero
                        if not _CANONICAL.fullmatch(stamp):  # else printed the canonical way already
                            stamp = moment.isoformat(timespec="microseconds")[:-6] + "Z"
                        coverage.note(_escape(computer or ""), stamp, number)
                        continue
            event = to_event(decoder.record(pos + 24, size - 28), file)
        except Undecodable:
            continue
        except RecordError as exc:
            yield number, exc
            continue
        except RecursionError:  # nesting beyond what Python's stack allows: not decodable here
            continue
        yield number, event


def decode_chunk(buf: bytes, chunk: Chunk, file: str) -> dict[int, Event | RecordError]:
    """Each record of a chunk that decodes, by its number (the first of a number given twice)."""
    found: dict[int, Event | RecordError] = {}
    for number, item in read_chunk(buf, chunk, file, None, None):
        found.setdefault(number, item)
    return found


def _escape(text: str) -> str:
    """As text stands in pyevtx-rs's XML (where the rust engine notes a computer's name)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def read(
    path: Path, file: str, layout: Layout, keep: Keep | None = None, coverage: Coverage | None = None
) -> Iterator[tuple[int, Event | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read), chunk by chunk.

    With `keep` and `coverage`, as in the rust engine: a record of another provider (or code) is
    only counted (its computer and time go into `coverage`)."""
    wanted = (
        {name: None if ids is None else frozenset(map(str, ids)) for name, ids in keep.items()}
        if keep is not None and coverage is not None
        else None
    )
    with path.open("rb") as fh:
        for chunk in layout.own:
            if not chunk.readable:
                continue
            fh.seek(chunk.offset)
            yield from read_chunk(fh.read(0x10000), chunk, file, wanted, coverage)


_NOT_KEPT = object()
