"""`wba triage`: one row per server, worst first, and a fleet rollup of causes."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from analyzer.reports.document import local_time_banner
from analyzer.reports.i18n import t

ROW_KEYS = [
    "server",
    "status",
    "first_event",
    "last_event",
    "started",
    "succeeded",
    "failed",
    "success_rate",
    "top_cause",
    "last_success",
    "last_heartbeat",
    "logs",
]


def build(report: dict[str, Any]) -> dict[str, Any]:
    """The triage document: the report's contract plus `fleet` (causes ranked by servers, then operations)."""
    fleet: dict[str, dict[str, Any]] = {}
    for server in report["servers"]:
        for cause in server["causes"]:
            item = fleet.setdefault(
                cause["id"],
                {
                    "id": cause["id"],
                    "title": cause["title"],
                    "severity": cause["severity"],
                    "servers": 0,
                    "operations": 0,
                    "events": 0,
                },
            )
            item["servers"] += 1
            item["operations"] += cause["operations"]
            item["events"] += cause["events"]
    causes = sorted(fleet.values(), key=lambda c: (-c["servers"], -c["operations"], -c["events"], c["id"]))
    return {**report, "fleet": {"causes": causes}}


def rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for server in doc["servers"]:
        ops = server["operations"].values()
        started = sum(c["started"] for c in ops)
        succeeded = sum(c["succeeded"] for c in ops)
        out.append(
            {
                "server": server["computer"],
                "status": server["status"],
                "first_event": server["first_event"],
                "last_event": server["last_event"],
                "started": started,
                "succeeded": succeeded,
                "failed": sum(c["failed"] for c in ops),
                "success_rate": f"{succeeded / started:.0%}" if started else "-",
                "top_cause": server["causes"][0]["id"] if server["causes"] else "-",
                "last_success": server["last_success"] or "-",
                "last_heartbeat": server["last_heartbeat"] or "-",
                "logs": len(server["logs"]),
            }
        )
    return out


def _tables(doc: dict[str, Any], style: str, lang: str) -> list[str]:
    headers = [t(k, lang) for k in ROW_KEYS]
    out = [tabulate([list(r.values()) for r in rows(doc)], headers=headers, tablefmt=style, disable_numparse=True), ""]
    causes = doc["fleet"]["causes"]
    if causes:
        out += [
            tabulate(
                [[c["id"], c["title"], c["servers"], c["operations"], c["events"]] for c in causes],
                headers=[t(k, lang) for k in ("cause", "title", "servers", "operations", "events")],
                tablefmt=style,
            ),
            "",
        ]
    problems = [i for i in doc["inputs"] if i["error"] or i["unreadable"]]
    if problems:
        out += [
            tabulate(
                [[i["path"], i["records"], i["unreadable"], i["error"]] for i in problems],
                headers=[t(k, lang) for k in ("input", "records", "unreadable", "problem")],
                tablefmt=style,
            ),
            "",
        ]
    return out


def render_table(doc: dict[str, Any], lang: str = "en") -> str:
    banner = local_time_banner(doc)
    return "\n".join(([f"warning: {t(banner, lang)}", ""] if banner else []) + _tables(doc, "simple", lang))


def render_markdown(doc: dict[str, Any], lang: str = "en") -> str:
    head = [f"# {t('Triage of password writeback servers', lang)}", "", _provenance(doc, lang), ""]
    head += [f"> **{t('Warning', lang)}:** {t(banner, lang)}", ""] if (banner := local_time_banner(doc)) else []
    return "\n".join(head + _tables(doc, "github", lang))


def _provenance(doc: dict[str, Any], lang: str) -> str:
    tool = doc["tool"]
    span = doc["span"]
    return (
        f"{tool['name']} {tool['version']}, {t('catalogue', lang)} {tool['catalogue']}; "
        f"{t('time span', lang)} {span['first_event']} → {span['last_event']}; `{doc['command']}`"
    )
