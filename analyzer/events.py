"""The normalized event: one per EVTX record, whichever engine read it.

Columns (declared once in `COLUMNS`, with their pandas dtypes):

==================  ====================  ==============================================
column              dtype                 meaning
==================  ====================  ==============================================
file                string                the input the record came from
event_record_id     Int64                 ``<EventRecordID>`` from the event XML (not the
                                          record-header number, which can differ)
time_created        datetime64[us, UTC]   ``TimeCreated/@SystemTime``, truncated from the
                                          FILETIME's 100 ns ticks to whole microseconds
provider            string                ``Provider/@Name``
event_id            Int64                 ``EventID`` element text
qualifiers          Int64                 ``EventID/@Qualifiers`` (null when absent)
level               Int64                 ``Level`` (2 error, 3 warning, 4 information)
task                Int64                 ``Task``
keywords            UInt64                ``Keywords`` as an integer
channel             string                ``Channel``
computer            string                ``Computer``
data                object (list[str])    every ``<EventData><Data>`` value, in document order;
                                          a classic event's string array gives one value each
fields              object (dict)         ``Data/@Name`` -> value; empty for classic events
==================  ====================  ==============================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from analyzer.reports.textsafe import json_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

COLUMNS: dict[str, str] = {
    "file": "string",
    "event_record_id": "Int64",
    "time_created": "datetime64[us, UTC]",
    "provider": "string",
    "event_id": "Int64",
    "qualifiers": "Int64",
    "level": "Int64",
    "task": "Int64",
    "keywords": "UInt64",
    "channel": "string",
    "computer": "string",
    "data": "object",
    "fields": "object",
}

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Event:
    file: str
    event_record_id: int | None
    time_created: datetime
    provider: str
    event_id: int
    qualifiers: int | None
    level: int | None
    task: int | None
    keywords: int | None
    channel: str | None
    computer: str | None
    data: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def __reduce__(self) -> tuple[type[Event], tuple[Any, ...]]:
        """Pickle as a plain tuple (workers send many events; the dataclass default is slow)."""
        return Event, tuple(getattr(self, name) for name in COLUMNS)

    def as_json(self, local: bool = False) -> str:
        """One JSON object with exactly the model's keys (time as ISO 8601 UTC with µs and Z; with
        `local`, an export's local wall clock: without the Z)."""
        row: dict[str, Any] = {name: getattr(self, name) for name in COLUMNS}
        row["time_created"] = iso_time(self.time_created, local)
        return json.dumps(row, ensure_ascii=False)


class Line(NamedTuple):
    """An event read straight into what an output needs (`payload`: its JSON line, or its row of
    column values), with what a file's account needs of it. Made as a plain tuple (quicker)."""

    payload: Any
    stamp: str  # time_created as `iso_utc` prints it
    provider: str
    channel: str | None
    computer: str | None


class Lines(NamedTuple):
    """Events of consecutive records, each a `Line`, and the records' header numbers."""

    numbers: list[int]
    lines: list[tuple[Any, str, str, str | None, str | None]]


def json_line(event: Event, local: bool = False) -> str:
    """The event's line in `wba events -f jsonl` (`local`: see `Event.as_json`)."""
    return json_text(event.as_json(local)) + "\n"


def json_string(text: str) -> str:
    """`text` as in `json_line` (json.dumps without ASCII escapes, C1 controls escaped)."""
    return json_text(json.dumps(text, ensure_ascii=False))


# orjson writes a string as json.dumps(..., ensure_ascii=False) does (a test compares them on
# every character), seven times faster (0.3 µs for a 100-character message); lists and maps are
# joined here with json's spaces.
def json_list(values: list[str]) -> str:
    """A list of strings as in `json_line`."""
    try:
        text = "[" + ", ".join([orjson.dumps(value).decode() for value in values]) + "]"
    except TypeError:  # a lone surrogate: orjson refuses what json.dumps writes
        text = json.dumps(values, ensure_ascii=False)
    return json_text(text)


def json_dict(values: dict[str, str]) -> str:
    """A dict of strings as in `json_line`."""
    dumps = orjson.dumps
    try:
        text = "{" + ", ".join([f"{dumps(k).decode()}: {dumps(v).decode()}" for k, v in values.items()]) + "}"
    except TypeError:
        text = json.dumps(values, ensure_ascii=False)
    return json_text(text)


def filetime_to_datetime(ticks: int) -> datetime:
    """FILETIME (100 ns since 1601) -> aware UTC datetime, truncated to microseconds."""
    return FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def datetime_to_filetime(moment: datetime) -> int:
    delta = moment - FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_time(moment: datetime, local: bool) -> str:
    """`iso_utc`, without its `Z` when the time is an export's local wall clock (zone unknown)."""
    text = iso_utc(moment)
    return text[:-1] if local else text


def to_dataframe(events: Iterable[Event]) -> pd.DataFrame:
    """Events -> DataFrame with the declared columns and dtypes."""
    import pandas as pd

    rows = [[getattr(e, name) for name in COLUMNS] for e in events]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype(COLUMNS)


def validate_events(frame: pd.DataFrame) -> None:
    """Raise ValueError if `frame` does not follow the column contract."""
    if list(frame.columns) != list(COLUMNS):
        raise ValueError(f"columns {list(frame.columns)} != {list(COLUMNS)}")
    wrong = {c: str(frame[c].dtype) for c in COLUMNS if str(frame[c].dtype) != COLUMNS[c]}
    if wrong:
        raise ValueError(f"wrong dtypes: {wrong}")


def server_of(event: Event) -> str:
    """The server is the event's Computer; exports without one are kept apart per input."""
    return server_name(event.computer, event.file)


def server_name(computer: str | None, file: str) -> str:
    """`server_of` an event of this computer and input: the input's whole name as given, so that
    two exports of one name in two folders (`srv1/Application.csv`, `srv2/...`) stay two servers."""
    return computer or f"{UNKNOWN_COMPUTER}{file})"


UNKNOWN_COMPUTER = "(unknown computer: "  # how `server_name` starts the name of a server without one
