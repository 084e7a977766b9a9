"""Events -> what the diagnosis needs of them, per server, kept as inputs stream.

Each input (or piece of one) is read into a `Partial`: its coverage window per server and its
events of catalogue providers, classified in the worker that read them. A `Collector` merges the
partials in input order (counting a record exported twice once) and hands each server's writeback
events to `diagnosis.diagnose_server`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.analysis.dedupe import Key, Seen, dedupe_key, fingerprint, same
from analyzer.analysis.diagnosis import Beat, Hint, ServerDiagnosis, diagnose_server
from analyzer.analysis.operations import Evidence
from analyzer.analysis.textfields import extract
from analyzer.events import server_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime

    from analyzer.catalogue.loader import Catalogue
    from analyzer.events import Event


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
        # Spans read from exports in local time (zone unknown): a server's only when no input
        # gives it in UTC, since the two cannot be put on one clock.
        self.local_coverage: dict[str, list[datetime]] = {}
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

    def merge(self, partial: Partial, source: str | None, local: bool = False) -> list[str]:
        """Add one input's partial (`local`: its times are an export's local wall clock); returns
        notes on events that share a dedupe key with others but differ (both kept), for that input."""
        for computer, (first, last) in partial.coverage.items():
            span = (self.local_coverage if local else self.coverage).setdefault(computer, [first, last])
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

    def spans(self) -> dict[str, tuple[datetime, datetime]]:
        """Each server's first and last event (of every record read, not only writeback's)."""
        spans = {**self.local_coverage, **self.coverage}
        return {computer: (span[0], span[1]) for computer, span in spans.items()}

    def recognized(self) -> Iterator[tuple[str, Evidence]]:
        """(server, evidence) of every event the catalogue knows, but the heartbeats kept compact."""
        for computer, evidence in self.evidence.items():
            for item in evidence:
                yield computer, item

    def unrecognized(self) -> Iterator[tuple[str, Event]]:
        """(server, event) of every event of a reported provider whose code the catalogue lacks."""
        for computer, events in self.unknown_events.items():
            for event in events:
                yield computer, event

    def found_writeback(self) -> bool:
        """Whether any event of the catalogue's providers was seen."""
        return bool(self.evidence or self.beats or self.unknown_events)

    def diagnose(self, mapper: Callable[..., Iterable[ServerDiagnosis]] = map) -> list[ServerDiagnosis]:
        """One diagnosis per server, in name order; `mapper` runs `diagnose_server` over the servers
        (the builtin map here, or a Dask client's, to diagnose them on a cluster)."""
        spans = self.spans()
        computers = sorted(spans)
        return list(
            mapper(
                diagnose_server,
                [self.catalogue] * len(computers),
                computers,
                [self.evidence.get(c, []) for c in computers],
                [self.beats.get(c, []) for c in computers],
                [spans[c] for c in computers],
                [self.sources[c] for c in computers],
            )
        )
