"""Events + catalogue -> one diagnosis per server: operations, ranked root causes, health, status.

`Collector` takes events one at a time (so inputs stream) and keeps only what the
diagnosis needs: each server's coverage window and its writeback events.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING

from analyzer.analysis import correlate
from analyzer.analysis.dedupe import Key, Seen, dedupe_key, fingerprint, same
from analyzer.analysis.operations import OUTAGE_GAP, Evidence, Operation, Outage, outages, stitch
from analyzer.analysis.textfields import extract

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from analyzer.analysis.textfields import Fields
    from analyzer.catalogue.loader import Catalogue
    from analyzer.events import Event

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


def server_of(event: Event) -> str:
    """The server is the event's Computer; exports without one are kept apart per input."""
    if event.computer:
        return event.computer
    outer, _, member = event.file.partition("!")
    return f"(unknown computer: {PurePath(outer).name}{'!' + member if member else ''})"


@dataclass
class Partial:
    """What one input contributes: its coverage per server and its events from catalogue providers."""

    coverage: dict[str, list[datetime]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    seen: dict[Key, Event] = field(default_factory=dict)  # the first event of each key (see `observe`)
    duplicates: int = 0
    hints: list[Hint] = field(default_factory=list)  # see `classify`
    beats: list[tuple[Key | None, bytes, str, Beat]] = field(default_factory=list)

    def classify(self, catalogue: Catalogue, compact: bool = False) -> None:
        """Work the main process would do per event, done here in the worker (in parallel): each
        event's cause, and the text fields operations are joined by.

        With `compact`, plain Service Bus heartbeats (most writeback events of a healthy server:
        one a minute) leave `events` for `beats`: (dedupe key, fingerprint, server, (time,
        EventRecordID, Service Bus host)), all a report reads of them, and far cheaper to send and merge."""
        self.hints = []
        events: list[Event] = []
        for event in self.events:
            entry, cause, specific, found = catalogue.classify(event)
            fields = extract("\n".join(event.data))
            if (
                compact
                and entry is not None
                and entry.role == "heartbeat"
                and cause is None
                and event.provider == "PasswordResetService"
            ):
                beat = (event.time_created, event.event_record_id or 0, fields.servicebus_host)
                key = dedupe_key(event)
                self.beats.append((key, fingerprint(event) if key else b"", server_of(event), beat))
                continue
            _ = fields.tracking_id, fields.user  # computed now, shipped with the result
            if entry is not None and entry.role not in ("info", "start", "success", "heartbeat"):
                _ = fields.client_version, fields.cloud_host  # what the report reads of these
            self.hints.append((cause, specific, fields, found))
            events.append(event)
        self.events = events

    def observe(self, event: Event, providers: dict[str, str]) -> None:
        self.extend(server_of(event), event.time_created, event.time_created)
        if event.provider in providers:
            key = dedupe_key(event)
            if key is not None:
                first = self.seen.get(key)
                if first is None:
                    self.seen[key] = event
                elif same(first, event):  # counted once here already
                    self.duplicates += 1
                    return
            self.events.append(event)  # a key seen with other content goes on: `Seen` notes it

    def absorb(self, other: Partial) -> None:
        """Add what the next piece of the same input contributes."""
        for computer, (first, last) in other.coverage.items():
            self.extend(computer, first, last)
        self.events += other.events
        self.hints += other.hints
        self.beats += other.beats
        self.duplicates += other.duplicates

    def extend(self, computer: str, first: datetime, last: datetime) -> None:
        span = self.coverage.get(computer)
        if span is None:
            self.coverage[computer] = [first, last]
        else:
            span[0], span[1] = min(span[0], first), max(span[1], last)


class Collector:
    """Merge inputs (as `Partial`s, in input order), then `diagnose()`."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.coverage: dict[str, list[datetime]] = {}
        self.sources: dict[str, list[str]] = defaultdict(list)  # server -> inputs with its events
        self.evidence: dict[str, list[Evidence]] = defaultdict(list)
        self.unknown: Counter[tuple[str, int]] = Counter()
        self.unknown_events: dict[str, list[Event]] = defaultdict(list)
        self.duplicates = 0
        self.seen = Seen()
        self.beats: dict[str, list[Beat]] = defaultdict(list)

    def add(self, event: Event) -> None:
        """One event on its own (tests, small inputs)."""
        partial = Partial()
        partial.observe(event, self.catalogue.providers)
        self.merge(partial, None)

    def merge(self, partial: Partial, source: str | None) -> list[str]:
        """Add one input's partial; returns notes on events that share a dedupe key with others
        but differ (both kept), for that input."""
        for computer, (first, last) in partial.coverage.items():
            span = self.coverage.setdefault(computer, [first, last])
            span[0], span[1] = min(span[0], first), max(span[1], last)
            if source is not None and source not in self.sources[computer]:
                self.sources[computer].append(source)
        self.duplicates += partial.duplicates
        hints = partial.hints if len(partial.hints) == len(partial.events) else [None] * len(partial.events)
        for event, hint in zip(partial.events, hints, strict=True):
            self._classify(event, hint)
        taken, again, origin = self.seen.taken, self.seen.again, source or ""
        for key, digest, computer, beat in partial.beats:
            if key is not None:
                stamp = (beat[0], digest, origin)
                first = taken.setdefault(key, stamp)  # a new tuple: `first is stamp` when the key is new
                if first is not stamp and not again(key, first, stamp):  # the same log exported twice
                    self.duplicates += 1
                    continue
            self.beats[computer].append(beat)
        return self.seen.notes(source) if source is not None and self.seen.collisions else []

    def _classify(self, event: Event, hint: Hint | None = None) -> None:
        computer = server_of(event)
        key = dedupe_key(event)
        if key is not None and not self.seen.take(key, event):  # the same log exported twice: counted once
            self.duplicates += 1
            return
        policy = self.catalogue.providers.get(event.provider)
        if hint is None:
            entry, cause, specific, found = self.catalogue.classify(event)
        else:
            entry, (cause, specific, fields, found) = self.catalogue.entry_for(event.provider, event.event_id), hint
        if entry is None:
            if policy == "report":
                self.unknown[(event.provider, event.event_id)] += 1
                self.unknown_events[computer].append(event)
            return
        evidence = Evidence(event, entry, cause, specific, found)
        if hint is not None:
            evidence.preset(fields)
        self.evidence[computer].append(evidence)

    def diagnose(self, mapper: Callable[..., Iterable[ServerDiagnosis]] = map) -> list[ServerDiagnosis]:
        """One diagnosis per server, in name order; `mapper` runs `diagnose_server` over the servers
        (the builtin map here, or a Dask client's, to diagnose them on a cluster)."""
        computers = sorted(self.coverage)
        return list(
            mapper(
                diagnose_server,
                [self.catalogue] * len(computers),
                computers,
                [self.evidence.get(c, []) for c in computers],
                [self.beats.get(c, []) for c in computers],
                [tuple(self.coverage[c]) for c in computers],
                [self.sources[c] for c in computers],
            )
        )


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
    """The cloud the server's events name most often (Service Bus hosts, password reset endpoints)."""
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
