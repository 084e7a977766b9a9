"""Plain-text (terminal) rendering of the report document, with tabulate."""

from __future__ import annotations

import textwrap
from typing import Any

from tabulate import tabulate

from analyzer.reports.document import local_time_banner
from analyzer.reports.i18n import t
from analyzer.reports.markdown import OPERATION_HEADERS, SUMMARY_HEADERS, operation_counts, provenance, summary_rows


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=indent, subsequent_indent=indent + "   ")


def render(doc: dict[str, Any], lang: str = "en") -> str:
    headers = [t(h, lang) for h in SUMMARY_HEADERS]
    banner = local_time_banner(doc)
    out = [f"warning: {t(banner, lang)}", ""] if banner else []
    out += [tabulate(summary_rows(doc, lang), headers=headers, tablefmt="simple", missingval="-"), ""]
    for server in doc["servers"]:
        out += [
            f"== {server['computer']}: {t(server['status'], lang)}  "
            f"({server['first_event']} -> {server['last_event']})"
            + (f"  {t('Cloud', lang)}: {server['cloud']['title']}" if server["cloud"] else ""),
            "",
        ]
        rows = operation_counts(server, lang)
        out += [tabulate(rows, headers=[t(h, lang) for h in OPERATION_HEADERS]), ""]
        for rank, cause in enumerate(server["causes"], 1):
            out += _wrap(
                f"{rank}. {cause['title']} [{cause['id']}, {cause['severity']}]: {cause['operations']} "
                f"operations, {cause['users']} users, {cause['events']} events "
                f"({', '.join(map(str, cause['event_ids']))}), {cause['first_seen']} -> {cause['last_seen']}",
                "",
            )
            if cause["evidence"]:
                out += _wrap(f"{t('evidence', lang)}: " + "; ".join(cause["evidence"]), "     ")
            for i, fix in enumerate(cause["fixes"], 1):
                out += _wrap(f"{i}) {fix}", "     ")
            if cause["tracking_ids"]:
                out += _wrap("tracking ids: " + ", ".join(cause["tracking_ids"]), "     ")
        health = server["health"]
        gap = health["longest_heartbeat_gap"]
        out += [
            f"   heartbeats: {health['heartbeats']}, last {health['last_heartbeat'] or '-'}"
            + (f", longest gap {gap['minutes']} min" if gap else "")
        ]
        for outage in health["outages"]:
            out += [
                f"   outage {outage['start']} -> {outage['end']}: {outage['events']} errors, {outage['cause']}, "
                f"recovered {outage['recovered'] or 'not by the end of the log'}"
            ]
        if server["checklist"]:
            out += ["   check: " + "; ".join(c["item"] for c in server["checklist"])]
        out.append("")
    if doc["unknown_events"]:
        out += [
            "unknown writeback events: "
            + ", ".join(f"{u['provider']} {u['event_id']} x{u['count']}" for u in doc["unknown_events"]),
            "",
        ]
    out.append(provenance(doc, lang).replace("`", ""))
    return "\n".join(out).rstrip("\n") + "\n"
