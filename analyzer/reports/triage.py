"""`wba triage`: one row per server, worst first, and a fleet rollup of causes."""

from __future__ import annotations

from typing import Any

from analyzer.reports import markdown
from analyzer.reports.columns import grid
from analyzer.reports.i18n import t
from analyzer.reports.rows import provenance, short
from analyzer.textsafe import code_span

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


# Columns a narrow terminal drops first; server, status, failures and the top cause stay.
ROW_DROP = [
    "first_event",
    "logs",
    "last_heartbeat",
    "succeeded",
    "last_event",
    "started",
    "last_success",
    "success_rate",
    "failed",
]
TIME_KEYS = ("first_event", "last_event", "last_success", "last_heartbeat")


def _table_rows(doc: dict[str, Any], lang: str) -> list[list[Any]]:
    """The rows as tables show them: times to the second, status words in the report's language."""
    out = []
    for row in rows(doc):
        shown = {k: short(v) if k in TIME_KEYS else v for k, v in row.items()}
        shown["status"] = t(row["status"], lang)
        out.append(list(shown.values()))
    return out


def _fleet(doc: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    keys = ["cause", "title", "servers", "operations", "events"]
    return keys, [[c["id"], c["title"], c["servers"], c["operations"], c["events"]] for c in doc["fleet"]["causes"]]


def _problems(doc: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    keys = ["input", "records", "unreadable", "problem"]
    found = [i for i in doc["inputs"] if i["error"] or i["unreadable"] or i.get("times") == "local"]
    return keys, [[i["path"], i["records"], i["unreadable"], i["error"] or i["note"]] for i in found]


def render_table(doc: dict[str, Any], lang: str = "en", width: int | None = None) -> str:
    from analyzer.reports.table import banner

    out = [
        *banner(doc, lang, width),
        grid(
            ROW_KEYS,
            _table_rows(doc, lang),
            width,
            drop=ROW_DROP,
            shrink={"server": 16, "top_cause": 12},
            labels=[t(k, lang) for k in ROW_KEYS],
        ),
        "",
    ]
    keys, fleet = _fleet(doc, lang)
    if fleet:
        out += [
            grid(
                keys,
                fleet,
                width,
                drop=["events", "operations"],
                shrink={"title": 16},
                labels=[t(k, lang) for k in keys],
            ),
            "",
        ]
    keys, problems = _problems(doc)
    if problems:
        out += [
            grid(
                keys,
                problems,
                width,
                drop=["records"],
                shrink={"input": 20, "problem": 20},
                labels=[t(k, lang) for k in keys],
            ),
            "",
        ]
    return "\n".join(out)


def render_markdown(doc: dict[str, Any], lang: str = "en", width: int | None = None) -> str:
    """Escalation-ready: the fleet at a glance, then per server its causes and fixes, as the HTML has."""
    out = [f"# {t('Triage of password writeback servers', lang)}", "", provenance(doc, lang, code_span), ""]
    out += markdown.banner(doc, lang)
    out += markdown.table(ROW_KEYS, _table_rows(doc, lang), lang)
    keys, fleet = _fleet(doc, lang)
    if fleet:
        out += [f"## {t('Fleet causes', lang)}", "", *markdown.table(keys, fleet, lang)]
    for server in doc["servers"]:
        out += markdown.server_section(server, lang)
    keys, problems = _problems(doc)
    if problems:
        out += [f"## {t('Problems with inputs', lang)}", "", *markdown.table(keys, problems, lang)]
    return "\n".join(out).rstrip("\n") + "\n"
