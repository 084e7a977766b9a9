"""Write events the way customers export them, and build multi-server bundles.

Used by the tests and the benchmarks; each output mirrors a real export (see
`analyzer/ingest/exports/labels.py` for the sources): Event Viewer "Save as XML" (`<Events>` root) or
`wevtutil qe /f:xml` (no root); Event Viewer "Save as CSV" and "Save as Text" with the column
names, level names and date format of a display language and region; "Copy details as text"
blocks (with or without their Event Xml); PowerShell `Export-Csv` of `Get-WinEvent` (with or
without the `#TYPE` line) and `ConvertTo-Json` (Windows PowerShell 5's `\\/Date(ms)\\/` or
PowerShell 7's ISO 8601 with an offset). Local times are the UTC times shifted by `offset`.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from analyzer.events import iso_utc
from analyzer.ingest.exports import labels
from analyzer.testkit.evtx_writer import EVENT_NS, write_evtx

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.events import Event

LEVEL_NAMES = labels.LEVEL_NAMES["en"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def local_date(moment: datetime, region: str = "en-US", offset: timedelta = timedelta(0)) -> str:
    """A UTC time as Windows writes local time (short date + long time) in a region's format."""
    t = moment.astimezone(timezone(offset))
    twelve = t.hour % 12 or 12
    formats = {
        "en-US": f"{t.month}/{t.day}/{t.year} {twelve}:{t:%M:%S} {'PM' if t.hour >= 12 else 'AM'}",
        "en-GB": f"{t:%d/%m/%Y %H:%M:%S}",
        "fr-FR": f"{t:%d/%m/%Y %H:%M:%S}",
        "es-ES": f"{t:%d/%m/%Y} {t.hour}:{t:%M:%S}",
        "de-DE": f"{t:%d.%m.%Y %H:%M:%S}",
        "ja-JP": f"{t:%Y/%m/%d} {t.hour}:{t:%M:%S}",
        "zh-CN": f"{t.year}/{t.month}/{t.day} {t.hour}:{t:%M:%S}",
        "zh-TW": f"{t.year}/{t.month}/{t.day} {'下午' if t.hour >= 12 else '上午'} {twelve:02d}:{t:%M:%S}",
        "sv-SE": f"{t:%Y-%m-%d %H:%M:%S}",
    }
    return formats[region]


def xml_export(events: Iterable[Event], root: bool = True) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    if root:
        parts.append("<Events>")
    for e in events:
        parts.append(_event_xml(e) + "\n")
    if root:
        parts.append("</Events>\n")
    return "".join(parts)


def _event_xml(e: Event) -> str:
    qualifiers = f" Qualifiers={quoteattr(str(e.qualifiers))}" if e.qualifiers is not None else ""
    data = "".join(
        f"<Data Name={quoteattr(name)}>{escape(value)}</Data>" for name, value in e.fields.items()
    ) or "".join(f"<Data>{escape(value)}</Data>" for value in e.data)
    return (
        f'<Event xmlns="{EVENT_NS}"><System><Provider Name={quoteattr(e.provider)}/>'
        f"<EventID{qualifiers}>{e.event_id}</EventID><Level>{e.level}</Level><Task>{e.task}</Task>"
        f"<Keywords>0x{e.keywords or 0:x}</Keywords><TimeCreated SystemTime='{iso_utc(e.time_created)}'/>"
        f"<EventRecordID>{e.event_record_id}</EventRecordID><Channel>{escape(e.channel or '')}</Channel>"
        f"<Computer>{escape(e.computer or '')}</Computer><Security/></System>"
        f"<EventData>{data}</EventData></Event>"
    )


def _cell(text: str, delimiter: str = ",") -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in delimiter + '"\r\n') else text


def csv_export(
    events: Iterable[Event],
    lang: str = "en",
    region: str = "en-US",
    offset: timedelta = timedelta(0),
    delimiter: str = ",",
) -> str:
    """Event Viewer "Save as CSV" (`delimiter` tab: "Save as Text") in a display language and region."""
    names = labels.COLUMNS[lang]
    levels = labels.LEVEL_NAMES[lang]
    fields = ("level", "date", "source", "event_id", "task_category")
    lines = [delimiter.join(names[f] for f in fields)]
    none = {"en": "None", "de": "Keine", "ja": "なし", "zh-CN": "无"}.get(lang, "(0)")
    for e in events:
        row = [
            levels.get(e.level or 4, levels[4]),
            local_date(e.time_created, region, offset),
            _cell(e.provider, delimiter),
            str(e.event_id),
            none,
            _cell("\r\n".join(e.data), delimiter),
        ]
        lines.append(delimiter.join(row))
    return "\r\n".join(lines) + "\r\n"


def text_export(
    events: Iterable[Event], lang: str = "en", region: str = "en-US", offset: timedelta = timedelta(0)
) -> str:
    """Event Viewer "Save as Text": the CSV layout, tab-separated (written as UTF-16 by the caller if wanted)."""
    return csv_export(events, lang, region, offset, delimiter="\t")


def details_text(
    events: Iterable[Event],
    lang: str = "en",
    region: str = "en-US",
    offset: timedelta = timedelta(0),
    xml: bool = False,
) -> str:
    """Event Viewer's "Copy -> Copy details as text", one block per event (blocks separated by a blank
    line, as when pasted one after another); labels padded to 15 characters as Windows does."""
    names = labels.DETAILS[lang]
    levels = labels.LEVEL_NAMES[lang]
    blocks = []
    for e in events:

        def line(field: str, value: str) -> str:
            label = names[field]
            return label + " " * max(15 - len(label), 0) + value  # used at once

        rows = [
            line("log_name", e.channel or "Application"),
            line("source", e.provider),
            line("date", local_date(e.time_created, region, offset)),
            line("event_id", str(e.event_id)),
            line("task_category", "None"),
            line("level", levels.get(e.level or 4, levels[4])),
            line("keywords", "Classic"),
            line("user", "N/A"),
            line("computer", e.computer or ""),
            names["description"],
            "\r\n".join(e.data),
        ]
        if xml:
            rows += [names["event_xml"], _event_xml(e)]
        blocks.append("\r\n".join(rows) + "\r\n")
    return "\r\n".join(blocks)


POWERSHELL_COLUMNS = [
    "Message",
    "Id",
    "Version",
    "Qualifiers",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "RecordId",
    "ProviderName",
    "ProviderId",
    "LogName",
    "ProcessId",
    "ThreadId",
    "MachineName",
    "UserId",
    "TimeCreated",
    "ActivityId",
    "RelatedActivityId",
    "ContainerLog",
    "MatchedQueryIds",
    "Bookmark",
    "LevelDisplayName",
    "OpcodeDisplayName",
    "TaskDisplayName",
    "KeywordsDisplayNames",
    "Properties",
]


def _signed(value: int | None) -> int | None:
    return value - (1 << 64) if value is not None and value >= 1 << 63 else value


def _powershell_row(e: Event) -> dict[str, object]:
    return {
        "Message": "\r\n".join(e.data),
        "Id": e.event_id,
        "Version": 0,
        "Qualifiers": e.qualifiers,
        "Level": e.level,
        "Task": e.task,
        "Opcode": 0,
        "Keywords": _signed(e.keywords),
        "RecordId": e.event_record_id,
        "ProviderName": e.provider,
        "ProviderId": None,
        "LogName": e.channel,
        "ProcessId": 1234,
        "ThreadId": 5678,
        "MachineName": e.computer,
        "UserId": None,
        "ActivityId": None,
        "RelatedActivityId": None,
        "ContainerLog": e.channel,
        "LevelDisplayName": LEVEL_NAMES.get(e.level or 4, "Information"),
        "OpcodeDisplayName": "Info",
        "TaskDisplayName": "None",
    }


def powershell_csv(
    events: Iterable[Event], type_line: bool = True, region: str = "en-US", offset: timedelta = timedelta(0)
) -> str:
    """`Get-WinEvent | Export-Csv`: every value quoted, nulls empty, collections as type names."""
    lines = ["#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord"] if type_line else []
    lines.append(",".join(f'"{c}"' for c in POWERSHELL_COLUMNS))
    for e in events:
        row = _powershell_row(e)
        row["TimeCreated"] = local_date(e.time_created, region, offset)
        row["MatchedQueryIds"] = "System.UInt32[]"
        row["Bookmark"] = "System.Diagnostics.Eventing.Reader.EventBookmark"
        row["KeywordsDisplayNames"] = "System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]"
        row["Properties"] = "System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"
        cells = [row.get(c) for c in POWERSHELL_COLUMNS]
        lines.append(",".join("" if v is None else '"' + str(v).replace('"', '""') + '"' for v in cells))
    return "\r\n".join(lines) + "\r\n"


def powershell_json(
    events: Iterable[Event], powershell7: bool = False, offset: timedelta = timedelta(0), single: bool = False
) -> str:
    """`Get-WinEvent | ConvertTo-Json`: TimeCreated as `\\/Date(ms)\\/` (Windows PowerShell 5) or ISO 8601
    with the local offset (PowerShell 7); one object for one event (`single`), else an array."""
    items = []
    for e in events:
        row = _powershell_row(e)
        if powershell7:
            row["TimeCreated"] = e.time_created.astimezone(timezone(offset)).isoformat(timespec="microseconds")
        else:
            millis = int((e.time_created - _EPOCH) / timedelta(milliseconds=1))
            row["TimeCreated"] = f"/Date({millis})/"
        row["Properties"] = [{"Value": value} for value in e.data]
        items.append(row)
    indent = 2 if powershell7 else 4
    text = json.dumps(items[0] if single else items, indent=indent, ensure_ascii=False)
    return text if powershell7 else text.replace("/Date(", "\\/Date(").replace(")/", ")\\/")


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
