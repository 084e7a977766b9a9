"""Stitch one server's writeback events into operations, and find its connectivity outages.

An operation is a start (31001 reset, 31006 change, 31009 admin reset) and its
outcome (success 31002/31007/31010; failure 31003/31008/31011 or a 33xxx, with an
ADSync 6329 alongside), joined by TrackingId, else by user within a short window.
Which event plays which part comes from the catalogue (`role`, `operation`).
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from analyzer.analysis.textfields import extract
from analyzer.catalogue.model import SEVERITY_RANK

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.analysis.textfields import Fields
    from analyzer.catalogue.loader import Catalogue
    from analyzer.catalogue.model import Entry
    from analyzer.events import Event

OUTCOME_WINDOW = timedelta(minutes=10)  # an outcome comes at most this long after its start
SKEW = timedelta(seconds=5)  # events of one operation can be logged out of order by a second or two
COMPANION_WINDOW = timedelta(seconds=10)  # an ADSync 6329 sits this close to its failure
OUTAGE_GAP = timedelta(minutes=30)  # connectivity errors closer than this form one outage window


class Evidence:
    """One writeback event with what the catalogue and (read on first use) its text say about it."""

    __slots__ = ("_fields", "cause", "entry", "event", "found", "specific")

    def __init__(self, event: Event, entry: Entry, cause: str | None, specific: bool, found: str | None = None) -> None:
        self.event, self.entry, self.cause, self.specific = event, entry, cause, specific
        self.found = found  # what in the text picked the cause (None for a default cause)
        self._fields: Fields | None = None

    def preset(self, fields: Fields) -> None:
        self._fields = fields

    @property
    def fields(self) -> Fields:
        if self._fields is None:
            self._fields = extract("\n".join(self.event.data))
        return self._fields

    @property
    def time(self) -> datetime:
        return self.event.time_created

    @property
    def role(self) -> str:
        return self.entry.role


@dataclass
class Operation:
    kind: str
    user: str | None
    tracking_id: str | None
    start: datetime | None  # None: the start is older than the log
    end: datetime | None = None
    outcome: str = "unfinished"  # succeeded | failed | unfinished
    cause: str | None = None
    specific: bool = False
    evidence: list[Evidence] = field(default_factory=list)
    context: str | None = None  # what in the server's other operations refined the cause (see correlate)

    @property
    def first_seen(self) -> datetime:
        return min(e.time for e in self.evidence)

    def settle(self, catalogue: Catalogue) -> None:
        """A failed operation takes the most specific cause among its events; a cause that another
        one refines (e.g. denied access, refined by a SAM policy that denies it) gives way to it."""
        if self.outcome != "failed":
            return
        named = {e.cause for e in self.evidence if e.cause and e.role in ("failure", "companion")}
        refined = {other for cause in named for other in catalogue.causes[cause].refines}
        ranked = [
            (
                e.specific,
                SEVERITY_RANK.get(catalogue.causes[e.cause].severity, 0),
                -e.time.timestamp(),
                e.cause,
            )
            for e in self.evidence
            if e.cause and e.role in ("failure", "companion") and e.cause not in refined
        ]
        if ranked:
            specific, _, _, self.cause = max(ranked)
            self.specific = bool(specific)


def _by_user(ops: list[Operation], evidence: Evidence) -> Operation | None:
    user, at = evidence.fields.user, evidence.time
    if user is None:
        return None
    near = [
        op
        for op in ops
        if op.user == user
        and op.start is not None
        and op.start - SKEW <= at <= op.start + OUTCOME_WINDOW
        and (
            op.outcome == "unfinished"
            or (
                evidence.role == "failure"
                and op.outcome == "failed"
                and op.end is not None
                and abs(at - op.end) <= SKEW
            )
        )
    ]
    if evidence.entry.operation:
        near = [op for op in near if op.kind == evidence.entry.operation] or near
    return max(near, key=lambda op: (op.outcome == "unfinished", op.start)) if near else None


def stitch(evidence: list[Evidence], catalogue: Catalogue) -> list[Operation]:
    """Operations of one server, in order of their first event."""
    ordered = sorted(evidence, key=lambda e: (e.time, e.event.event_record_id or 0))
    ops: list[Operation] = []
    by_tracking: dict[str, Operation] = {}
    for item in ordered:
        if item.role == "start":
            op = Operation(item.entry.operation or "reset", item.fields.user, item.fields.tracking_id, item.time)
            op.evidence.append(item)
            ops.append(op)
            if op.tracking_id:
                by_tracking.setdefault(op.tracking_id, op)
    for item in ordered:
        if item.role not in ("success", "failure"):
            continue
        tracking = item.fields.tracking_id
        op = by_tracking.get(tracking) if tracking else None
        op = op or _by_user(ops, item)
        if op is None:  # its start is older than the log: still one operation of its kind
            op = Operation(item.entry.operation or "reset", item.fields.user, tracking, None)
            ops.append(op)
            if tracking:
                by_tracking[tracking] = op
        op.evidence.append(item)
        op.end = max(op.end, item.time) if op.end else item.time
        if item.role == "failure":
            op.outcome = "failed"
        elif op.outcome != "failed":
            op.outcome = "succeeded"
    # A companion joins the failed operation that ended nearest to it (the earlier one on a tie).
    failed = [op for op in ops if op.outcome == "failed" and op.end]
    by_end = sorted(range(len(failed)), key=lambda i: failed[i].end)  # type: ignore[arg-type, return-value]
    ends = [failed[i].end for i in by_end]
    for item in ordered:
        if item.role == "companion":
            lo = bisect.bisect_left(ends, item.time - COMPANION_WINDOW)  # type: ignore[arg-type]
            hi = bisect.bisect_right(ends, item.time + COMPANION_WINDOW)  # type: ignore[arg-type]
            if lo < hi:
                nearest = min(by_end[lo:hi], key=lambda i: (abs(item.time - failed[i].end), i))  # type: ignore[operator]
                failed[nearest].evidence.append(item)
    for op in ops:
        op.settle(catalogue)
    return sorted(ops, key=lambda op: op.first_seen)


@dataclass
class Outage:
    """A run of connectivity errors with one specific cause: no writeback while it lasts."""

    start: datetime
    end: datetime
    events: int = 0
    causes: Counter[str] = field(default_factory=Counter)
    recovered: datetime | None = None  # first heartbeat, service start or success after it
    specific_cause: str | None = None  # a change of specific cause starts a new window

    @property
    def cause(self) -> str | None:
        return self.causes.most_common(1)[0][0] if self.causes else None


def outages(evidence: list[Evidence], beats: Iterable[datetime] = ()) -> list[Outage]:
    """Connectivity errors grouped into windows; a healthy sign or a long quiet gap ends a window.
    `beats`: times of heartbeats kept apart from the evidence."""
    errors = sorted((e for e in evidence if e.role == "connectivity-error"), key=lambda e: e.time)
    healthy = sorted([*(e.time for e in evidence if e.role in ("heartbeat", "service-started", "success")), *beats])
    found: list[Outage] = []
    for item in errors:
        if (
            not found
            or item.time - found[-1].end > OUTAGE_GAP
            or _between(healthy, found[-1].end, item.time)
            or (item.specific and found[-1].specific_cause not in (None, item.cause))
        ):
            found.append(Outage(item.time, item.time))
        window = found[-1]
        window.end = item.time
        window.events += 1
        if item.cause:
            window.causes[item.cause] += 2 if item.specific else 1  # specific evidence outweighs defaults
            if item.specific:
                window.specific_cause = item.cause
    for window in found:
        i = bisect.bisect_right(healthy, window.end)
        window.recovered = healthy[i] if i < len(healthy) else None
    return found


def _between(times: list[datetime], start: datetime, end: datetime) -> bool:
    i = bisect.bisect_right(times, start)
    return i < len(times) and times[i] < end
