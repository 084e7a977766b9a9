"""Markdown (`-f markdown`): fits a ticket or an escalation. Renders the report, the triage, the
explanation of pasted events and the comparison of two reports.

Text from the logs (and the catalogue) is escaped by `textsafe.markdown`: no HTML, links or images,
and a newline in a computer name can neither start a heading nor break a table row.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from analyzer.reports import rows as r
from analyzer.reports.i18n import evidence, said, server_label, t
from analyzer.reports.model import Diff, Explanation, Report, Triage
from analyzer.reports.textsafe import code_span, markdown

if TYPE_CHECKING:
    from analyzer.reports.json import Document
    from analyzer.reports.model import Cause, Server

FORMAT = "markdown"
KINDS = ("report", "triage", "explain", "diff")
# A config or registry fragment in catalogue text: a word holding `<name>` or a backslash
# (`<system.net><defaultProxy>`, `HKLM\SOFTWARE\...`), continued over a space by a word with a backslash
# (`...\TLS 1.2\Client`); it ends before spaces, brackets, `|` and sentence punctuation.
_WORD = r"[^\s()（）|,，。；;：、]"
_FRAGMENT = re.compile(rf"{_WORD}*(?:<[^\s<>|]+>|\\){_WORD}*(?: {_WORD}*\\{_WORD}*)*")


def render(doc: Document, lang: str = "en", width: int | None = None) -> str:
    if isinstance(doc, Triage):
        out = _triage(doc, lang)
    elif isinstance(doc, Report):
        out = _report(doc, lang)
    elif isinstance(doc, Explanation):
        out = _explanation(doc, lang)
    elif isinstance(doc, Diff):
        out = table([k.replace("_", " ") for k in r.CHANGE_KEYS], r.change_rows(doc), lang)
    else:
        raise TypeError(f"no {FORMAT} rendering of {type(doc).__name__}")
    return "\n".join(out).rstrip("\n") + "\n"


def prose(value: Any) -> str:
    """Catalogue text for Markdown with its config and registry fragments in code spans, which read
    the same raw (pasted into a ticket) and rendered; the rest escaped as `markdown` does."""
    text = str(value) if value is not None else None
    if text is None or ("<" not in text and "\\" not in text):
        return markdown(value)
    out, done = [], 0
    for found in _FRAGMENT.finditer(text):
        fragment = found.group().rstrip(".:'\"")
        if not fragment:
            continue
        out += [markdown(text[done : found.start()]) if found.start() > done else "", code_span(fragment)]
        done = found.start() + len(fragment)
    return "".join(out) + (markdown(text[done:]) if done < len(text) else "")


def table(headers: list[str], rows: list[list[Any]], lang: str) -> list[str]:
    """A GitHub table; numbers are right-aligned."""
    numeric = [bool(rows) and all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]
    lines = ["| " + " | ".join(markdown(t(h, lang)) for h in headers) + " |"]
    lines.append("|" + "".join("---:|" if n else "---|" for n in numeric))
    lines += ["| " + " | ".join(markdown(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def banner(doc: Report, lang: str) -> list[str]:
    lines = r.banner(doc, lang)
    if not lines:
        return []
    return [f"> **{t('Read this first', lang)}:**", ">", *(f"> - {markdown(line)}" for line in lines), ""]


def cause(rank: int, item: Cause, lang: str) -> list[str]:
    out = [
        f"{rank}. **{markdown(item.title)}** ({code_span(item.id)}, {t(item.severity, lang)}) — "
        f"{markdown(r.cause_line(item, lang))}",
        "",
        f"   {prose(item.explanation)}",
        "",
    ]
    if item.evidence:
        out += [f"   {t('Evidence', lang)}: " + markdown("; ".join(evidence(e, lang) for e in item.evidence)), ""]
    if item.tracking_ids:
        out += [f"   {t('Tracking IDs', lang)}: " + ", ".join(code_span(x) for x in item.tracking_ids), ""]
    out += [f"   {t('Fix, in order', lang)}:", ""]
    out += [f"   {i}. {prose(fix)}" for i, fix in enumerate(item.fixes, 1)] + [""]
    out += [f"   {t('References', lang)}:", ""]
    out += [f"   - <{ref}>" for ref in item.references if ref.startswith("https://")] + [""]
    return out


def server_section(server: Server, lang: str, level: int = 2) -> list[str]:
    """One server: coverage, operations, causes with their fixes, service health, checklist."""
    head = "#" * level
    out = [f"{head} {markdown(server_label(server.computer, lang))} — {t(server.status, lang)}", ""]
    out += [f"{t('Log coverage', lang)}: {r.short(server.first_event)} → {r.short(server.last_event)}", ""]
    if server.cloud:
        note = r.cloud_note(server, lang)
        out += [f"{t('Cloud', lang)}: {markdown(server.cloud.title)}" + (f"; {markdown(note)}" if note else ""), ""]
    if server.incomplete:
        out += [f"**{t('Operation counts incomplete', lang)}:** {markdown(said(server.incomplete, lang))}", ""]
    if server.client_versions or server.namespaces:
        out += [
            f"{t('Client version', lang)}: {markdown(', '.join(server.client_versions) or '-')}; "
            f"{t('Service Bus namespace', lang)}: {markdown(r.namespace_line(server))}",
            "",
        ]
    out += [f"{head}# {t('Operations', lang)}", ""]
    out += table(r.OPERATION_HEADERS, r.operation_counts(server, lang), lang)
    out += [f"{head}# {t('Root causes, by impact', lang)}", ""]
    if not server.causes:
        out += [t("No failures or outages found.", lang), ""]
    for rank, item in enumerate(server.causes, 1):
        out += cause(rank, item, lang)
    out += [f"{head}# {t('Service health', lang)}", ""]
    out += [
        f"- {t('Service starts and stops', lang)}: {markdown(r.service_line(server, lang))}",
        f"- {t('Heartbeats (31019)', lang)}: {markdown(r.heartbeat_line(server, lang))}",
        "",
    ]
    if server.health.outages:
        out += table(r.OUTAGE_HEADERS, r.outage_rows(server, lang), lang)
    if server.checklist:
        out += [f"{head}# {t('Prerequisites the evidence points at', lang)}", ""]
        out += [
            f"- [ ] {markdown(c.text)} ({code_span(c.item)}; {markdown(', '.join(c.causes))})" for c in server.checklist
        ] + [""]
    return out


def _report(doc: Report, lang: str) -> list[str]:
    out = [f"# {t('Password writeback report', lang)}", "", r.provenance(doc, lang, code_span), ""]
    out += banner(doc, lang)
    out += table(r.SUMMARY_HEADERS, r.summary_rows(doc, lang), lang)
    for server in doc.servers:
        out += server_section(server, lang)
    if doc.unknown_events:
        out += [f"## {t('Writeback events the catalogue does not know', lang)}", ""]
        out += table(r.UNKNOWN_HEADERS, r.unknown_rows(doc), lang)
    out += [f"## {t('Inputs', lang)}", ""]
    out += table(r.INPUT_HEADERS, r.input_rows(doc, lang), lang)
    if doc.duplicate_events:
        out += [f"{t('duplicate events skipped', lang)}: {doc.duplicate_events}", ""]
    return out


def _triage(doc: Triage, lang: str) -> list[str]:
    """Escalation-ready: the fleet at a glance, then per server its causes and fixes, as the HTML has."""
    out = [f"# {t('Triage of password writeback servers', lang)}", "", r.provenance(doc, lang, code_span), ""]
    out += banner(doc, lang)
    out += table(r.TRIAGE_KEYS, r.triage_table(doc, lang), lang)
    fleet = r.fleet_rows(doc)
    if fleet:
        out += [f"## {t('Fleet causes', lang)}", "", *table(r.FLEET_KEYS, fleet, lang)]
    for server in doc.servers:
        out += server_section(server, lang)
    problems = r.problem_rows(doc, lang)
    if problems:
        out += [f"## {t('Problems with inputs', lang)}", "", *table(r.PROBLEM_KEYS, problems, lang)]
    return out


def _explanation(doc: Explanation, lang: str) -> list[str]:
    out: list[str] = []
    for item in doc.events:
        out += [f"## {markdown(r.explained_heading(item, lang))}", ""]
        if item.entry:
            out += [markdown(item.entry.meaning), ""]
        if item.tracking_id:
            out += [f"{t('Tracking IDs', lang)}: {code_span(item.tracking_id)}", ""]
        found = item.cause
        if found:
            out += [
                f"**{markdown(found.title)}** (`{found.id}`, {t(found.severity, lang)}, {t(found.scope, lang)})",
                "",
            ]
            out += [
                f"{t('Evidence', lang)}: {markdown(evidence(item.evidence, lang))}",
                "",
                prose(found.explanation),
                "",
            ]
            out += [f"{t('Fix, in order', lang)}:", ""]
            out += [f"{i}. {prose(f)}" for i, f in enumerate(item.fixes, 1)] + [""]
        if item.references:
            out += [f"{t('References', lang)}:", ""] + [f"- <{ref}>" for ref in item.references] + [""]
    out += [f"- {t('unreadable', lang)}: {markdown(p)}" for p in doc.unreadable]
    return out
