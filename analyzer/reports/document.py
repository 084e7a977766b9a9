"""Diagnoses -> the report model (`reports/model.py`, which is also the JSON contract); every output
format renders the same model.

`status` is `failing` when writeback is broken for everyone at the end of the log: the last
operation failed for a cause of scope `server`, or the last three or more operations all failed for
two or more users with no success in between, or the service is stopped or disconnected at the end;
`degraded` with failures or outages that leave it working at the end (one user still failing while
others succeed is degraded); `healthy`; `no-data` without writeback events. A cause's `scope` is
`server` (everyone's writeback: connectivity, TLS, keys, configuration, a policy on the server) or
`user` (one user's password, account or object). `fixes` name the endpoints of the server's `cloud`
(all clouds when its events name none) and its Service Bus namespace when its events name one.
`evidence` quotes what in the event texts named the cause (at most three, most frequent first).
Nothing depends on the engine or the clock.

An input whose `times` is "local" (an export's wall-clock times, no zone known) makes the times of
the servers read only from such inputs local too: they are written without `Z`, and renderers
show a banner naming those inputs (reports.rows.banner). `timezone`: the zone local times were
converted from (--input-tz).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from analyzer import __version__
from analyzer.analysis.diagnosis import KINDS
from analyzer.catalogue.catalogue import localized
from analyzer.events import iso_utc
from analyzer.reports import model as m

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from analyzer.analysis.diagnosis import Beat, CauseSummary, ServerDiagnosis
    from analyzer.analysis.operations import Evidence
    from analyzer.catalogue.loader import Catalogue
    from analyzer.ingest.read import FileReport

    Stamp = Callable[[datetime | None], m.Time | None]

STATUS_ORDER = {status: i for i, status in enumerate(m.STATUSES)}


def _utc(moment: datetime | None) -> m.Time | None:
    return m.Time(iso_utc(moment)) if moment is not None else None


def _local(moment: datetime | None) -> m.Time | None:
    """A time read as local (an export's wall clock, zone unknown): written without its `Z`."""
    return m.Time(iso_utc(moment)[:-1]) if moment is not None else None


def _cause(
    summary: CauseSummary, catalogue: Catalogue, lang: str, cloud: str | None, namespace: str | None, stamp: Stamp
) -> m.Cause:
    cause = catalogue.causes[summary.id]
    return m.Cause(
        id=summary.id,
        title=cause.title.get(lang),
        severity=cause.severity,
        category=cause.category,
        scope=cause.scope,
        event_ids=sorted(summary.event_ids),
        events=summary.events,
        operations=summary.operations,
        users=len(summary.users),
        first_seen=stamp(summary.first_seen),
        last_seen=stamp(summary.last_seen),
        tracking_ids=summary.tracking_ids,
        evidence=[text for text, _ in sorted(summary.evidence.items(), key=lambda i: (-i[1], i[0]))[:3]],
        explanation=cause.explanation.get(lang),
        fixes=[catalogue.fill(f.get(lang), cloud, namespace, lang) for f in cause.fixes],
        references=[localized(r, lang) for r in cause.references],
        checklist=cause.checklist,
    )


def _health(server: ServerDiagnosis, beats: list[Beat], catalogue: Catalogue, lang: str, stamp: Stamp) -> m.Health:
    gap = server.longest_heartbeat_gap()
    return m.Health(
        service_events=[
            m.ServiceEvent(time=stamp(e.time), provider=e.event.provider, event_id=e.event.event_id, name=e.entry.name)
            for e in server.of_role("service-started", "service-stopped")
        ],
        heartbeats=len(beats),
        last_heartbeat=stamp(beats[-1][0]) if beats else None,
        longest_heartbeat_gap=None
        if gap is None
        else m.Gap(start=stamp(gap[0]), end=stamp(gap[1]), minutes=round((gap[1] - gap[0]).total_seconds() / 60, 1)),
        outages=[
            m.Outage(
                start=stamp(w.start),
                end=stamp(w.end),
                events=w.events,
                cause=w.cause,
                cause_title=catalogue.causes[w.cause].title.get(lang) if w.cause else None,
                recovered=stamp(w.recovered),
            )
            for w in server.outages
        ],
    )


def _operations(server: ServerDiagnosis) -> dict[str, m.Counts]:
    result = {}
    for kind in KINDS:
        counts = server.counts(kind)
        rate = round(counts["succeeded"] / counts["started"], 3) if counts["started"] else None
        result[kind] = m.Counts(**counts, success_rate=rate)
    return result


def _namespace_hosts(texts: list[Evidence], pulses: list[Beat], stamp: Stamp) -> list[m.NamespaceHost]:
    """Every Service Bus host the heartbeats and the other events name, with when it was first and
    last named and by how many events, in order of first seen (then by name)."""
    seen: dict[str, list[Any]] = {}  # Each host's first and last time, and its events.
    for moment, _, host in pulses:  # Heartbeats come in time order.
        if host:
            span = seen.get(host)
            if span is None:
                seen[host] = [moment, moment, 1]
            else:
                span[1] = moment
                span[2] += 1
    for item in texts:
        host = item.fields.servicebus_host
        if host:
            span = seen.setdefault(host, [item.time, item.time, 0])
            span[0], span[1], span[2] = min(span[0], item.time), max(span[1], item.time), span[2] + 1
    return [
        m.NamespaceHost(host=host, first_seen=stamp(first), last_seen=stamp(last), events=count)
        for host, (first, last, count) in sorted(seen.items(), key=lambda item: (item[1][0], item[0]))
    ]


def _checklist(causes: list[m.Cause], catalogue: Catalogue, lang: str) -> list[m.ChecklistItem]:
    """The prerequisites the causes point at, each once, with the causes that point at it."""
    found: dict[str, m.ChecklistItem] = {}
    for cause in causes:
        if cause.checklist is None:
            continue
        item = found.get(cause.checklist)
        if item is None:
            text = catalogue.checklist[cause.checklist].get(lang)
            found[cause.checklist] = m.ChecklistItem(item=cause.checklist, text=text, causes=[cause.id])
        else:
            item.causes.append(cause.id)
    return list(found.values())


def _server(
    server: ServerDiagnosis, catalogue: Catalogue, lang: str, details: bool, exports: set[str], stamp: Stamp
) -> m.Server:
    texts = [e for e in server.evidence if e.role not in ("info", "heartbeat", "start", "success")]
    pulses = server.pulses()
    hosts = _namespace_hosts(texts, pulses, stamp)
    in_cloud = [h.host for h in hosts if catalogue.cloud_of(h.host) == server.cloud]
    # A fix names the server's Service Bus host only when it is certain.
    namespace = min(in_cloud) if len(in_cloud) == 1 else None
    causes = [_cause(s, catalogue, lang, server.cloud, namespace, stamp) for s in server.causes]
    successes = [op.end for op in server.operations if op.outcome == "succeeded" and op.end]
    cloud = catalogue.clouds.get(server.cloud or "")
    return m.Server(
        computer=server.computer,
        status=server.status,
        first_event=stamp(server.first_event),
        last_event=stamp(server.last_event),
        cloud=m.Cloud(id=cloud.id, title=cloud.title.get(lang)) if cloud else None,
        # A log always holds what it held; an export may have been filtered (e.g. to errors).
        incomplete=server.incomplete if server.sources and set(server.sources) <= exports else None,
        operations=_operations(server),
        causes=causes,
        health=_health(server, pulses, catalogue, lang, stamp),
        checklist=_checklist(causes, catalogue, lang),
        client_versions=sorted({e.fields.client_version for e in texts if e.fields.client_version}),
        namespaces=sorted({h.host.split(".", 1)[0] for h in hosts}),
        namespace_hosts=hosts,
        last_success=stamp(max(successes)) if successes else None,
        last_heartbeat=stamp(pulses[-1][0]) if pulses else None,
        logs=server.sources,
        # One row per operation: for the JSON and for the HTML operations table and chart.
        operation_list=[
            m.Operation(
                start=stamp(op.start or op.first_seen),
                end=stamp(op.end),
                kind=op.kind,
                user=op.user,
                outcome=op.outcome,
                cause=op.cause,
                tracking_id=op.tracking_id,
            )
            for op in server.operations
        ]
        if details
        else None,
    )


def build(
    inputs: list[FileReport],
    hashes: dict[str, str],
    servers: list[ServerDiagnosis],
    unknown: dict[tuple[str, int], int],
    catalogue: Catalogue,
    lang: str = "en",
    command: str | None = None,
    duplicates: int = 0,
    details: bool = False,
) -> m.Report:
    """The report of diagnosed servers, worst first; `details`: with every operation."""
    ordered = sorted(servers, key=lambda s: (STATUS_ORDER[s.status], s.computer.casefold()))
    local = {r.path for r in inputs if r.times == "local"}
    read = [r for r in inputs if r.events]
    exports = {r.path for r in inputs if r.kind != "evtx"}
    firsts = [s.first_event for s in servers if s.first_event]
    lasts = [s.last_event for s in servers if s.last_event]
    stamp = _local if read and all(r.path in local for r in read) else _utc
    return m.Report(
        schema_version=m.SCHEMA_VERSION,
        tool=m.Tool(name="wba", version=__version__, catalogue=catalogue.version),
        command=command,
        span=m.Span(
            first_event=stamp(min(firsts)) if firsts else None, last_event=stamp(max(lasts)) if lasts else None
        ),
        inputs=[
            m.Input(
                path=r.path,
                kind=r.kind,
                sha256=hashes.get(r.path),
                records=r.events,
                unreadable=r.unreadable,
                error=r.error or ("; ".join(r.problems) if r.problems else None),
                note="; ".join(r.notes) or None,
                times=r.times,
                timezone=r.timezone,
            )
            for r in inputs
        ],
        duplicate_events=duplicates,
        servers=[
            _server(s, catalogue, lang, details, exports, _local if s.sources and set(s.sources) <= local else _utc)
            for s in ordered
        ],
        unknown_events=[
            m.UnknownEvent(provider=provider, event_id=event_id, count=count)
            for (provider, event_id), count in sorted(unknown.items())
        ],
    )


def triage(report: m.Report) -> m.Triage:
    """The triage of a report: the report, and the fleet's causes ranked by servers affected, then
    operations, then events."""
    fleet: dict[str, m.FleetCause] = {}
    for server in report.servers:
        for cause in server.causes:
            item = fleet.get(cause.id)
            if item is None:
                item = fleet[cause.id] = m.FleetCause(
                    id=cause.id, title=cause.title, severity=cause.severity, servers=0, operations=0, events=0
                )
            item.servers += 1
            item.operations += cause.operations
            item.events += cause.events
    causes = sorted(fleet.values(), key=lambda c: (-c.servers, -c.operations, -c.events, c.id))
    fields = {spec.name: getattr(report, spec.name) for spec in dataclasses.fields(report)}
    return m.Triage(**fields, fleet=m.Fleet(causes=causes))
