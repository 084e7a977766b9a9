"""The `rust` engine: pyevtx-rs (PyPI `evtx`) renders each record's XML, lxml reads it.

Known behaviour handled here (see ../shared/reference/parsers.md):
- a damaged chunk makes `next()` raise RuntimeError; calling `next()` again
  resumes, so the loop does that instead of a plain `for`;
- `event_record_id` in its dict is the record-header number, used only for
  accounting; the event's EventRecordID comes from the XML;
- it renders XML 1.0-invalid characters (and CR) raw; they are shielded before
  parsing so values come back exactly as stored.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from lxml import etree

from analyzer.errors import RecordError
from analyzer.sources.tree import El, from_lxml, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.events import Event

log = logging.getLogger(__name__)
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)
MAX_CONSECUTIVE_ERRORS = 10_000
# Characters XML 1.0 forbids or normalizes away (CR): mapped to unused private-use code points
# for parsing, and back afterwards.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_SPAN = 0x22


def _slot(char: str) -> int:
    code = ord(char)
    return code if code < 0x20 else 0x20 + code - 0xFFFE


def _unslot(slot: int) -> str:
    return chr(slot if slot < 0x20 else 0xFFFE + slot - 0x20)


class _Shield:
    def __init__(self, xml: str) -> None:
        used = {ord(c) for c in xml if ord(c) >= 0x100000}
        base = 0x100000
        while any(base + i in used for i in range(_SPAN)):
            base += _SPAN
        self.base = base

    def hide(self, xml: str) -> str:
        return _UNSAFE.sub(lambda m: chr(self.base + _slot(m.group())), xml)

    def restore(self, text: str) -> str:
        base = self.base
        return "".join(_unslot(ord(c) - base) if base <= ord(c) < base + _SPAN else c for c in text)


def xml_to_tree(xml: str) -> El:
    shield = _Shield(xml) if _UNSAFE.search(xml) else None
    if shield:
        xml = shield.hide(xml)
    start = xml.find("<Event")
    try:
        root = etree.fromstring(xml[start:].encode("utf-8", "surrogatepass"), PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError("record XML does not parse") from exc
    return from_lxml(root, shield.restore if shield else str)


def read(path: Path, file: str) -> Iterator[tuple[int, Event | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read).

    Records pyevtx-rs skips (inside a damaged chunk, or silently within one) are not
    yielded at all; the reader counts them from the chunk headers.
    """
    from evtx import PyEvtxParser

    records = PyEvtxParser(str(path), number_of_threads=1, indent=False).records()
    consecutive = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except RuntimeError:
            log.debug("%s: pyevtx-rs skipped a damaged place", file)
            consecutive += 1
            if consecutive >= MAX_CONSECUTIVE_ERRORS:
                return
            continue
        consecutive = 0
        number = record["event_record_id"]
        try:
            yield number, to_event(xml_to_tree(record["data"]), file)
        except RecordError as exc:
            yield number, exc
