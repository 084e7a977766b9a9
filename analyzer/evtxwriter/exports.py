"""Write events the way Event Viewer exports them (XML and CSV), and build multi-server bundles.

Used by the tests (bundle inputs) and the benchmarks; the output mirrors real exports:
XML as "Save as XML" (`<Events>` root) or `wevtutil qe /f:xml` (no root), CSV with
Event Viewer's columns and its local-time date format.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from analyzer.events import iso_utc
from analyzer.evtxwriter.writer import EVENT_NS, write_evtx

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.events import Event

LEVEL_NAMES = {1: "Critical", 2: "Error", 3: "Warning", 4: "Information"}


def xml_export(events: Iterable[Event], root: bool = True) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    if root:
        parts.append("<Events>")
    for e in events:
        qualifiers = f" Qualifiers={quoteattr(str(e.qualifiers))}" if e.qualifiers is not None else ""
        data = "".join(
            f"<Data Name={quoteattr(name)}>{escape(value)}</Data>" for name, value in e.fields.items()
        ) or "".join(f"<Data>{escape(value)}</Data>" for value in e.data)
        parts.append(
            f'<Event xmlns="{EVENT_NS}"><System><Provider Name={quoteattr(e.provider)}/>'
            f"<EventID{qualifiers}>{e.event_id}</EventID><Level>{e.level}</Level><Task>{e.task}</Task>"
            f"<Keywords>0x{e.keywords or 0:x}</Keywords><TimeCreated SystemTime='{iso_utc(e.time_created)}'/>"
            f"<EventRecordID>{e.event_record_id}</EventRecordID><Channel>{escape(e.channel or '')}</Channel>"
            f"<Computer>{escape(e.computer or '')}</Computer><Security/></System>"
            f"<EventData>{data}</EventData></Event>\n"
        )
    if root:
        parts.append("</Events>\n")
    return "".join(parts)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def csv_export(events: Iterable[Event]) -> str:
    lines = ["Level,Date and Time,Source,Event ID,Task Category"]
    for e in events:
        when = e.time_created.strftime("%m/%d/%Y %I:%M:%S %p")
        message = "\r\n".join(e.data)
        lines.append(
            ",".join(
                [
                    LEVEL_NAMES.get(e.level or 4, "Information"),
                    when,
                    _csv_cell(e.provider),
                    str(e.event_id),
                    "None",
                    _csv_cell(message),
                ]
            )
        )
    return "\r\n".join(lines) + "\r\n"


def evtx_bytes(events: Iterable[Event]) -> bytes:
    buffer = io.BytesIO()
    write_evtx(buffer, events)
    return buffer.getvalue()


def renamed(events: list[Event], computer: str, record_offset: int = 0) -> list[Event]:
    return [replace(e, computer=computer, event_record_id=(e.event_record_id or 0) + record_offset) for e in events]


def fleet_zip(servers: list[tuple[str, list[Event]]]) -> bytes:
    """A support bundle: one folder per server with its Application log."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, events in servers:
            archive.writestr(f"{name}/Application.evtx", evtx_bytes(events))
    return buffer.getvalue()
