"""What the export readers share: local times (date order, time zone) and the facts an export
reports about itself (what its format could not carry).

Event Viewer and PowerShell write times in the exporting machine's regional format and local
time, with no offset. The day/month order is decided once per file from its values (a field
over 12 settles it); a file that cannot settle it is refused, naming `--date-order`. With
`--input-tz` the times are converted to UTC; without, they are kept as written and marked
local, so that reports say so and print them without `Z`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from analyzer.errors import RecordError
from analyzer.ingest.exports import labels
from analyzer.sentences import NOT_CARRIED

if TYPE_CHECKING:
    from collections.abc import Iterable

FIELD_LIMIT = 16 << 20  # characters in one CSV field (the csv module's default is 128 KiB)
RECORD_LIMIT = 16 << 20  # characters in one exported record of any format
csv.field_size_limit(FIELD_LIMIT)  # process-wide, set once: every CSV reader here wants the same

ORDERS = ("dmy", "mdy")
_DATE = re.compile(r"(\d{1,4})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{1,4})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,7}))?")
_QUICK = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{4}|\d{1,2}) (\d{1,2}):(\d\d):(\d\d)(?: ([AP]M))?\Z")
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})$")
_MARKS = str.maketrans("", "", "\u200e\u200f\u202a\u202b\u202c\u202d\u202e")


class DateOrderError(Exception):
    """The file's dates do not tell day/month order (or tell both)."""


def zone_of(text: str) -> tzinfo:
    """`--input-tz`: an IANA name (Europe/Berlin), UTC, or an offset such as +02:00 / -0530."""
    if text.strip().upper() in ("UTC", "Z", "GMT"):
        return UTC
    found = _OFFSET.match(text.strip())
    if found:
        sign, hours, minutes = found.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta > timedelta(hours=14):
            raise ValueError(f"offset {text} is beyond ±14:00")
        return timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(text)
    except (ValueError, OSError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {text!r} (an IANA name such as Europe/Berlin, or +02:00)") from exc


@dataclass(frozen=True)
class Clock:
    """How to read local times: `--date-order` and `--input-tz` (None: decide / keep local)."""

    order: str | None = None
    zone: str | None = None

    def settle(self, dates: Iterable[str]) -> str:
        """The date order of a file ("ymd", "dmy" or "mdy"), from its date texts; raises
        DateOrderError when they cannot tell (or contradict each other)."""
        if self.order:
            return self.order
        ambiguous = False
        for text in dates:
            found = _DATE.search(text.translate(_MARKS))
            if found is None:
                continue
            first, second = found.group(1), found.group(2)
            if len(first) >= 3:
                return "ymd"
            a, b = int(first), int(second)
            if a > 12 >= b:
                return "dmy"
            if b > 12 >= a:
                return "mdy"
            ambiguous = ambiguous or a != b
        if ambiguous:
            raise DateOrderError(
                "its dates do not tell day/month order (no day above 12): give --date-order dmy or mdy"
            )
        return "dmy"  # no date, or only days equal to their month: either order reads the same

    def tz(self) -> tzinfo | None:
        return zone_of(self.zone) if self.zone else None

    def parse(self, text: str, order: str, zone: tzinfo | None) -> datetime:
        """A local date and time as Windows writes it -> aware datetime (UTC when converted;
        otherwise the local wall clock, labelled UTC: the report marks such times local)."""
        quick = _QUICK.match(text)
        if quick is not None:  # the common shapes, in one match
            a, b, c, hour, minute, second = (int(g) for g in quick.group(1, 3, 4, 5, 6, 7))
            if quick.group(8):
                hour = hour % 12 + (12 if quick.group(8) == "PM" else 0)
            if len(quick.group(1)) == 4:
                year, month, day = a, b, c
            elif order == "dmy":
                day, month, year = a, b, c
            else:
                month, day, year = a, b, c
            return self._moment(year, month, day, hour, minute, second, 0, order, zone)
        cleaned = text if text.isascii() else text.translate(_MARKS)
        found = _DATE.search(cleaned)
        clock = _CLOCK.search(cleaned, found.end()) if found else None
        if found is None or clock is None:
            raise RecordError("unrecognised date format")
        a, b, c = (int(g) for g in found.groups())
        if order == "ymd" or len(found.group(1)) >= 3:
            year, month, day = a, b, c
        elif order == "dmy":
            day, month, year = a, b, c
        else:
            month, day, year = a, b, c
        hour, minute = int(clock.group(1)), int(clock.group(2))
        second = int(clock.group(3) or 0)
        micro = int((clock.group(4) or "0").ljust(6, "0")[:6])
        around = (cleaned[: found.start()], cleaned[found.end() : clock.start()], cleaned[clock.end() :])
        rest = " ".join(around).casefold()
        if any(mark in rest for mark in labels.PM) and hour < 12:
            hour += 12
        elif any(mark in rest for mark in labels.AM) and hour == 12:
            hour = 0
        return self._moment(year, month, day, hour, minute, second, micro, order, zone)

    @staticmethod
    def _moment(*parts: int | str | tzinfo | None) -> datetime:
        year, month, day, hour, minute, second, micro, order, zone = parts
        if isinstance(year, int) and year < 100:  # a two-digit year
            year += 2000
        try:
            if zone is None:
                return datetime(year, month, day, hour, minute, second, micro, UTC)  # type: ignore[arg-type]
            local = datetime(year, month, day, hour, minute, second, micro, zone)  # type: ignore[arg-type]
        except ValueError:
            raise RecordError(f"date not valid in the file's {order} order") from None
        return local.astimezone(UTC)


@dataclass
class Facts:
    """What an export says about itself, for the file's report."""

    notes: list[str] = field(default_factory=list)  # what the format could not carry
    local: bool = False  # some times were local wall-clock times
    zone: str | None = None  # ... converted to UTC from this zone (--input-tz)

    def carried(self, missing: list[str]) -> None:
        if missing:
            self.notes.append(NOT_CARRIED.say(fields=missing))

    def local_times(self, clock: Clock) -> None:
        self.local = True
        self.zone = clock.zone

    @property
    def times(self) -> str:
        return "local" if self.local and self.zone is None else "utc"
