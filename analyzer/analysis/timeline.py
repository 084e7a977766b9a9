"""`wba timeline`: writeback events (or stitched operations) in time order, with filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError
from analyzer.events import iso_time, iso_utc

if TYPE_CHECKING:
    from collections.abc import Collection

    from analyzer.analysis.collect import Collector
    from analyzer.analysis.diagnosis import ServerDiagnosis

EVENT_COLUMNS = ["time", "server", "provider", "code", "name", "level", "user", "tracking_id", "cause", "meaning"]
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class FilterError(AnalyzerError):
    """A filter value that cannot be used; `option` names the option it came from."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


def check_options(code: str | None, since: str | None, until: str | None) -> list[tuple[int, int]]:
    """The code ranges, once the options that can be checked before reading are (FilterError)."""
    try:
        codes = parse_codes(code) if code else []
    except FilterError as exc:
        raise FilterError(str(exc), "--code") from None
    for option, text in (("--since", since), ("--until", until)):
        try:
            if text is not None:
                check_when(text)
        except FilterError as exc:
            raise FilterError(str(exc), option) from None
    return codes


def _relative(text: str) -> timedelta | None:
    match = _RELATIVE.match(text.strip())
    if not match:
        return None
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise FilterError(f"{text}: too far back") from None


def check_when(text: str) -> None:
    """FilterError unless `text` is a time `parse_when` accepts (checked before anything is read)."""
    if _relative(text) is None:
        parse_when(text, None)


def parse_when(text: str, newest: datetime | None) -> datetime:
    """ISO 8601 (UTC if no zone), or `24h`/`7d`/`30m` before the newest event of the inputs."""
    back = _relative(text)
    if back is not None:
        if newest is None:
            raise FilterError(f"{text}: a relative time needs events to count back from")
        try:
            return newest - back
        except OverflowError:
            raise FilterError(f"{text}: too far back") from None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"{text!r} is neither an ISO 8601 time nor a relative one like 24h") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_codes(text: str) -> list[tuple[int, int]]:
    """`31001,32000-32015` -> ranges; a reversed range is an error."""
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        try:
            pair = (int(low), int(high or low))
        except ValueError:
            raise FilterError(f"{part!r} is not an event id or a range like 32000-32015") from None
        if pair[0] > pair[1]:
            raise FilterError(f"{part!r}: the range is reversed (give {pair[1]}-{pair[0]})")
        ranges.append(pair)
    if not ranges:
        raise FilterError(f"{text!r}: no event id")
    return ranges


def _short(name: str) -> str:
    return name.split(".", 1)[0].casefold()


# Routine signs of life, hidden unless asked for (`--all`): the heartbeat (31019) and the password
# hash sync pings (Directory Synchronization 653/654, named ...Ping... in the catalogue).
ROUTINE_ROLES = frozenset({"heartbeat"})


def routine(role: str, name: str) -> bool:
    return role in ROUTINE_ROLES or "Ping" in name


@dataclass
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    codes: list[tuple[int, int]] = field(default_factory=list)
    levels: set[str] = field(default_factory=set)
    computers: set[str] = field(default_factory=set)  # casefolded full or short names
    users: list[str] = field(default_factory=list)
    tracking_ids: set[str] = field(default_factory=set)
    routine: bool = True  # heartbeats and pings too

    @classmethod
    def build(
        cls,
        collector: Collector,
        since: str | None,
        until: str | None,
        codes: list[tuple[int, int]],
        levels: set[str],
        computers: list[str],
        users: list[str],
        tracking_ids: list[str],
        routine: bool,
    ) -> Filters:
        """The filters from option values; relative times count back from the newest event."""
        times = [last for _, last in collector.spans().values()]
        newest = max(times) if times else None
        start = parse_when(since, newest) if since else None
        end = parse_when(until, newest) if until else None
        if start and end and start > end:
            raise FilterError(f"--since {since} is after --until {until}")
        return cls(
            since=start,
            until=end,
            codes=codes,
            levels=levels,
            computers={c.strip().casefold() for c in computers},
            users=[u.casefold() for u in users],
            tracking_ids={t.strip().casefold() for t in tracking_ids},
            routine=routine,
        )

    def describe(self, collector: Collector) -> str:
        """What the logs hold, for a filter that matched nothing."""
        spans = collector.spans()
        if not spans:
            return "the inputs hold no events"
        first = min(span[0] for span in spans.values())
        last = max(span[1] for span in spans.values())
        names = ", ".join(sorted(spans, key=str.casefold))
        hidden = "" if self.routine else " (heartbeats and pings are shown only with --all)"
        return f"the logs span {iso_utc(first)[:19]}Z → {iso_utc(last)[:19]}Z on {names}{hidden}"

    def keep(
        self, when: datetime, computer: str, code: int | None, level: str | None, user: str | None, tracking: str | None
    ) -> bool:
        if (self.since and when < self.since) or (self.until and when > self.until):
            return False
        if self.codes and (code is None or not any(lo <= code <= hi for lo, hi in self.codes)):
            return False
        if self.levels and level not in self.levels:
            return False
        if self.computers and computer.casefold() not in self.computers and _short(computer) not in self.computers:
            return False
        if self.users and (user is None or not any(u in user.casefold() for u in self.users)):
            return False
        return not (self.tracking_ids and (tracking or "").casefold() not in self.tracking_ids)


_LEVELS = {1: "error", 2: "error", 3: "warning", 4: "info", 0: "info", 5: "info"}


def event_rows(collector: Collector, filters: Filters, local: Collection[str] = ()) -> list[dict[str, Any]]:
    """The events that pass `filters`, in time order (`local`: inputs whose times are local wall clocks)."""
    rows = []
    for computer, item in collector.recognized():
        if not filters.routine and routine(item.entry.role, item.entry.name):
            continue
        level = _LEVELS.get(item.event.level or 0, "info")
        if not filters.keep(item.time, computer, item.event.event_id, level, item.fields.upn, item.fields.tracking_id):
            continue
        rows.append(
            {
                "time": iso_time(item.time, item.event.file in local),
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
    for computer, event in collector.unrecognized():
        level = _LEVELS.get(event.level or 0, "info")
        if filters.keep(event.time_created, computer, event.event_id, level, None, None):
            rows.append(
                {
                    "time": iso_time(event.time_created, event.file in local),
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
    """The text on one line, cut after about 120 characters where a word ends and outside quotes
    (never inside an address, so that `--redact`, which comes later, still sees it whole)."""
    text = " ".join(" ".join(data).split())
    if len(text) <= 120:
        return text
    end = max(text.rfind(c, 0, 121) for c in " ,;()[]<>|")
    head = text[: end if end > 0 else 120]
    if _AT.search(text, len(head)):  # Nor inside an address's comment (`john(a b)@(c d)…`): before it.
        for m in _COMMENTED.finditer(text):
            if m.start() >= len(head):
                break
            if len(head) < m.end():
                head = text[: m.start()]
    quotes = [i for i, c in enumerate(head) if c in _QUOTES]
    return head[: quotes[-1]] if len(quotes) % 2 else head


_QUOTES = frozenset('"＂')  # the full-width quote too: an address may be written in full-width forms
_AT = re.compile("[@＠]|%(?:25)*40")
_GROUP = r"[(（](?:[^()（）]|[(（][^()（）]*[)）])*[)）]"
_COMMENTED = re.compile(rf"(?<![^\s,;|<>])(?:[^\s,;|<>()（）]|{_GROUP})+(?:[@＠]|%(?:25)*40)(?:{_GROUP})*")


def operation_rows(
    servers: list[ServerDiagnosis], filters: Filters, local: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The operations that pass `filters`, by start (`local`: as in `event_rows`)."""
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
                    "start": iso_time(start, bool(op.evidence) and op.evidence[0].event.file in local),
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
