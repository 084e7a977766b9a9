"""The report as one JSON-ready document; every output format renders this same document.

Contract (`schema_version` 1; other keys may be added):
    {"schema_version", "tool": {"name", "version", "catalogue"},
     "inputs": [{"path", "kind", "sha256", "records", "unreadable", "error", "note",
                 "times": "utc"|"local", "timezone"}],
     "servers": [{"computer", "status", "first_event", "last_event",
                  "cloud": {"id", "title"} | null, "incomplete": why the counts are incomplete | null,
                  "operations": {kind: {"started", "succeeded", "failed", "unfinished", "success_rate"}},
                  "causes": [{"id", "title", "severity", "category", "scope", "event_ids", "events",
                              "operations", "users", "first_seen", "last_seen", "tracking_ids", "evidence",
                              "explanation", "fixes", "references", "checklist"}],
                  "health": {...}, "checklist": [...], "client_versions", "namespaces",
                  "operation_list": every operation (with `details`: JSON and HTML)}],
     "unknown_events": [{"provider", "event_id", "count"}]}
Times are ISO 8601 UTC with microseconds and `Z`; nothing depends on the engine or the clock.

`status` is `failing` when writeback is broken for everyone at the end of the log: the last
operation failed for a cause of scope `server`, or the last three or more operations all failed for
two or more users with no success in between, or the service is stopped or disconnected at the end;
`degraded` with failures or outages that leave it working at the end (one user still failing while
others succeed is degraded); `healthy`; `no-data` without writeback events. A cause's `scope` is
`server` (everyone's writeback: connectivity, TLS, keys, configuration, a policy on the server) or
`user` (one user's password, account or object). `fixes` name the endpoints of the server's `cloud`
(all clouds when its events name none) and its Service Bus namespace when its events name one.
`evidence` quotes what in the event texts named the cause (at most three, most frequent first).

An input whose `times` is "local" (an export's wall-clock times, no zone known) makes the times of
the servers read only from such inputs local too: they are written without `Z`, and renderers
show a banner naming those inputs (reports.rows.banner). `timezone`: the zone local times were
converted from (--input-tz).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from analyzer import __version__
from analyzer.diagnosis import KINDS
from analyzer.events import iso_utc

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from analyzer.catalogue.loader import Catalogue
    from analyzer.diagnosis import CauseSummary, ServerDiagnosis
    from analyzer.reader import FileReport

SCHEMA_VERSION = 1
STATUS_ORDER = {"failing": 0, "degraded": 1, "no-data": 2, "healthy": 3}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _unzoned(value: Any) -> Any:
    """Every time in `value` (a part of the document) written as local: without its `Z`."""
    if isinstance(value, str):
        return value[:-1] if _UTC_TIME.match(value) else value
    if isinstance(value, dict):
        return {key: _unzoned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unzoned(item) for item in value]
    return value


def _time(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment is not None else None


def localized(url: str, lang: str) -> str:
    """A Microsoft Learn link in the report's language (the zh-cn page for zh-CN)."""
    if lang == "zh-CN":
        return url.replace("https://learn.microsoft.com/en-us/", "https://learn.microsoft.com/zh-cn/", 1)
    return url


def _cause(
    summary: CauseSummary, catalogue: Catalogue, lang: str, cloud: str | None, namespace: str | None
) -> dict[str, Any]:
    cause = catalogue.causes[summary.id]
    return {
        "id": summary.id,
        "title": cause.title.get(lang),
        "severity": cause.severity,
        "category": cause.category,
        "scope": cause.scope,
        "event_ids": sorted(summary.event_ids),
        "events": summary.events,
        "operations": summary.operations,
        "users": len(summary.users),
        "first_seen": _time(summary.first_seen),
        "last_seen": _time(summary.last_seen),
        "tracking_ids": summary.tracking_ids,
        "evidence": [text for text, _ in sorted(summary.evidence.items(), key=lambda i: (-i[1], i[0]))[:3]],
        "explanation": cause.explanation.get(lang),
        "fixes": [catalogue.fill(f.get(lang), cloud, namespace, lang) for f in cause.fixes],
        "references": [localized(r, lang) for r in cause.references],
        "checklist": cause.checklist,
    }


def _health(server: ServerDiagnosis, catalogue: Catalogue, lang: str) -> dict[str, Any]:
    gap = server.longest_heartbeat_gap()
    beats = server.heartbeats
    return {
        "service_events": [
            {"time": _time(e.time), "provider": e.event.provider, "event_id": e.event.event_id, "name": e.entry.name}
            for e in server.of_role("service-started", "service-stopped")
        ],
        "heartbeats": len(beats),
        "last_heartbeat": _time(beats[-1]) if beats else None,
        "longest_heartbeat_gap": None
        if gap is None
        else {
            "start": _time(gap[0]),
            "end": _time(gap[1]),
            "minutes": round((gap[1] - gap[0]).total_seconds() / 60, 1),
        },
        "outages": [
            {
                "start": _time(w.start),
                "end": _time(w.end),
                "events": w.events,
                "cause": w.cause,
                "cause_title": catalogue.causes[w.cause].title.get(lang) if w.cause else None,
                "recovered": _time(w.recovered),
            }
            for w in server.outages
        ],
    }


def _operations(server: ServerDiagnosis) -> dict[str, dict[str, Any]]:
    result = {}
    for kind in KINDS:
        counts: dict[str, Any] = server.counts(kind)
        counts["success_rate"] = round(counts["succeeded"] / counts["started"], 3) if counts["started"] else None
        result[kind] = counts
    return result


def _server(
    server: ServerDiagnosis, catalogue: Catalogue, lang: str, details: bool, exports: set[str]
) -> dict[str, Any]:
    texts = [e for e in server.evidence if e.role not in ("info", "heartbeat", "start", "success")]
    pulses = server.pulses()
    hosts = {e.fields.servicebus_host for e in texts if e.fields.servicebus_host} | {p[2] for p in pulses if p[2]}
    in_cloud = sorted(h for h in hosts if catalogue.cloud_of(h) == server.cloud)
    namespace = in_cloud[0] if len(in_cloud) == 1 else None  # a fix names the host only when it is certain
    causes = [_cause(s, catalogue, lang, server.cloud, namespace) for s in server.causes]
    checklist: list[dict[str, Any]] = []
    for cause in causes:
        item = cause["checklist"]
        if item is None:
            continue
        found = next((c for c in checklist if c["item"] == item), None)
        if found is None:
            checklist.append({"item": item, "text": catalogue.checklist[item].get(lang), "causes": [cause["id"]]})
        else:
            found["causes"].append(cause["id"])
    versions = sorted({e.fields.client_version for e in texts if e.fields.client_version})
    successes = [op.end for op in server.operations if op.outcome == "succeeded" and op.end]
    beats = [pulse[0] for pulse in pulses]
    namespaces = sorted({host.split(".", 1)[0] for host in hosts})
    cloud = catalogue.clouds.get(server.cloud or "")
    found: dict[str, Any] = {
        "computer": server.computer,
        "status": server.status,
        "first_event": _time(server.first_event),
        "last_event": _time(server.last_event),
        "cloud": {"id": cloud.id, "title": cloud.title.get(lang)} if cloud else None,
        # A log always holds what it held; an export may have been filtered (e.g. to errors).
        "incomplete": server.incomplete if server.sources and set(server.sources) <= exports else None,
        "operations": _operations(server),
        "causes": causes,
        "health": _health(server, catalogue, lang),
        "checklist": checklist,
        "client_versions": versions,
        "namespaces": namespaces,
        "last_success": _time(max(successes)) if successes else None,
        "last_heartbeat": _time(beats[-1]) if beats else None,
        "logs": server.sources,
    }
    if details:  # one row per operation: for the HTML operations table and chart
        found["operation_list"] = [
            {
                "start": _time(op.start or op.first_seen),
                "end": _time(op.end),
                "kind": op.kind,
                "user": op.user,
                "outcome": op.outcome,
                "cause": op.cause,
                "tracking_id": op.tracking_id,
            }
            for op in server.operations
        ]
    return found


def _span(servers: list[ServerDiagnosis]) -> dict[str, str | None]:
    firsts = [s.first_event for s in servers if s.first_event]
    lasts = [s.last_event for s in servers if s.last_event]
    return {"first_event": _time(min(firsts)) if firsts else None, "last_event": _time(max(lasts)) if lasts else None}


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
) -> dict[str, Any]:
    ordered = sorted(servers, key=lambda s: (STATUS_ORDER[s.status], s.computer.casefold()))
    local = {r.path for r in inputs if r.times == "local"}
    read = [r for r in inputs if r.events]
    exports = {r.path for r in inputs if r.kind != "evtx"}
    documented = [_server(s, catalogue, lang, details, exports) for s in ordered]
    documented = [_unzoned(d) if d["logs"] and set(d["logs"]) <= local else d for d in documented]
    span = _span(servers)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "wba", "version": __version__, "catalogue": catalogue.version},
        "command": command,
        "span": _unzoned(span) if read and all(r.path in local for r in read) else span,
        "inputs": [
            {
                "path": r.path,
                "kind": r.kind,
                "sha256": hashes.get(r.path),
                "records": r.events,
                "unreadable": r.unreadable,
                "error": r.error or ("; ".join(r.problems) if r.problems else None),
                "note": "; ".join(r.notes) or None,
                "times": r.times,
                "timezone": r.timezone,
            }
            for r in inputs
        ],
        "duplicate_events": duplicates,
        "servers": documented,
        "unknown_events": [
            {"provider": provider, "event_id": event_id, "count": count}
            for (provider, event_id), count in sorted(unknown.items())
        ],
    }
