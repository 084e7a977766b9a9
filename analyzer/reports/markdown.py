"""Markdown rendering of the report document: fits a ticket or an escalation."""

from __future__ import annotations

from typing import Any

from analyzer.reports.document import local_time_banner
from analyzer.reports.i18n import t

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


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]], lang: str) -> list[str]:
    lines = ["| " + " | ".join(t(h, lang) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _rate(counts: dict[str, Any]) -> str:
    rate = counts["success_rate"]
    return "-" if rate is None else f"{rate:.0%}"


OPERATION_HEADERS = ["kind", "started", "succeeded", "failed", "unfinished", "success rate"]


def operation_counts(server: dict[str, Any], lang: str) -> list[list[Any]]:
    """One row per operation kind: the table every format shows."""
    return [
        [t(KIND_NAMES[k], lang), c["started"], c["succeeded"], c["failed"], c["unfinished"], _rate(c)]
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
                server["first_event"],
                server["last_event"],
                sum(c["started"] for c in ops),
                sum(c["succeeded"] for c in ops),
                sum(c["failed"] for c in ops),
                sum(c["unfinished"] for c in ops),
                top,
            ]
        )
    return rows


def provenance(doc: dict[str, Any], lang: str) -> str:
    tool, span = doc["tool"], doc["span"]
    return (
        f"{tool['name']} {tool['version']}, {t('catalogue', lang)} {tool['catalogue']}; {len(doc['inputs'])} "
        f"{t('inputs', lang)}; {t('time span', lang)} {span['first_event']} → {span['last_event']}; "
        f"{t('command', lang)}: `{doc['command']}`"
    )


def _cause(rank: int, cause: dict[str, Any], lang: str) -> list[str]:
    codes = ", ".join(str(i) for i in cause["event_ids"])
    out = [
        f"{rank}. **{cause['title']}** (`{cause['id']}`, {cause['severity']}) — {cause['operations']} "
        f"{t('failed or unfinished operations', lang)}, {cause['users']} {t('users', lang)}, {cause['events']} "
        f"{t('events', lang)} ({codes}); {cause['first_seen']} → {cause['last_seen']}",
        "",
    ]
    out += [f"   {cause['explanation']}", ""]
    if cause["evidence"]:
        out += [f"   {t('Evidence', lang)}: " + "; ".join(cause["evidence"]), ""]
    if cause["tracking_ids"]:
        out += [f"   {t('Tracking IDs', lang)}: " + ", ".join(f"`{x}`" for x in cause["tracking_ids"]), ""]
    out += [f"   {t('Fix, in order', lang)}:", ""]
    out += [f"   {i}. {fix}" for i, fix in enumerate(cause["fixes"], 1)] + [""]
    out += [f"   {t('References', lang)}: " + ", ".join(f"<{r}>" for r in cause["references"]), ""]
    return out


def _server(server: dict[str, Any], lang: str) -> list[str]:
    out = [f"## {server['computer']} — {t(server['status'], lang)}", ""]
    out += [f"{t('Log coverage', lang)}: {server['first_event']} → {server['last_event']}", ""]
    if server["cloud"]:
        out += [f"{t('Cloud', lang)}: {server['cloud']['title']}", ""]
    if server["client_versions"] or server["namespaces"]:
        out += [
            f"{t('Client version', lang)}: {', '.join(server['client_versions']) or '-'}; "
            f"{t('Service Bus namespace', lang)}: {', '.join(server['namespaces']) or '-'}",
            "",
        ]
    out += [f"### {t('Operations', lang)}", ""]
    out += _table(OPERATION_HEADERS, operation_counts(server, lang), lang)
    out += [f"### {t('Root causes, by impact', lang)}", ""]
    if not server["causes"]:
        out += [t("No failures or outages found.", lang), ""]
    for rank, cause in enumerate(server["causes"], 1):
        out += _cause(rank, cause, lang)
    health = server["health"]
    out += [f"### {t('Service health', lang)}", ""]
    service = ", ".join(f"{e['name']} {e['time']}" for e in health["service_events"]) or t("none in the log", lang)
    gap = health["longest_heartbeat_gap"]
    last = health["last_heartbeat"] or "-"
    beats = f"- {t('Heartbeats (31019)', lang)}: {health['heartbeats']}, {t('last', lang)} {last}"
    if gap:
        beats += f", {t('longest gap', lang)} {gap['minutes']} {t('min', lang)} ({gap['start']} → {gap['end']})"
    out += [f"- {t('Service starts and stops', lang)}: {service}", beats, ""]
    if health["outages"]:
        out += _table(
            ["outage start", "last error", "errors", "cause", "recovered"],
            [
                [o["start"], o["end"], o["events"], o["cause"], o["recovered"] or t("not by the end of the log", lang)]
                for o in health["outages"]
            ],
            lang,
        )
    if server["checklist"]:
        out += [f"### {t('Prerequisites the evidence points at', lang)}", ""]
        out += [f"- [ ] {c['text']} (`{c['item']}`; {', '.join(c['causes'])})" for c in server["checklist"]] + [""]
    return out


def render(doc: dict[str, Any], lang: str = "en") -> str:
    out = [f"# {t('Password writeback report', lang)}", "", provenance(doc, lang), ""]
    banner = local_time_banner(doc)
    out += [f"> **{t('Warning', lang)}:** {_cell(t(banner, lang))}", ""] if banner else []
    out += _table(SUMMARY_HEADERS, summary_rows(doc, lang), lang)
    for server in doc["servers"]:
        out += _server(server, lang)
    if doc["unknown_events"]:
        out += [f"## {t('Writeback events the catalogue does not know', lang)}", ""]
        out += _table(
            ["provider", "event id", "count"],
            [[u["provider"], u["event_id"], u["count"]] for u in doc["unknown_events"]],
            lang,
        )
    out += [f"## {t('Inputs', lang)}", ""]
    rows = [
        [i["path"], i["kind"], i["sha256"], i["records"], i["unreadable"], i["error"] or i["note"]]
        for i in doc["inputs"]
    ]
    out += _table(["path", "kind", "sha256", "records", "unreadable", "problem"], rows, lang)
    if doc.get("duplicate_events"):
        out += [f"{t('duplicate events skipped', lang)}: {doc['duplicate_events']}", ""]
    return "\n".join(out).rstrip("\n") + "\n"
