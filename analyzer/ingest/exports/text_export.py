"""Event Viewer's "Copy -> Copy details as text" blocks -> events: one or many in a text, in any
display language `labels.DETAILS` knows.

    Log Name:      Application
    Source:        PasswordResetService
    Date:          11/20/2026 8:00:01 AM
    Event ID:      31001
    ...
    Computer:      AADC01.contoso.com
    Description:
    TrackingId: ..., PasswordResetRequestStart, Details: ...
    Event Xml:
    <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">...</Event>

`wevtutil qe /f:text` output (the same labels, indented, under `Event[N]:` lines) reads the same.
A block with its `Event Xml` is read from the XML (UTC time, record id, event data, exactly as
an XML export); without it, from the labelled lines: local time, no record id, the description
as the event's one data value. `parse_details` reads pasted text (for `wba explain`; text
before the first block is passed over, `contains_details` tells whether there is a block at all);
`read` streams a file of blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from analyzer.errors import InputError, RecordError
from analyzer.events import Event
from analyzer.ingest import sniff
from analyzer.ingest.exports import labels
from analyzer.ingest.exports.common import RECORD_LIMIT, Clock, DateOrderError
from analyzer.ingest.normalize import from_lxml, to_event

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import tzinfo
    from pathlib import Path

    from analyzer.ingest.exports.common import Facts

_FORBIDDEN = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def looks_like_details(text: str) -> bool:
    """True when `text` starts like a "Copy details as text" block (in any known language)."""
    return labels.looks_like_details(text)


def contains_details(text: str) -> bool:
    """True when a block starts anywhere in `text` (pasted with a greeting or notes around it)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        found = labels.detail_label(line)
        if found is not None and found[0] == "log_name" and labels.looks_like_details("\n".join(lines[index:])):
            return True
    return False


@dataclass
class _Block:
    fields: dict[str, str] = field(default_factory=dict)
    description: list[str] = field(default_factory=list)
    xml: list[str] = field(default_factory=list)
    size: int = 0


def _blocks(lines: Iterable[str]) -> Iterator[_Block | RecordError]:
    """Blocks of labelled lines; each starts with the log name label."""
    block: _Block | None = None
    part = "fields"
    for line in lines:
        if labels.WEVTUTIL_EVENT.match(line):
            continue
        found = labels.detail_label(line)
        if found is not None and found[0] == "log_name":
            if block is not None:
                yield block
            block, part = _Block(), "fields"
        if block is None:
            continue  # text before the first block (a heading, a greeting)
        block.size += len(line)
        if block.size > RECORD_LIMIT:
            yield RecordError(f"a block over {RECORD_LIMIT >> 20} MiB: not read")
            block, part = None, "fields"
            continue
        if part == "xml":
            block.xml.append(line)
        elif found is not None and found[0] == "event_xml":
            part = "xml"
        elif found is not None and found[0] == "description" and part == "fields":
            part = "description"
            if found[1]:
                block.description.append(found[1])
        elif part == "description":
            block.description.append(line)
        elif found is not None:
            block.fields[found[0]] = found[1]
    if block is not None:
        yield block


def _settle(blocks: Iterable[_Block | RecordError], clock: Clock) -> str:
    """The date order of the blocks that have no Event Xml (their dates are local)."""
    return clock.settle(
        b.fields.get("date", "") for b in blocks if isinstance(b, _Block) and not "".join(b.xml).strip()
    )


def parse_details(text: str, file: str, clock: Clock | None = None) -> Iterator[Event | RecordError]:
    """Each block in pasted `text` -> an event, or why it could not be read. Dates of blocks
    without Event Xml are local; when their day/month order cannot be told (and `clock` gives
    none), each such block is a RecordError that says so."""
    clock = clock or Clock()
    lines = text.splitlines(keepends=True)
    try:
        order: str | None = _settle(_blocks(lines), clock)
    except DateOrderError:
        order = None
    zone = clock.tz()
    for block in _blocks(lines):
        yield block if isinstance(block, RecordError) else _event(block, file, order, zone, clock)


def read(path: Path, file: str, clock: Clock, facts: Facts) -> Iterator[Event | RecordError]:
    """A file of one or many blocks, streamed."""

    def lines() -> Iterator[str]:
        with sniff.open_text(path) as fh:
            yield from fh

    try:
        order = _settle(_blocks(lines()), clock)
    except DateOrderError as exc:
        raise InputError(path, str(exc)) from None
    zone = clock.tz()
    seen = local = 0
    for block in _blocks(lines()):
        seen += 1
        if isinstance(block, RecordError):
            yield block
            continue
        local += not "".join(block.xml).strip()
        yield _event(block, file, order, zone, clock)
    if not seen:
        raise InputError(path, "no event details blocks found")
    if local:
        facts.carried(["record ids", "qualifiers", "keywords"] if local == seen else ["record ids (some events)"])
        facts.local_times(clock)


def _event(block: _Block, file: str, order: str | None, zone: tzinfo | None, clock: Clock) -> Event | RecordError:
    xml = "".join(block.xml).strip()
    try:
        if xml:
            return event_from_xml(xml, file)
        return _from_fields(block, file, order, zone, clock)
    except RecordError as exc:
        return exc


def event_from_xml(xml: str, file: str) -> Event:
    """One `<Event>` element (pasted, or the Event Xml part of a block), parsed with entities, DTDs and
    network access off."""
    if _FORBIDDEN.search(xml):
        raise RecordError("Event Xml with a DTD or entity declarations: not accepted")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        element = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        raise RecordError("Event Xml that does not parse") from None
    return to_event(from_lxml(element), file)


def _from_fields(block: _Block, file: str, order: str | None, zone: tzinfo | None, clock: Clock) -> Event:
    values = block.fields
    if order is None:
        raise RecordError("its date does not tell day/month order: give --date-order dmy or mdy")
    try:
        event_id = int(values.get("event_id", ""))
    except ValueError:
        raise RecordError("a block without a numeric event id") from None
    description = "".join(block.description).rstrip("\r\n")
    return Event(
        file,
        None,
        clock.parse(values.get("date", ""), order, zone),
        values.get("source", ""),
        event_id,
        None,
        labels.level_number(values.get("level", "")),
        None,
        None,
        values.get("log_name") or None,
        values.get("computer") or None,
        [description],
        {},
    )
