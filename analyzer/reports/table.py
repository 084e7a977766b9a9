"""Plain-text (terminal) rendering of the report document: tables fitted to the terminal's width."""

from __future__ import annotations

from typing import Any

from analyzer.reports import columns
from analyzer.reports import rows as r
from analyzer.reports.columns import grid
from analyzer.reports.i18n import counted, t
from analyzer.textsafe import cell

TEXT_WIDTH = 100  # prose lines wrap here, or at the terminal's width when it is narrower


def wrap(text: str, indent: str, width: int | None) -> list[str]:
    limit = max(min(width or TEXT_WIDTH, TEXT_WIDTH), 40)
    return columns.wrap(text, limit, indent, indent + "   ")


def summary(doc: dict[str, Any], lang: str, width: int | None) -> str:
    return grid(
        r.SUMMARY_HEADERS,
        r.summary_rows(doc, lang),
        width,
        drop=r.SUMMARY_DROP,
        shrink={"server": 16, "top cause": 12},
        labels=[t(h, lang) for h in r.SUMMARY_HEADERS],
    )


def banner(doc: dict[str, Any], lang: str, width: int | None) -> list[str]:
    lines = r.banner(doc, lang)
    if not lines:
        return []
    out = [f"!! {t('Read this first', lang)}:"]
    for line in lines:  # whole lines unless a terminal's width asks for wrapping
        out += wrap(line, "!! - ", width) if width else [f"!! - {cell(line)}"]
    return [*out, ""]


def server_section(server: dict[str, Any], lang: str, width: int | None) -> list[str]:
    heading = (
        f"== {server['computer']}: {t(server['status'], lang)}  "
        f"({r.short(server['first_event'])} -> {r.short(server['last_event'])})"
        + (f"  {t('Cloud', lang)}: {server['cloud']['title']}" if server.get("cloud") else "")
    )
    incomplete = server.get("incomplete")
    out = [
        *wrap(heading, "", width),
        "",
        *(wrap(f"!! {t('Operation counts incomplete', lang)}: {incomplete}", "", width) if incomplete else []),
        grid(
            r.OPERATION_HEADERS,
            r.operation_counts(server, lang),
            width,
            drop=["unfinished", "succeeded"],
            labels=[t(h, lang) for h in r.OPERATION_HEADERS],
        ),
        "",
    ]
    for rank, cause in enumerate(server["causes"], 1):
        out += wrap(
            f"{rank}. {cause['title']} [{cause['id']}, {t(cause['severity'], lang)}]: {r.cause_line(cause, lang)}",
            "",
            width,
        )
        if cause.get("evidence"):
            out += wrap(f"{t('evidence', lang)}: " + "; ".join(cause["evidence"]), "     ", width)
        for i, fix in enumerate(cause["fixes"], 1):
            out += wrap(f"{i}) {fix}", "     ", width)
        if cause["tracking_ids"]:
            out += wrap(f"{t('Tracking IDs', lang)}: " + ", ".join(cause["tracking_ids"]), "     ", width)
    out += wrap(f"{t('Service starts and stops', lang)}: {r.service_line(server, lang)}", "   ", width)
    out += wrap(f"{t('Heartbeats (31019)', lang)}: {r.heartbeat_line(server, lang)}", "   ", width)
    for outage in server["health"]["outages"]:
        recovered = r.short(outage["recovered"]) or t("not by the end of the log", lang)
        out += wrap(
            f"{t('outage', lang)} {r.short(outage['start'])} -> {r.short(outage['end'])}: "
            f"{counted(outage['events'], 'error', lang)}, {outage['cause']}, {t('recovered', lang)} {recovered}",
            "   ",
            width,
        )
    if server["checklist"]:
        out += wrap(f"{t('check', lang)}: " + "; ".join(c["item"] for c in server["checklist"]), "   ", width)
    out.append("")
    return out


def render(doc: dict[str, Any], lang: str = "en", width: int | None = None) -> str:
    out = [*banner(doc, lang, width), summary(doc, lang, width), ""]
    for server in doc["servers"]:
        out += server_section(server, lang, width)
    if doc["unknown_events"]:
        out += wrap(
            f"{t('Writeback events the catalogue does not know', lang)}: "
            + ", ".join(f"{u['provider']} {u['event_id']} x{u['count']}" for u in doc["unknown_events"]),
            "",
            width,
        )
        out.append("")
    out += wrap(r.provenance(doc, lang, cell), "", width)
    return "\n".join(out).rstrip("\n") + "\n"
