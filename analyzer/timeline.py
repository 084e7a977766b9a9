"""`wba timeline`: writeback events (or stitched operations) in time order, with filters."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError
from analyzer.events import iso_utc

if TYPE_CHECKING:
    from analyzer.diagnosis import Collector, ServerDiagnosis

EVENT_COLUMNS = ["time", "server", "provider", "code", "name", "level", "user", "tracking_id", "cause", "meaning"]
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class FilterError(AnalyzerError):
    pass


def parse_when(text: str, newest: datetime | None) -> datetime:
    """ISO 8601 (UTC if no zone), or `24h`/`7d`/`30m` before the newest event of the inputs."""
    match = _RELATIVE.match(text.strip())
    if match:
        if newest is None:
            raise FilterError(f"{text}: a relative time needs events to count back from")
        return newest - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"{text!r} is neither an ISO 8601 time nor a relative one like 24h") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_codes(text: str) -> list[tuple[int, int]]:
    """`31001,32000-32015` -> ranges."""
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        try:
            ranges.append((int(low), int(high or low)))
        except ValueError:
            raise FilterError(f"{part!r} is not an event id or a range like 32000-32015") from None
    return ranges


@dataclass
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    codes: list[tuple[int, int]] = field(default_factory=list)
    levels: set[str] = field(default_factory=set)
    computers: set[str] = field(default_factory=set)
    users: list[str] = field(default_factory=list)
    tracking_ids: set[str] = field(default_factory=set)

    def keep(
        self, when: datetime, computer: str, code: int | None, level: str | None, user: str | None, tracking: str | None
    ) -> bool:
        if (self.since and when < self.since) or (self.until and when > self.until):
            return False
        if self.codes and (code is None or not any(lo <= code <= hi for lo, hi in self.codes)):
            return False
        if self.levels and level not in self.levels:
            return False
        if self.computers and computer.casefold() not in self.computers:
            return False
        if self.users and (user is None or not any(u in user.casefold() for u in self.users)):
            return False
        return not (self.tracking_ids and (tracking or "").casefold() not in self.tracking_ids)


_LEVELS = {1: "error", 2: "error", 3: "warning", 4: "info", 0: "info", 5: "info"}


def event_rows(collector: Collector, filters: Filters) -> list[dict[str, Any]]:
    rows = []
    for computer, evidence in collector.evidence.items():
        for item in evidence:
            level = _LEVELS.get(item.event.level or 0, "info")
            if not filters.keep(
                item.time, computer, item.event.event_id, level, item.fields.upn, item.fields.tracking_id
            ):
                continue
            rows.append(
                {
                    "time": iso_utc(item.time),
                    "server": computer,
                    "provider": item.event.provider,
                    "code": item.event.event_id,
                    "name": item.entry.name,
                    "level": level,
                    "user": item.fields.upn,
                    "tracking_id": item.fields.tracking_id,
                    "cause": item.cause,
                    "meaning": item.entry.title.en,
                }
            )
    for computer, events in collector.unknown_events.items():
        for event in events:
            level = _LEVELS.get(event.level or 0, "info")
            if filters.keep(event.time_created, computer, event.event_id, level, None, None):
                rows.append(
                    {
                        "time": iso_utc(event.time_created),
                        "server": computer,
                        "provider": event.provider,
                        "code": event.event_id,
                        "name": "(not in the catalogue)",
                        "level": level,
                        "user": None,
                        "tracking_id": None,
                        "cause": None,
                        "meaning": _flat(event.data),
                    }
                )
    return sorted(rows, key=lambda r: (r["time"], r["server"], r["code"]))


def _flat(data: list[str]) -> str:
    return " ".join(" ".join(data).split())[:120]


def operation_rows(servers: list[ServerDiagnosis], filters: Filters) -> list[dict[str, Any]]:
    rows = []
    others = replace(filters, codes=[])  # codes match any event of the operation, checked here
    for server in servers:
        for op in server.operations:
            start = op.start or op.first_seen
            codes = sorted({e.event.event_id for e in op.evidence})
            level = "error" if op.outcome == "failed" else "warning" if op.outcome == "unfinished" else "info"
            if filters.codes and not any(lo <= c <= hi for c in codes for lo, hi in filters.codes):
                continue
            if not others.keep(start, server.computer, None, level, op.user, op.tracking_id):
                continue
            duration = (op.end - op.start).total_seconds() if op.start and op.end else None
            rows.append(
                {
                    "start": iso_utc(start),
                    "server": server.computer,
                    "kind": op.kind,
                    "user": op.user,
                    "duration_s": None if duration is None else round(duration, 3),
                    "outcome": op.outcome,
                    "cause": op.cause,
                    "tracking_id": op.tracking_id,
                    "events": ",".join(map(str, codes)),
                }
            )
    return sorted(rows, key=lambda r: (r["start"], r["server"]))


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    columns = list(rows[0]) if rows else EVENT_COLUMNS
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    from tabulate import tabulate

    table = [[("" if v is None else str(v)).replace("|", "\\|") for v in r.values()] for r in rows]
    style = "github" if fmt == "markdown" else "simple"
    return tabulate(table, headers=columns, tablefmt=style, disable_numparse=True) + "\n"
