"""Event Viewer "Save as XML" and `wevtutil qe /f:xml` exports -> events.

Parsed incrementally with lxml, entities, DTDs and network access off; a document
that declares a DTD or entities is refused outright (XXE, billion laughs). wevtutil
writes `<Event>` elements without a root: they are read as if wrapped in one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lxml import etree

from analyzer.errors import InputError, RecordError
from analyzer.ingest import sniff
from analyzer.ingest.normalize import NS, from_lxml, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.events import Event
    from analyzer.ingest.exports.common import Clock, Facts

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_FORBIDDEN = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def read(
    path: Path, file: str, clock: Clock | None = None, facts: Facts | None = None
) -> Iterator[Event | RecordError]:
    """Yield each exported event, or why it could not be read; raise InputError for a non-export.
    (`clock` and `facts`: as the other export readers take them; XML carries UTC and everything.)"""
    parser = etree.XMLPullParser(
        events=("end",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    started = wrapped = False
    seen = 0
    try:
        for text in sniff.text_blocks(path):  # decoded as the sniffer judged it
            if _FORBIDDEN.search(text):
                raise InputError(path, "XML with a DTD or entity declarations is not accepted")
            if not started:
                text = _DECLARATION.sub("", text, count=1).lstrip()
                if not text:
                    continue
                if not text.startswith("<"):
                    raise InputError(path, "not an XML event export")
                wrapped = not text.startswith("<Events")
                if wrapped:
                    parser.feed("<Events>")
                started = True
            parser.feed(text)
            for item in _events(parser, file):
                seen += 1
                yield item
        if wrapped:
            parser.feed("</Events>")
        parser.close()
        for item in _events(parser, file):
            seen += 1
            yield item
    except etree.XMLSyntaxError as exc:
        if seen == 0:
            raise InputError(path, "not an XML event export (does not parse)") from None
        yield RecordError(f"XML breaks off after {seen} events (line {exc.lineno})")
    if not started:
        raise InputError(path, "empty file")


def _events(parser: etree.XMLPullParser, file: str) -> Iterator[Event | RecordError]:
    for _, element in parser.read_events():
        if element.tag not in (f"{NS}Event", "Event"):
            continue
        parent = element.getparent()
        if parent is None or parent.getparent() is not None:
            continue  # only top-level events
        try:
            yield to_event(from_lxml(element), file)
        except RecordError as exc:
            yield exc
        element.clear()
        while element.getprevious() is not None:
            del parent[0]
