"""What every report format shows alike: summary and operation rows, provenance, the banner about
inputs, times to the second and counted nouns. Renderers add only their own markup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analyzer.reports.i18n import counted, t

if TYPE_CHECKING:
    from collections.abc import Callable

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
# Columns a narrow terminal drops first (see columns.fit); the server and its status stay.
SUMMARY_DROP = ["first event", "unfinished", "succeeded", "last event", "operations", "failed"]
OPERATION_HEADERS = ["kind", "started", "succeeded", "failed", "unfinished", "success rate"]
INPUT_HEADERS = ["path", "kind", "sha256", "records", "unreadable", "problem"]
OUTAGE_HEADERS = ["outage start", "last error", "errors", "cause", "recovered"]


def short(moment: str | None) -> str | None:
    """An ISO time to the second, for tables: `2026-11-18T00:00:08.385311Z` -> `2026-11-18T00:00:08Z`
    (a local time, without `Z`, stays without it)."""
    if not moment or len(moment) < 19 or moment[10] != "T":
        return moment
    return moment[:19] + ("Z" if moment.endswith("Z") else "")


def rate(counts: dict[str, Any]) -> str:
    value = counts["success_rate"]
    return "-" if value is None else f"{value:.0%}"


def operation_counts(server: dict[str, Any], lang: str) -> list[list[Any]]:
    """One row per operation kind: the table every format shows."""
    return [
        [t(KIND_NAMES[k], lang), c["started"], c["succeeded"], c["failed"], c["unfinished"], rate(c)]
        for k, c in server["operations"].items()
    ]


def summary_rows(doc: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    rows = []
    for server in doc["servers"]:
        ops = server["operations"].values()
        top = server["causes"][0]["id"] if server["causes"] else None
        rows.append(
            [
                server["computer"],
                t(server["status"], lang),
                short(server["first_event"]),
                short(server["last_event"]),
                sum(c["started"] for c in ops),
                sum(c["succeeded"] for c in ops),
                sum(c["failed"] for c in ops),
                sum(c["unfinished"] for c in ops),
                top,
            ]
        )
    return rows


def outage_rows(server: dict[str, Any], lang: str) -> list[list[Any]]:
    return [
        [
            short(o["start"]),
            short(o["end"]),
            o["events"],
            o["cause"],
            short(o["recovered"]) or t("not by the end of the log", lang),
        ]
        for o in server["health"]["outages"]
    ]


def input_rows(doc: dict[str, Any]) -> list[list[Any]]:
    return [
        [i["path"], i["kind"], i["sha256"], i["records"], i["unreadable"], i["error"] or i["note"]]
        for i in doc["inputs"]
    ]


def provenance(doc: dict[str, Any], lang: str, quote: Callable[[Any], str] = str) -> str:
    """Tool, catalogue, inputs, span and the command (through `quote`: the command holds paths)."""
    tool, span = doc["tool"], doc["span"]
    return (
        f"{tool['name']} {tool['version']}, {t('catalogue', lang)} {tool['catalogue']}; "
        f"{counted(len(doc['inputs']), 'input', lang)}; {t('time span', lang)} {short(span['first_event']) or '-'} → "
        f"{short(span['last_event']) or '-'}; {t('command', lang)}: {quote(doc['command'])}"
    )


LOCAL_TIMES = (
    "times are the exporting machine's local time, time zone unknown: shown without Z, not UTC "
    "(give --input-tz to convert)"
)


def banner(doc: dict[str, Any], lang: str) -> list[str]:
    """One line per input that was not read completely or whose times are local: what a reader of
    the report must know before trusting it. Empty when every input was read whole, in UTC."""
    lines = []
    for item in doc["inputs"]:
        total = item["records"] + item["unreadable"]
        if item["error"] and not total:
            lines.append(f"{item['path']}: {t('not read', lang)}: {item['error']}")
        elif item["unreadable"]:
            lines.append(
                f"{item['path']}: {item['unreadable']} / {counted(total, 'record', lang)} {t('unreadable', lang)}"
            )
        elif item["error"]:
            lines.append(f"{item['path']}: {item['error']}")
        if item.get("times") == "local":
            lines.append(f"{item['path']}: {t(LOCAL_TIMES, lang)}")
        elif item.get("timezone"):
            lines.append(f"{item['path']}: {t('local times converted to UTC from', lang)} {item['timezone']}")
    for server in doc["servers"]:
        if server.get("incomplete"):
            lines.append(f"{server['computer']}: {t('Operation counts incomplete', lang)}: {server['incomplete']}")
    return lines


def service_line(server: dict[str, Any], lang: str) -> str:
    events = server["health"]["service_events"]
    return ", ".join(f"{e['name']} {short(e['time'])}" for e in events) or t("none in the log", lang)


def heartbeat_line(server: dict[str, Any], lang: str) -> str:
    health = server["health"]
    gap = health["longest_heartbeat_gap"]
    line = f"{health['heartbeats']}, {t('last', lang)} {short(health['last_heartbeat']) or '-'}"
    if gap:
        line += (
            f", {t('longest gap', lang)} {gap['minutes']} {t('min', lang)} "
            f"({short(gap['start'])} → {short(gap['end'])})"
        )
    return line


def cause_figures(cause: dict[str, Any], lang: str) -> str:
    """The figures of one cause: operations, users, events (codes)."""
    codes = ", ".join(str(i) for i in cause["event_ids"])
    return (
        f"{counted(cause['operations'], 'failed or unfinished operation', lang)}, "
        f"{counted(cause['users'], 'user', lang)}, {counted(cause['events'], 'event', lang)} ({codes})"
    )


def cause_line(cause: dict[str, Any], lang: str) -> str:
    """The figures of one cause, then when it was first and last seen."""
    return f"{cause_figures(cause, lang)}; {short(cause['first_seen'])} → {short(cause['last_seen'])}"
