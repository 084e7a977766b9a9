"""PowerShell exports -> events, streamed: `Get-WinEvent` / `Get-EventLog` piped to `Export-Csv`
(with or without the `#TYPE` line; `,`, `;` or tab separated) or to `ConvertTo-Json` (one object
or an array; UTF-16 as Windows PowerShell 5 writes it, or UTF-8).

Property names are never localized. What a CSV export carries of the event is its formatted
`Message` (collections such as `Properties` become type names), its times are the exporting
machine's local time in its regional format; JSON carries `Properties` (the event data) and UTC
(`\\/Date(ms)\\/` in Windows PowerShell 5, ISO 8601 with an offset in PowerShell 7).
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from analyzer.errors import InputError, RecordError
from analyzer.events import Event
from analyzer.ingest import sniff
from analyzer.ingest.exports import labels
from analyzer.ingest.exports.common import FIELD_LIMIT, RECORD_LIMIT, DateOrderError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.ingest.exports.common import Clock, Facts

# Event model field -> the properties that hold it (Get-WinEvent first, then Get-EventLog).
PROPERTIES = {
    "event_id": ("Id", "EventID"),
    "provider": ("ProviderName", "Source"),
    "time": ("TimeCreated", "TimeGenerated"),
    "record": ("RecordId", "Index"),
    "computer": ("MachineName",),
    "channel": ("LogName", "ContainerLog"),
    "level": ("Level", "EntryType", "LevelDisplayName"),
    "qualifiers": ("Qualifiers", "InstanceId"),
    "task": ("Task",),
    "keywords": ("Keywords",),
    "message": ("Message",),
}
_MISSING_NAMES = {
    "record": "record ids",
    "computer": "computer",
    "channel": "channel",
    "level": "level",
    "qualifiers": "qualifiers",
    "keywords": "keywords",
}
# Get-EventLog's EntryType: the enum's name (CSV) or number (JSON).
_ENTRY_TYPES = {"error": 2, "warning": 3, "information": 4, "successaudit": 0, "failureaudit": 0}
_ENTRY_NUMBERS = {1: 2, 2: 3, 4: 4, 8: 0, 16: 0}
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def read(path: Path, file: str, clock: Clock, facts: Facts) -> Iterator[Event | RecordError]:
    with path.open("rb") as fh:
        _, text = sniff.decode_head(fh.read(sniff.HEAD))
    if text.lstrip("\ufeff \t\r\n").startswith(("[", "{")):
        yield from _json(path, file, clock, facts)
    else:
        yield from _csv(path, file, clock, facts)


# ----- Export-Csv -----------------------------------------------------------------------------------


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with sniff.open_text(path) as fh:
        first = fh.readline(FIELD_LIMIT)
        if first.lstrip("\ufeff").startswith("#TYPE"):
            first = fh.readline(FIELD_LIMIT)
        delimiter = max("\t;,", key=lambda d: first.count(d)) if first else ","
        reader = csv.reader(_lines(first, fh), delimiter=delimiter)
        header = [h.lstrip("\ufeff").strip() for h in next(reader, [])]
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield dict(zip(header, row, strict=False))
        except csv.Error as exc:
            yield {"\0broken": f"malformed from line {reader.line_num} on ({exc}): the rest of the file was not read"}


def _lines(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _columns(names: set[str]) -> dict[str, str]:
    return {
        field: next(n for n in choices if n in names) for field, choices in PROPERTIES.items() if names & set(choices)
    }


def _csv(path: Path, file: str, clock: Clock, facts: Facts) -> Iterator[Event | RecordError]:
    first = next(_csv_rows(path), None)
    columns = _columns(set(first or ()))
    if not {"event_id", "provider", "time"} <= columns.keys():
        raise InputError(path, "not a PowerShell event export (no Id, ProviderName and TimeCreated columns)")
    time = columns["time"]
    try:
        order = clock.settle(row.get(time, "") for row in _csv_rows(path))
    except DateOrderError as exc:
        raise InputError(path, str(exc)) from None
    zone = clock.tz()
    facts.carried([_MISSING_NAMES[f] for f in _MISSING_NAMES if f not in columns])
    facts.carried(["event data (only the formatted message)", "event data names"])
    facts.local_times(clock)
    for row in _csv_rows(path):
        if "\0broken" in row:
            yield RecordError(row["\0broken"])
            return
        try:
            yield _event(file, {f: row.get(name) for f, name in columns.items()}, clock.parse(row[time], order, zone))
        except RecordError as exc:
            yield exc


def _number(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("a number property holds true/false")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RecordError("a number property that is not a number") from None


def _level(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value <= 5 else _ENTRY_NUMBERS.get(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    return _ENTRY_TYPES.get(text.casefold(), labels.level_number(text))


def _event(file: str, values: dict[str, Any], moment: datetime, data: list[str] | None = None) -> Event:
    event_id = _number(values.get("event_id"))
    if event_id is None:
        raise RecordError("an event without an id")
    qualifiers = _number(values.get("qualifiers"))
    if qualifiers is not None and qualifiers > 0xFFFF:  # Get-EventLog's InstanceId: qualifiers in the top bits
        qualifiers >>= 16
    keywords = _number(values.get("keywords"))
    message = values.get("message")
    return Event(
        file,
        _number(values.get("record")),
        moment,
        str(values.get("provider") or ""),
        event_id & 0xFFFF if event_id > 0xFFFF else event_id,
        qualifiers,
        _level(values.get("level")),
        _number(values.get("task")),
        keywords & 0xFFFFFFFFFFFFFFFF if keywords is not None else None,  # PowerShell writes it signed
        str(values["channel"]) if values.get("channel") else None,
        str(values["computer"]) if values.get("computer") else None,
        data if data is not None else [str(message) if message is not None else ""],
        {},
    )


# ----- ConvertTo-Json -------------------------------------------------------------------------------


class _Utf8:
    """A text file as the UTF-8 bytes ijson reads; refuses to hold one event over RECORD_LIMIT."""

    def __init__(self, text: Any) -> None:
        self.text = text
        self.since_event = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing to learn whether the file gives bytes
            return b""
        data = self.text.read(max(size // 4, 1) if size > 0 else -1).encode("utf-8", "surrogatepass")
        self.since_event += len(data)
        if self.since_event > RECORD_LIMIT:
            raise _TooBig
        return data


class _TooBig(Exception):
    pass


def _json(path: Path, file: str, clock: Clock, facts: Facts) -> Iterator[Event | RecordError]:
    import ijson

    seen = 0
    missing: set[str] = set(_MISSING_NAMES)
    local = False
    with sniff.open_text(path) as fh:
        start = fh.read(1)
        while start and start in "\ufeff \t\r\n":
            start = fh.read(1)
        reader = _Utf8(_Rewound(start, fh))
        try:
            for item in ijson.items(reader, "item" if start == "[" else "", use_float=True):
                reader.since_event = 0
                seen += 1
                if not isinstance(item, dict):
                    yield RecordError("a JSON item that is not an object")
                    continue
                columns = _columns(set(item))
                missing &= set(_MISSING_NAMES) - columns.keys()
                try:
                    moment, was_local = _json_time(item.get(columns.get("time", "")), clock)
                    local = local or was_local
                    values = {f: item.get(name) for f, name in columns.items()}
                    yield _event(file, values, moment, _json_data(item))
                except RecordError as exc:
                    yield exc
        except _TooBig:
            yield RecordError(f"an event over {RECORD_LIMIT >> 20} MiB: the rest of the file was not read")
        except ijson.JSONError:
            if seen == 0:
                raise InputError(path, "not a PowerShell JSON export (does not parse)") from None
            yield RecordError(f"JSON breaks off after {seen} events")
    facts.carried([*sorted(_MISSING_NAMES[f] for f in missing), "event data names"])
    if local:
        facts.local_times(clock)


class _Rewound:
    def __init__(self, first: str, rest: Any) -> None:
        self.first, self.rest = first, rest

    def read(self, size: int = -1) -> str:
        if self.first and size != 0:
            head, self.first = self.first, ""
            return head + self.rest.read(size - 1 if size > 0 else -1)
        return self.rest.read(size)


def _json_time(value: Any, clock: Clock) -> tuple[datetime, bool]:
    """TimeCreated as ConvertTo-Json writes it -> (UTC time, whether it was local)."""
    if isinstance(value, dict):  # Get-Date objects keep their note properties: {"value": ..., "DateTime": ...}
        value = value.get("value")
    if not isinstance(value, str):
        raise RecordError("an event without a time")
    text = value.strip()
    found = _MS_DATE.match(text.replace("\\/", "/"))
    if found:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(found.group(1))), False
    try:
        moment = datetime.fromisoformat(_iso(text))
    except ValueError:  # a culture-formatted string (a script that formatted the time itself)
        try:
            order = clock.settle([text])
        except DateOrderError as exc:
            raise RecordError(str(exc)) from None
        return clock.parse(text, order, clock.tz()), True
    if moment.tzinfo is None:
        zone = clock.tz()
        return (moment.replace(tzinfo=UTC) if zone is None else moment.replace(tzinfo=zone).astimezone(UTC)), True
    return moment.astimezone(UTC), False


def _iso(text: str) -> str:
    """ISO 8601 with up to 7 fraction digits (.NET) -> what `fromisoformat` reads."""
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text)
    if not found:
        raise ValueError(text)
    fraction = "." + found.group(2)[1:7].ljust(6, "0") if found.group(2) else ""
    zone = "+00:00" if found.group(3) == "Z" else found.group(3) or ""
    return found.group(1) + fraction + zone


def _json_data(item: dict[str, Any]) -> list[str] | None:
    """The event data: `Properties` values (Get-WinEvent) or `ReplacementStrings` (Get-EventLog)."""
    found = item.get("Properties")
    if isinstance(found, list) and found and all(isinstance(p, dict) and "Value" in p for p in found):
        values = [p["Value"] for p in found]
        if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
            return [str(v) for v in values]
    strings = item.get("ReplacementStrings")
    if isinstance(strings, list) and strings and all(isinstance(s, str) for s in strings):
        return strings
    return None
