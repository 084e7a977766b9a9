"""Event Viewer "Save as CSV" exports (Level, Date and Time, Source, Event ID, Task Category, text) -> events.

Such an export has no computer, channel, record id, qualifiers or keywords (they are
null), and its times are the exporting machine's local time (read as UTC; reports
say so).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from analyzer.errors import InputError, RecordError
from analyzer.events import Event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HEADERS = {
    ("level", "date and time", "source", "event id", "task category"),
    ("级别", "日期和时间", "来源", "事件 id", "任务类别"),
}
LEVELS = {
    "information": 4,
    "信息": 4,
    "warning": 3,
    "警告": 3,
    "error": 2,
    "错误": 2,
    "critical": 1,
    "关键": 1,
    "verbose": 5,
    "详细": 5,
}
DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
)
NOTE = "CSV export: no computer, channel or record ids; times are the exporting machine's local time, read as UTC"


def _date(text: str) -> datetime:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise RecordError("unrecognised date format")


def read(path: Path, file: str) -> Iterator[Event | RecordError]:
    raw = path.read_bytes()
    if not raw:
        raise InputError(path, "empty file")
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    rows = csv.reader(io.StringIO(raw.decode(encoding, "replace"), newline=""))
    header = next(rows, [])
    if tuple(h.strip().casefold() for h in header[:5]) not in HEADERS:
        raise InputError(path, "not an Event Viewer CSV export (unexpected header)")
    for row in rows:
        if not row:
            continue
        if len(row) < 6:
            yield RecordError("CSV row with fewer than 6 columns")
            continue
        level, when, source, event_id, _task, *text = row
        try:
            yield Event(
                file,
                None,
                _date(when),
                source.strip(),
                int(event_id),
                None,
                LEVELS.get(level.strip().casefold()),
                None,
                None,
                None,
                None,
                [",".join(text)],
                {},
            )
        except ValueError:
            yield RecordError("CSV row with a non-numeric event id")
        except RecordError as exc:
            yield exc
