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

import re
from typing import TYPE_CHECKING

from lxml import etree

from analyzer.errors import RecordError
from analyzer.sources.tree import El, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.events import Event

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)
MAX_CONSECUTIVE_ERRORS = 10_000
# Characters XML 1.0 forbids or normalizes away; mapped into plane 16 and back.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_SHIELD = 0x100000


def _shield(match: re.Match[str]) -> str:
    return chr(_SHIELD + ord(match.group()))


def _unshield(text: str) -> str:
    return "".join(chr(ord(c) - _SHIELD) if ord(c) >= _SHIELD else c for c in text)


def _tree(element: etree._Element, shielded: bool) -> El:
    fix = _unshield if shielded else str
    tag = element.tag
    name = tag[len(NS) :] if tag.startswith(NS) else tag
    node = El(name, {k: fix(v) for k, v in element.attrib.items()})
    if element.text:
        node.children.append(fix(element.text))
    for child in element:
        if isinstance(child.tag, str):
            node.children.append(_tree(child, shielded))
        if child.tail:
            node.children.append(fix(child.tail))
    return node


def xml_to_tree(xml: str) -> El:
    shielded = _UNSAFE.search(xml) is not None
    if shielded:
        xml = _UNSAFE.sub(_shield, xml)
    start = xml.find("<Event")
    try:
        root = etree.fromstring(xml[start:].encode("utf-8", "surrogatepass"), PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError("record XML does not parse") from exc
    return _tree(root, shielded)


def read(path: Path, file: str, errors: list[str]) -> Iterator[tuple[int, Event | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read)."""
    from evtx import PyEvtxParser

    records = PyEvtxParser(str(path), number_of_threads=1, indent=False).records()
    consecutive = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except RuntimeError as exc:
            errors.append(type(exc).__name__)
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
