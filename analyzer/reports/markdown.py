"""Markdown rendering of the report document: fits a ticket or an escalation."""

from __future__ import annotations

from typing import Any

KIND_NAMES = {"reset": "self-service reset", "change": "password change", "admin_reset": "admin reset"}


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _rate(counts: dict[str, Any]) -> str:
    rate = counts["success_rate"]
    return "-" if rate is None else f"{rate:.0%}"


def summary_rows(doc: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for server in doc["servers"]:
        ops = server["operations"]
        started = sum(c["started"] for c in ops.values())
        ok = sum(c["succeeded"] for c in ops.values())
        failed = sum(c["failed"] for c in ops.values())
        unfinished = sum(c["unfinished"] for c in ops.values())
        top = server["causes"][0]["id"] if server["causes"] else None
        rows.append(
            [
                server["computer"],
                server["status"],
                server["first_event"],
                server["last_event"],
                started,
                ok,
                failed,
                unfinished,
                top,
            ]
        )
    return rows


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


def _server(server: dict[str, Any]) -> list[str]:
    out = [f"## {server['computer']} — {server['status']}", ""]
    out += [f"Log coverage: {server['first_event']} → {server['last_event']}", ""]
    if server["client_versions"] or server["namespaces"]:
        out += [
            f"Client version: {', '.join(server['client_versions']) or '-'}; Service Bus namespace: "
            f"{', '.join(server['namespaces']) or '-'}",
            "",
        ]
    out += ["### Operations", ""]
    out += _table(
        ["kind", "started", "succeeded", "failed", "unfinished", "success rate"],
        [
            [KIND_NAMES[k], c["started"], c["succeeded"], c["failed"], c["unfinished"], _rate(c)]
            for k, c in server["operations"].items()
        ],
    )
    out += ["### Root causes, by impact", ""]
    if not server["causes"]:
        out += ["No failures or outages found.", ""]
    for rank, cause in enumerate(server["causes"], 1):
        codes = ", ".join(str(i) for i in cause["event_ids"])
        out += [
            f"{rank}. **{cause['title']}** (`{cause['id']}`, {cause['severity']}) — {cause['operations']} failed "
            f"or unfinished operations, {cause['users']} users, {cause['events']} events ({codes}); "
            f"{cause['first_seen']} → {cause['last_seen']}",
            "",
        ]
        out += [f"   {cause['explanation']}", ""]
        if cause["tracking_ids"]:
            out += ["   Tracking IDs: " + ", ".join(f"`{t}`" for t in cause["tracking_ids"]), ""]
        out += ["   Fix, in order:", ""]
        out += [f"   {i}. {fix}" for i, fix in enumerate(cause["fixes"], 1)] + [""]
        out += ["   References: " + ", ".join(f"<{r}>" for r in cause["references"]), ""]
    health = server["health"]
    out += ["### Service health", ""]
    service = ", ".join(f"{e['name']} {e['time']}" for e in health["service_events"]) or "none in the log"
    gap = health["longest_heartbeat_gap"]
    out += [
        f"- Service starts and stops: {service}",
        f"- Heartbeats (31019): {health['heartbeats']}, last {health['last_heartbeat'] or '-'}"
        + (f", longest gap {gap['minutes']} min ({gap['start']} → {gap['end']})" if gap else ""),
        "",
    ]
    if health["outages"]:
        out += _table(
            ["outage start", "last error", "errors", "cause", "recovered"],
            [
                [o["start"], o["end"], o["events"], o["cause"], o["recovered"] or "not by the end of the log"]
                for o in health["outages"]
            ],
        )
    if server["checklist"]:
        out += ["### Prerequisites the evidence points at", ""]
        out += [f"- [ ] {c['text']} (`{c['item']}`; {', '.join(c['causes'])})" for c in server["checklist"]] + [""]
    return out


def render(doc: dict[str, Any]) -> str:
    tool = doc["tool"]
    out = [
        "# Password writeback report",
        "",
        f"{tool['name']} {tool['version']}, catalogue {tool['catalogue']}; {len(doc['inputs'])} inputs, "
        f"{len(doc['servers'])} servers.",
        "",
    ]
    out += _table(SUMMARY_HEADERS, summary_rows(doc))
    for server in doc["servers"]:
        out += _server(server)
    if doc["unknown_events"]:
        out += ["## Writeback events the catalogue does not know", ""]
        out += _table(
            ["provider", "event id", "count"],
            [[u["provider"], u["event_id"], u["count"]] for u in doc["unknown_events"]],
        )
    out += ["## Inputs", ""]
    rows = [[i["path"], i["sha256"], i["records"], i["unreadable"], i["error"]] for i in doc["inputs"]]
    out += _table(["path", "sha256", "records", "unreadable", "problem"], rows)
    return "\n".join(out).rstrip("\n") + "\n"
