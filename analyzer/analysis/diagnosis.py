"""One server's writeback events -> its diagnosis: operations, outages, ranked root causes, status.

The events come collected per server (`analysis/collect.py`); `diagnose_server` runs once per server.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from analyzer.analysis import correlate
from analyzer.analysis.operations import OUTAGE_GAP, Evidence, Operation, Outage, outages, stitch

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.analysis.textfields import Fields
    from analyzer.catalogue.loader import Catalogue

KINDS = ("reset", "change", "admin_reset")
Beat = tuple["datetime", int, "str | None"]  # a heartbeat: time, EventRecordID, Service Bus host
WRITEBACK_ROLES = ("companion", "connectivity-error")
EVERYONE = 3  # this many failed operations in a row, of two or more users, mean writeback is down
Hint = tuple["str | None", bool, "Fields", "str | None"]  # cause, specific, text fields, evidence


@dataclass
class CauseSummary:
    id: str
    events: int = 0
    operations: int = 0
    users: set[str] = field(default_factory=set)
    event_ids: set[int] = field(default_factory=set)
    tracking_ids: list[str] = field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    evidence: Counter[str] = field(default_factory=Counter)  # what in the texts named this cause

    def saw(self, moment: datetime, event_id: int | None = None) -> None:
        self.first_seen = moment if self.first_seen is None else min(self.first_seen, moment)
        self.last_seen = moment if self.last_seen is None else max(self.last_seen, moment)
        if event_id is not None:
            self.event_ids.add(event_id)


@dataclass
class ServerDiagnosis:
    computer: str
    first_event: datetime | None
    last_event: datetime | None
    evidence: list[Evidence]
    operations: list[Operation]
    outages: list[Outage]
    causes: list[CauseSummary]
    status: str
    sources: list[str] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)  # heartbeats kept compact (see `Partial.classify`)
    cloud: str | None = None  # the Azure cloud its events name (codes/clouds.yaml), None if none does
    incomplete: str | None = None  # why its operation counts cannot be trusted (a filtered export)

    def counts(self, kind: str) -> dict[str, int]:
        ops = [op for op in self.operations if op.kind == kind]
        outcome = Counter(op.outcome for op in ops)
        return {
            "started": len(ops),
            "succeeded": outcome["succeeded"],
            "failed": outcome["failed"],
            "unfinished": outcome["unfinished"],
        }

    def of_role(self, *roles: str) -> list[Evidence]:
        return [e for e in self.evidence if e.role in roles]

    def pulses(self) -> list[Beat]:
        """Every heartbeat as (time, EventRecordID, Service Bus host), in time order."""
        full = [(e.time, e.event.event_record_id or 0, e.fields.servicebus_host) for e in self.of_role("heartbeat")]
        return sorted(self.beats + full, key=lambda b: (b[0], b[1])) if full and self.beats else full or self.beats

    @property
    def heartbeats(self) -> list[datetime]:
        return [beat[0] for beat in self.pulses()]

    def longest_heartbeat_gap(self) -> tuple[datetime, datetime] | None:
        beats = self.heartbeats
        gaps = [(b - a, a, b) for a, b in itertools.pairwise(beats)]
        if not gaps:
            return None
        _, start, end = max(gaps)
        return start, end


def diagnose_server(
    catalogue: Catalogue,
    computer: str,
    evidence: list[Evidence],
    beats: list[Beat],
    span: tuple[datetime, datetime],
    sources: list[str],
) -> ServerDiagnosis:
    """One server's operations, outages, ranked causes and status from its writeback events."""
    evidence = _corroborated(sorted(evidence, key=lambda e: (e.time, e.event.event_record_id or 0)))
    correlate.clusters(evidence, catalogue)
    beats = sorted(beats, key=lambda b: (b[0], b[1]))
    ops = stitch(evidence, catalogue)
    correlate.situations(ops, catalogue)
    windows = outages(evidence, [b[0] for b in beats])
    # An unfinished operation that started during an outage is attributed to the outage's cause.
    spans = []
    for i, window in enumerate(windows):
        bounds = [t for t in (window.recovered, windows[i + 1].start if i + 1 < len(windows) else None) if t]
        spans.append((window.start, min(bounds) if bounds else window.end + OUTAGE_GAP, window.cause))
    for op in ops:
        if op.outcome == "unfinished" and op.start is not None:
            op.cause = next((cause for start, until, cause in spans if start <= op.start < until), None)
    first, last = span
    times = [b[0] for b in beats] + [e.time for e in evidence if e.role == "heartbeat"]
    causes = _rank(evidence, ops, catalogue, correlate.findings(evidence, ops, times, span))
    correlate.dates(causes, evidence)
    status = _status(evidence, ops, windows, catalogue, bool(beats))
    cloud = _cloud(evidence, beats, catalogue)
    incomplete = correlate.incomplete(evidence, times)
    return ServerDiagnosis(
        computer, first, last, evidence, ops, windows, causes, status, list(sources), beats, cloud, incomplete
    )


def _corroborated(evidence: list[Evidence]) -> list[Evidence]:
    """Evidence without events that count only near others (`corroborated_by`), when none is near:
    a lone ADSync 6306 is sync noise, within minutes of 6800, 32001 or 31044 it is writeback's."""
    doubtful = [e for e in evidence if e.entry.corroborated_by]
    if not doubtful:
        return evidence
    times: dict[str, list[datetime]] = defaultdict(list)
    for item in evidence:
        times[f"{item.event.provider}/{item.event.event_id}"].append(item.time)  # already in time order
    kept = set()
    for item in doubtful:
        window = timedelta(minutes=item.entry.corroboration_minutes)
        for code in item.entry.corroborated_by:
            near = times.get(code, [])
            i = bisect.bisect_left(near, item.time - window)
            if i < len(near) and near[i] <= item.time + window:
                kept.add(id(item))
                break
    return [e for e in evidence if not e.entry.corroborated_by or id(e) in kept]


def _cloud(evidence: list[Evidence], beats: list[Beat], catalogue: Catalogue) -> str | None:
    """The cloud the server's events name most often (Service Bus hosts, password reset endpoints).

    A Connect server syncs one tenant, and a tenant lives in one cloud, so one server's events name one
    cloud. Two mean two installations under one computer name (a server rebuilt for, or moved to,
    another tenant) or logs of two servers merged: the majority is what most of the log is about, and
    the reports say that the hosts are of more than one cloud (`rows.cloud_note`)."""
    hosts = Counter(b[2] for b in beats if b[2])
    hosts.update(e.fields.cloud_host for e in evidence if e.role not in ("start", "success") and e.fields.cloud_host)
    clouds: Counter[str] = Counter()
    for host, count in hosts.items():
        cloud = catalogue.cloud_of(host)
        if cloud:
            clouds[cloud] += count
    return max(sorted(clouds), key=lambda c: clouds[c]) if clouds else None


def _rank(
    evidence: list[Evidence], ops: list[Operation], catalogue: Catalogue, findings: Iterable[correlate.Finding] = ()
) -> list[CauseSummary]:
    """Root causes by impact: failed operations, then distinct users, then events; then findings."""
    summaries: dict[str, CauseSummary] = {}

    def summary(cause: str) -> CauseSummary:
        return summaries.setdefault(cause, CauseSummary(cause))

    owner: dict[int, Operation] = {}
    for op in ops:
        if op.outcome == "succeeded" or op.cause is None:
            continue
        for item in op.evidence:
            owner[id(item)] = op
        found = summary(op.cause)
        found.operations += 1
        if op.user:
            found.users.add(op.user)
        found.saw(op.start or op.first_seen)
        if op.tracking_id and len(found.tracking_ids) < 3:
            found.tracking_ids.append(op.tracking_id)
        if op.context:
            found.evidence[op.context] += 1
    for item in evidence:
        op = owner.get(id(item))
        cause = op.cause if op is not None and item.role in ("failure", "companion") else item.cause
        if cause is None or (op is None and item.role == "start"):
            continue
        found = summary(cause)
        found.events += 1
        found.saw(item.time, item.event.event_id)
        if item.found and item.cause == cause:
            found.evidence[item.found] += 1
        if (
            item.fields.tracking_id
            and len(found.tracking_ids) < 3
            and item.fields.tracking_id not in found.tracking_ids
        ):
            found.tracking_ids.append(item.fields.tracking_id)
    ranked = sorted(summaries.values(), key=lambda s: (-s.operations, -len(s.users), -s.events, s.id))
    for cause, note, first, last in findings:
        found = summaries.get(cause) or CauseSummary(cause)
        found.saw(first)
        found.saw(last)
        found.evidence[note] += 1
        if cause not in summaries:
            summaries[cause] = found
            ranked.append(found)
    return [s for s in ranked if s.id in catalogue.causes]


def _status(
    evidence: list[Evidence], ops: list[Operation], windows: list[Outage], catalogue: Catalogue, beats: bool
) -> str:
    """failing: writeback is broken for everyone at the end of the log (the last operation failed for a
    server-scope cause; or the last EVERYONE or more operations all failed, for two or more users;
    or the service is stopped or disconnected at the end). degraded: failures or outages, but it
    works at the end (one user failing at the end while others succeed is degraded). healthy.
    no-data: no writeback events at all."""
    if not beats and not any(e.event.provider == "PasswordResetService" or e.role in WRITEBACK_ROLES for e in evidence):
        return "no-data"
    done = sorted((op for op in ops if op.outcome != "unfinished" and op.end is not None), key=lambda op: op.end)  # type: ignore[arg-type, return-value]
    trailing = list(itertools.takewhile(lambda op: op.outcome == "failed", reversed(done)))
    last = trailing[0] if trailing else None
    server_wide = last is not None and last.cause is not None and catalogue.causes[last.cause].scope == "server"
    everyone = len(trailing) >= EVERYONE and len({op.user for op in trailing if op.user}) >= 2
    service = [e for e in evidence if e.role in ("service-started", "service-stopped")]
    stopped = bool(service) and service[-1].role == "service-stopped"
    disconnected = bool(windows) and windows[-1].recovered is None
    if server_wide or everyone or stopped or disconnected:
        return "failing"
    if windows or any(op.outcome != "succeeded" for op in ops):
        return "degraded"
    return "healthy"
