"""The terminal format (`-f table`, the default): tables fitted to the terminal's width, prose wrapped.
Renders the report, the triage, the explanation of pasted events and the comparison of two reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.reports import columns
from analyzer.reports import rows as r
from analyzer.reports.columns import grid
from analyzer.reports.i18n import counted, evidence, said, server_label, t
from analyzer.reports.model import Diff, Explanation, Report, Triage
from analyzer.reports.textsafe import cell, clean

if TYPE_CHECKING:
    from analyzer.reports.json import Document
    from analyzer.reports.model import Server

FORMAT = "table"
KINDS = ("report", "triage", "explain", "diff")
TEXT_WIDTH = 100  # Prose lines wrap here, or at the terminal's width when it is narrower.
# A cause id or title is cut no shorter than this (most cause ids fit whole): less important columns go first.
CAUSE_ID = 24
FLEET_SHRINK = {"cause": CAUSE_ID, "title": 32}


def render(doc: Document, lang: str = "en", width: int | None = None) -> str:
    if isinstance(doc, Triage):
        return _triage(doc, lang, width)
    if isinstance(doc, Report):
        return _report(doc, lang, width)
    if isinstance(doc, Explanation):
        return _explanation(doc, lang, width)
    if isinstance(doc, Diff):
        labels = [k.replace("_", " ") for k in r.CHANGE_KEYS]
        rows = r.change_rows(doc)
        return grid(r.CHANGE_KEYS, rows, width, drop=r.CHANGE_DROP, shrink=r.CHANGE_SHRINK, labels=labels) + "\n"
    raise TypeError(f"no {FORMAT} rendering of {type(doc).__name__}")


def wrap(text: str, indent: str, width: int | None) -> list[str]:
    limit = max(min(width or TEXT_WIDTH, TEXT_WIDTH), 40)
    return columns.wrap(text, limit, indent, indent + "   ")


def banner(doc: Report, lang: str, width: int | None) -> list[str]:
    lines = r.banner(doc, lang)
    if not lines:
        return []
    out = [f"!! {t('Read this first', lang)}:"]
    for line in lines:  # Lines stay whole unless a terminal's width asks for wrapping.
        out += wrap(line, "!! - ", width) if width else [f"!! - {cell(line)}"]
    return [*out, ""]


def server_section(server: Server, lang: str, width: int | None) -> list[str]:
    heading = (
        f"== {server_label(server.computer, lang)}: {t(server.status, lang)}  "
        f"({r.short(server.first_event)} → {r.short(server.last_event)})"
        + (f"  {t('Cloud', lang)}: {server.cloud.title}" if server.cloud else "")
    )
    out = [
        *wrap(heading, "", width),
        "",
        *(wrap(f"!! {note}", "", width) if (note := r.cloud_note(server, lang)) else []),
        *(
            wrap(f"!! {t('Operation counts incomplete', lang)}: {said(server.incomplete, lang)}", "", width)
            if server.incomplete
            else []
        ),
        grid(
            r.OPERATION_HEADERS,
            r.operation_counts(server, lang),
            width,
            drop=["unfinished", "succeeded"],
            labels=[t(h, lang) for h in r.OPERATION_HEADERS],
        ),
        "",
    ]
    for rank, cause in enumerate(server.causes, 1):
        out += wrap(
            f"{rank}. {cause.title} [{cause.id}, {t(cause.severity, lang)}]: {r.cause_line(cause, lang)}", "", width
        )
        if cause.evidence:
            out += wrap(
                f"{t('evidence', lang)}: " + "; ".join(evidence(e, lang) for e in cause.evidence), "     ", width
            )
        for i, fix in enumerate(cause.fixes, 1):
            out += wrap(f"{i}) {fix}", "     ", width)
        if cause.tracking_ids:
            out += wrap(f"{t('Tracking IDs', lang)}: " + ", ".join(cause.tracking_ids), "     ", width)
    out += wrap(f"{t('Service starts and stops', lang)}: {r.service_line(server, lang)}", "   ", width)
    out += wrap(f"{t('Heartbeats (31019)', lang)}: {r.heartbeat_line(server, lang)}", "   ", width)
    for outage in server.health.outages:
        recovered = r.short(outage.recovered) or t("not by the end of the log", lang)
        out += wrap(
            f"{t('outage', lang)} {r.short(outage.start)} → {r.short(outage.end)}: "
            f"{counted(outage.events, 'error', lang)}, {outage.cause}, {t('recovered', lang)} {recovered}",
            "   ",
            width,
        )
    if server.checklist:
        out += wrap(f"{t('check', lang)}: " + "; ".join(c.item for c in server.checklist), "   ", width)
    out.append("")
    return out


def _report(doc: Report, lang: str, width: int | None) -> str:
    summary = grid(
        r.SUMMARY_HEADERS,
        r.summary_rows(doc, lang),
        width,
        drop=r.SUMMARY_DROP,
        shrink={"server": 16, "top cause": CAUSE_ID},
        labels=[t(h, lang) for h in r.SUMMARY_HEADERS],
    )
    out = [*banner(doc, lang, width), summary, ""]
    for server in doc.servers:
        out += server_section(server, lang, width)
    if doc.unknown_events:
        out += wrap(
            f"{t('Writeback events the catalogue does not know', lang)}: "
            + ", ".join(f"{u.provider} {u.event_id} x{u.count}" for u in doc.unknown_events),
            "",
            width,
        )
        out.append("")
    out += wrap(r.provenance(doc, lang, cell), "", width)
    return "\n".join(out).rstrip("\n") + "\n"


def _triage(doc: Triage, lang: str, width: int | None) -> str:
    """One row per server, worst first; then the fleet's causes; then the inputs with problems."""
    out = [
        *banner(doc, lang, width),
        grid(
            r.TRIAGE_KEYS,
            r.triage_table(doc, lang),
            width,
            drop=r.TRIAGE_DROP,
            shrink={"server": 16, "top_cause": CAUSE_ID},
            labels=[t(k, lang) for k in r.TRIAGE_KEYS],
        ),
        "",
    ]
    fleet = r.fleet_rows(doc)
    if fleet:
        labels = [t(k, lang) for k in r.FLEET_KEYS]
        out += [
            grid(r.FLEET_KEYS, fleet, width, drop=["events", "operations"], shrink=FLEET_SHRINK, labels=labels),
            "",
        ]
    problems = r.problem_rows(doc, lang)
    if problems:
        shrink = {"input": 20, "problem": 20}
        labels = [t(k, lang) for k in r.PROBLEM_KEYS]
        out += [grid(r.PROBLEM_KEYS, problems, width, drop=["records"], shrink=shrink, labels=labels), ""]
    return "\n".join(out)


def _explanation(doc: Explanation, lang: str, width: int | None) -> str:
    """Per pasted event: what it means, the cause and why, the fixes; links whole, never wrapped."""
    out: list[str] = []
    limit = max(40, min(width or TEXT_WIDTH, TEXT_WIDTH))

    def para(text: str, indent: str = "  ") -> None:  # measured in terminal cells (CJK: two each)
        out.extend(columns.wrap(text, limit, indent, indent + "  ") or [indent])

    for item in doc.events:
        out.append(clean(r.explained_heading(item, lang)))
        if item.entry:
            para(item.entry.meaning)
        if item.tracking_id:
            para(f"{t('tracking id', lang)}: {item.tracking_id}")
        cause = item.cause
        if cause:
            para(f"{t('cause', lang)}: {cause.title} [{cause.id}, {t(cause.severity, lang)}, {t(cause.scope, lang)}]")
            para(f"{t('evidence', lang)}: {evidence(item.evidence, lang)}", "    ")
            para(cause.explanation, "    ")
            for i, fix in enumerate(item.fixes, 1):
                para(f"{i}) {fix}", "    ")
        elif item.entry:
            para(t("Informational: no cause, nothing to fix.", lang))
        out.extend(f"    {clean(ref)}" for ref in item.references)
        out.append("")
    out += [clean(f"{t('unreadable', lang)}: {p}") for p in doc.unreadable]
    return "\n".join(out).rstrip("\n") + "\n"
