"""What every format shows alike: summary, triage, operation and change rows, provenance, the banner
about inputs, times to the second and counted nouns. Renderers add only their own markup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analyzer.reports.i18n import counted, noted, said, server_label, t

if TYPE_CHECKING:
    from collections.abc import Callable

    from analyzer.reports.model import Cause, Counts, Diff, Explained, Report, Server, Triage

KIND_NAMES = {"reset": "self-service reset", "change": "password change", "admin_reset": "admin reset"}
SUMMARY_HEADERS = [
    "server",
    "status",
    "first event",
    "last event",
    "operations",
    "succeeded",
    "failed",
    "unfinished",
    "top cause",
]
# A narrow terminal drops these columns first (see columns.fit); the server and its status stay.
# `failed` and `unfinished` go last, together: either alone would hide the other's failures.
SUMMARY_DROP = ["first event", "succeeded", "last event", "operations", "unfinished", "failed"]
OPERATION_HEADERS = ["kind", "started", "succeeded", "failed", "unfinished", "success rate"]
INPUT_HEADERS = ["path", "kind", "sha256", "records", "unreadable", "problem"]
OUTAGE_HEADERS = ["outage start", "last error", "errors", "cause", "recovered"]
UNKNOWN_HEADERS = ["provider", "event id", "count"]
TRIAGE_KEYS = [
    "server",
    "status",
    "first_event",
    "last_event",
    "started",
    "succeeded",
    "failed",
    "unfinished",
    "success_rate",
    "top_cause",
    "last_success",
    "last_heartbeat",
    "logs",
]
# A narrow terminal drops these triage columns first; server, status, failures and the top cause stay.
# `unfinished` goes only after the success rate: a rate beside `failed 0` would hide unfinished operations.
TRIAGE_DROP = [
    "first_event",
    "logs",
    "last_heartbeat",
    "succeeded",
    "last_event",
    "started",
    "last_success",
    "success_rate",
    "unfinished",
    "failed",
]
TRIAGE_TIMES = ("first_event", "last_event", "last_success", "last_heartbeat")
FLEET_KEYS = ["cause", "title", "servers", "operations", "events"]
PROBLEM_KEYS = ["input", "records", "unreadable", "problem"]
CHANGE_KEYS = [
    "server",
    "status_before",
    "status_after",
    "failure_rate_before",
    "failure_rate_after",
    "failure_rate_change",
    "resolved",
    "new",
    "persisting",
]
# A narrow terminal drops these columns of `wba diff` first, then shortens those of CHANGE_SHRINK.
CHANGE_DROP = [
    "failure_rate_before",
    "failure_rate_after",
    "status_before",
    "persisting",
    "resolved",
    "failure_rate_change",
]
CHANGE_SHRINK = {"server": 16, "resolved": 12, "new": 12, "persisting": 12}


def short(moment: str | None) -> str | None:
    """An ISO time to the second, for tables: `2026-11-18T00:00:08.385311Z` -> `2026-11-18T00:00:08Z`
    (a local time, without `Z`, stays without it)."""
    if not moment or len(moment) < 19 or moment[10] != "T":
        return moment
    return moment[:19] + ("Z" if moment.endswith("Z") else "")


def rate(counts: Counts) -> str:
    value = counts.success_rate
    return "-" if value is None else f"{value:.0%}"


def operation_counts(server: Server, lang: str) -> list[list[Any]]:
    """One row per operation kind: the table every format shows."""
    return [
        [t(KIND_NAMES[k], lang), c.started, c.succeeded, c.failed, c.unfinished, rate(c)]
        for k, c in server.operations.items()
    ]


def summary_rows(doc: Report, lang: str = "en") -> list[list[Any]]:
    rows = []
    for server in doc.servers:
        ops = server.operations.values()
        rows.append(
            [
                server_label(server.computer, lang),
                t(server.status, lang),
                short(server.first_event),
                short(server.last_event),
                sum(c.started for c in ops),
                sum(c.succeeded for c in ops),
                sum(c.failed for c in ops),
                sum(c.unfinished for c in ops),
                server.causes[0].id if server.causes else None,
            ]
        )
    return rows


def triage_rows(doc: Report) -> list[dict[str, Any]]:
    """One row per server, as `wba triage` shows them (times whole: `triage_table` shortens them)."""
    out = []
    for server in doc.servers:
        ops = server.operations.values()
        started = sum(c.started for c in ops)
        succeeded = sum(c.succeeded for c in ops)
        out.append(
            {
                "server": server.computer,
                "status": server.status,
                "first_event": server.first_event,
                "last_event": server.last_event,
                "started": started,
                "succeeded": succeeded,
                "failed": sum(c.failed for c in ops),
                "unfinished": sum(c.unfinished for c in ops),
                "success_rate": f"{succeeded / started:.0%}" if started else "-",
                "top_cause": server.causes[0].id if server.causes else "-",
                "last_success": server.last_success or "-",
                "last_heartbeat": server.last_heartbeat or "-",
                "logs": len(server.logs),
            }
        )
    return out


def triage_table(doc: Report, lang: str) -> list[list[Any]]:
    """The triage rows as tables show them: times to the second, status words in the report's language."""
    out = []
    for row in triage_rows(doc):
        shown = {k: short(v) if k in TRIAGE_TIMES else v for k, v in row.items()}
        shown["status"] = t(row["status"], lang)
        out.append(list(shown.values()))
    return out


def fleet_rows(doc: Triage) -> list[list[Any]]:
    return [[c.id, c.title, c.servers, c.operations, c.events] for c in doc.fleet.causes]


def problem_rows(doc: Report, lang: str = "en") -> list[list[Any]]:
    """The inputs not read whole, or whose times are local."""
    found = [i for i in doc.inputs if i.error or i.unreadable or i.times == "local"]
    return [[i.path, i.records, i.unreadable, i.error or noted(i.note, lang)] for i in found]


def outage_rows(server: Server, lang: str) -> list[list[Any]]:
    return [
        [
            short(o.start),
            short(o.end),
            o.events,
            o.cause,
            short(o.recovered) or t("not by the end of the log", lang),
        ]
        for o in server.health.outages
    ]


def input_rows(doc: Report, lang: str = "en") -> list[list[Any]]:
    return [[i.path, i.kind, i.sha256, i.records, i.unreadable, i.error or noted(i.note, lang)] for i in doc.inputs]


def unknown_rows(doc: Report) -> list[list[Any]]:
    return [[u.provider, u.event_id, u.count] for u in doc.unknown_events]


def _change(key: str, value: Any) -> Any:
    if value is None:
        if key == "status_before":
            return "not in BEFORE"
        return "not in AFTER" if key == "status_after" else "-"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float):
        return f"{value:+.0%}" if key == "failure_rate_change" else f"{value:.0%}"
    return value


def change_rows(doc: Diff) -> list[list[Any]]:
    """One row per server of `wba diff`: its status and failure rate before and after, its causes."""
    return [[_change(k, getattr(s, k)) for k in CHANGE_KEYS] for s in doc.servers]


def provenance(doc: Report, lang: str, quote: Callable[[Any], str] = str) -> str:
    """Tool, catalogue, inputs, span and the command (through `quote`: the command holds paths)."""
    tool, span = doc.tool, doc.span
    return (
        f"{tool.name} {tool.version}, {t('catalogue', lang)} {tool.catalogue}; "
        f"{counted(len(doc.inputs), 'input', lang)}; {t('time span', lang)} {short(span.first_event) or '-'} → "
        f"{short(span.last_event) or '-'}; {t('command', lang)}: {quote(doc.command)}"
    )


LOCAL_TIMES = (
    "times are the exporting machine's local time, time zone unknown: shown without Z, not UTC "
    "(give --input-tz to convert)"
)


def banner(doc: Report, lang: str) -> list[str]:
    """One line per input that was not read completely or whose times are local: what a reader of
    the report must know before trusting it. Empty when every input was read whole, in UTC."""
    lines = []
    for item in doc.inputs:
        total = item.records + item.unreadable
        if item.error and not total:
            lines.append(f"{item.path}: {t('not read', lang)}: {item.error}")
        elif item.unreadable:
            lines.append(f"{item.path}: {item.unreadable} / {counted(total, 'record', lang)} {t('unreadable', lang)}")
        elif item.error:
            lines.append(f"{item.path}: {item.error}")
        if item.times == "local":
            lines.append(f"{item.path}: {t(LOCAL_TIMES, lang)}")
        elif item.timezone:
            lines.append(f"{item.path}: {t('local times converted to UTC from', lang)} {item.timezone}")
    for server in doc.servers:
        if server.incomplete:
            lines.append(
                f"{server_label(server.computer, lang)}: {t('Operation counts incomplete', lang)}: "
                f"{said(server.incomplete, lang)}"
            )
    return lines


def service_line(server: Server, lang: str) -> str:
    events = server.health.service_events
    return ", ".join(f"{e.name} {short(e.time)}" for e in events) or t("none in the log", lang)


def heartbeat_line(server: Server, lang: str) -> str:
    health = server.health
    gap = health.longest_heartbeat_gap
    line = f"{health.heartbeats}, {t('last', lang)} {short(health.last_heartbeat) or '-'}"
    if gap:
        line += f", {t('longest gap', lang)} {gap.minutes} {t('min', lang)} ({short(gap.start)} → {short(gap.end)})"
    return line


def servicebus_domains(server: Server) -> list[str]:
    """The Service Bus domains (`servicebus.windows.net`, ...) of the hosts the server's events name."""
    return sorted({host.host.split(".", 1)[1] for host in server.namespace_hosts if "." in host.host})


def cloud_note(server: Server, lang: str) -> str | None:
    """A note when the server's events name the Service Bus of more than one cloud: a Connect server
    writes back for one tenant, in one cloud, so the log holds two installations under one name (or
    a server moved to another tenant), and the report's cloud is only the one named most."""
    domains = servicebus_domains(server)
    if len(domains) < 2:
        return None
    return f"{t('Service Bus hosts of more than one cloud', lang)} ({', '.join(domains)}): {t(MIXED_CLOUDS, lang)}"


MIXED_CLOUDS = "a server writes back to one cloud; two installations under one name?"


def namespace_line(server: Server) -> str:
    """The Service Bus namespaces; when there are several (one that changed mid-log), each with when
    its events first and last named it (each host, when they are of more than one cloud)."""
    mixed = len(servicebus_domains(server)) > 1
    if (len(server.namespaces) < 2 and not mixed) or not server.namespace_hosts:  # A report saved before hosts.
        return ", ".join(server.namespaces) or "-"
    spans: dict[str, list[str]] = {}
    for host in server.namespace_hosts:  # One server's times are all UTC or all local: they sort as text.
        name = host.host if mixed else host.host.split(".", 1)[0]
        span = spans.setdefault(name, [host.first_seen, host.last_seen])
        span[0], span[1] = min(span[0], host.first_seen), max(span[1], host.last_seen)
    return ", ".join(f"{name} ({short(first)} → {short(last)})" for name, (first, last) in sorted(spans.items()))


def cause_figures(cause: Cause, lang: str) -> str:
    """The figures of one cause: operations, users, events (codes)."""
    codes = ", ".join(str(i) for i in cause.event_ids)
    return (
        f"{counted(cause.operations, 'failed or unfinished operation', lang)}, "
        f"{counted(cause.users, 'user', lang)}, {counted(cause.events, 'event', lang)} ({codes})"
    )


def cause_line(cause: Cause, lang: str) -> str:
    """The figures of one cause, then when it was first and last seen."""
    return f"{cause_figures(cause, lang)}; {short(cause.first_seen)} → {short(cause.last_seen)}"


def explained_heading(item: Explained, lang: str) -> str:
    """A pasted event: its provider and id, and its title and name when the catalogue knows it."""
    name = f"{item.provider} {item.event_id}"
    if item.entry is None:
        return f"{name}: {t('not in the catalogue', lang)}"
    return f"{name}: {item.entry.title} ({item.entry.name})"
