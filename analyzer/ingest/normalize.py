"""A minimal element tree both engines build, and the one function that turns it into an Event.

The rust engine fills it from the record XML (parsed with a locked-down lxml
parser); the python engine fills it straight from BinXml values. Sharing
`to_event` means both engines apply exactly the same normalization rules.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from analyzer.errors import RecordError
from analyzer.events import FILETIME_EPOCH, Event


class El:
    __slots__ = ("attrs", "children", "name")

    def __init__(self, name: str, attrs: dict[str, str] | None = None) -> None:
        self.name = name
        self.attrs: dict[str, str] = attrs if attrs is not None else {}
        self.children: list[El | str] = []

    def child(self, name: str) -> El | None:
        for c in self.children:
            if isinstance(c, El) and c.name == name:
                return c
        return None

    def text(self) -> str:
        return "".join(c for c in self.children if isinstance(c, str))


NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def _local(tag: str) -> str:
    """An element's name without its namespace (both engines ignore namespaces: a damaged
    `xmlns` must not hide an event's System element)."""
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def from_lxml(element: Any, fix: Callable[[str], str] = str) -> El:
    """An lxml <Event> (record XML or an XML export) -> El, as deep as `to_event` reads:
    the System and EventData elements and their children's attributes and direct text."""
    root = El(_local(element.tag))
    for part in element:
        if not isinstance(part.tag, str):
            continue
        name = _local(part.tag)
        if name not in ("System", "EventData"):
            continue
        node = El(name)
        root.children.append(node)
        for item in part:
            if not isinstance(item.tag, str):
                continue
            child = El(_local(item.tag), {k: fix(v) for k, v in item.attrib.items()})
            text = (item.text or "") + "".join(c.tail or "" for c in item)
            if text:
                child.children.append(fix(text))
            node.children.append(child)
    return root


_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?")
ZERO_TIME = "a half-written record (TimeCreated is zero)"
LACKS = "record lacks Provider, EventID or TimeCreated"


def parse_time(text: str) -> datetime:
    """A TimeCreated as pyevtx-rs (or an export) prints it. A time of zero (1601-01-01T00:00:00,
    what a record half written when the log was copied holds) is damage, not a time."""
    moment: datetime | None = None
    if len(text) == 27 and text[10] == "T" and text[26] == "Z":  # as pyevtx-rs prints it: the quick way
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(text)
    if moment is None:
        m = _TIME.match(text)
        if not m:
            raise RecordError("unparseable TimeCreated")
        fraction = (m.group(7) or "0").ljust(6, "0")[:6]
        y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
        try:
            moment = datetime(y, mo, d, h, mi, s, int(fraction), tzinfo=UTC)
        except ValueError:
            raise RecordError("unparseable TimeCreated") from None
    if moment == FILETIME_EPOCH:
        raise RecordError(ZERO_TIME)
    return moment


def canonical_time(text: str) -> str:
    """`text` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so times printed differently compare as strings."""
    return parse_time(text).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_number(text: str | None) -> int | None:
    """A System number as Windows prints it (decimal, or hex with 0x); None if empty or not one."""
    if text is None or text == "":
        return None
    try:
        return int(text, 16) if text[:2] in ("0x", "0X") else int(text)
    except ValueError:
        return None


def _system_text(system: El, name: str) -> str | None:
    element = system.child(name)
    return element.text() if element is not None else None


def to_event(root: El, file: str) -> Event:
    """Normalize one record's tree; raise RecordError if it lacks what every event has (a
    provider, an event id and a time; a record without EventRecordID, such as a forwarded-events
    bookmark, is an event with a null record id)."""
    system = root.child("System")
    if system is None:
        raise RecordError("record has no System element")
    provider = system.child("Provider")
    name = provider.attrs.get("Name") if provider is not None else None
    event_id_el = system.child("EventID")
    event_id = parse_number(event_id_el.text()) if event_id_el is not None else None
    created = system.child("TimeCreated")
    stamp = created.attrs.get("SystemTime") if created is not None else None
    record_id = parse_number(_system_text(system, "EventRecordID"))  # None: a record without one
    if not name or event_id is None or not stamp:
        raise RecordError(LACKS)
    data: list[str] = []
    fields: dict[str, str] = {}
    event_data = root.child("EventData")
    if event_data is not None:
        for item in event_data.children:
            if isinstance(item, El) and item.name == "Data":
                value = item.text()
                data.append(value)
                if "Name" in item.attrs:
                    fields[item.attrs["Name"]] = value
    return Event(
        file=file,
        event_record_id=record_id,
        time_created=parse_time(stamp),
        provider=name,
        event_id=event_id,
        qualifiers=parse_number(event_id_el.attrs.get("Qualifiers")) if event_id_el is not None else None,
        level=parse_number(_system_text(system, "Level")),
        task=parse_number(_system_text(system, "Task")),
        keywords=parse_number(_system_text(system, "Keywords")),
        channel=_system_text(system, "Channel"),
        computer=_system_text(system, "Computer"),
        data=data,
        fields=fields,
    )
