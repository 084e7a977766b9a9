"""HTML (`-f html`): one self-contained file for escalations of a report or a triage: inline CSS and
SVG, no script, nothing fetched.

A Content-Security-Policy forbids every external load and all scripts, and every
string from the logs is escaped, so hostile event text stays inert.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from analyzer.reports import rows as r
from analyzer.reports.i18n import counted, evidence, said, server_label, t
from analyzer.reports.model import Report, Triage
from analyzer.reports.textsafe import clean

if TYPE_CHECKING:
    from analyzer.reports.json import Document
    from analyzer.reports.model import Cause, Server

FORMAT = "html"
KINDS = ("report", "triage")

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
PALETTE = ["#c0392b", "#8e44ad", "#d35400", "#2c3e50", "#b9770e", "#16a085", "#7f8c8d", "#a93226"]
STYLE = """
body{font:14px/1.45 system-ui,"Segoe UI","Microsoft YaHei",sans-serif;margin:24px;color:#1b1f23;max-width:1180px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
.prov{color:#555;font-size:12px;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;
vertical-align:top}
th{background:#f4f6f8}
.num{text-align:right}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;
color:#fff;font-size:12px;font-weight:600}
.failing{background:#c0392b}
.degraded{background:#d68910}
.healthy{background:#1e8449}
.no-data{background:#7f8c8d}
.cause{margin:0 0 12px}
.meta{color:#555;font-size:12px}
code{font-size:12px;overflow-wrap:anywhere}
svg{background:#fbfcfd;border:1px solid #e3e6e8}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.t{white-space:nowrap}
.banner{border:1px solid #d68910;background:#fef5e7;padding:6px 12px;margin:10px 0}
.banner ul{margin:4px 0 0;padding-left:20px}
ul.refs{margin:2px 0 0;padding-left:20px;font-size:12px}
ul.refs li{margin:2px 0;overflow-wrap:anywhere}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""


MAX_OPERATIONS = 200  # The operations table shows this many rows; the JSON report has them all.
TICK_STEPS = [timedelta(hours=h) for h in (1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 2160, 8760)]


def _e(value: Any) -> str:
    return escape("-" if value is None else clean(str(value)), quote=True)


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Time(str):
    """A time cell: shown to the second, never broken across lines."""


def _time(text: str | None) -> str:
    if not text:
        return "-"
    shown = r.short(text) or ""
    shown = shown.replace("T", " ").removesuffix("Z") + (" UTC" if shown.endswith("Z") else "")
    return f'<time class="t" datetime="{_e(text)}">{_e(shown)}</time>'


def _ticks(first: datetime, last: datetime) -> list[tuple[datetime, str]]:
    """Date ticks for the chart's axis: at most eight, on round hours or days."""
    span = last - first
    step = next((s for s in TICK_STEPS if span / s <= 8), TICK_STEPS[-1])
    origin = first.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = origin + step * -(-(first - origin) // step)
    ticks = []
    while moment <= last:
        label = moment.strftime("%Y-%m-%d" if step >= timedelta(days=1) else "%m-%d %H:%M")
        ticks.append((moment, label))
        moment += step
    return ticks


def _chart(server: Server, colours: dict[str, str], lang: str) -> str:
    first, last = _parse(server.first_event), _parse(server.last_event)
    if first is None or last is None:
        return ""
    width, left, right = 1100, 110, 20
    span = max((last - first).total_seconds(), 1.0)

    def x(moment: datetime | None) -> float:
        return left + (width - left - right) * ((moment or first) - first).total_seconds() / span

    rows = {"successes": 22, "failures": 47, "outage": 72}
    parts = [
        f'<svg width="{width}" height="110" viewBox="0 0 {width} 110" role="img" '
        f'aria-label="{_e(t("Timeline of writeback events", lang))}">'
    ]
    for label, y in rows.items():
        parts.append(f'<text x="6" y="{y + 4}" font-size="11" fill="#555">{_e(t(label, lang))}</text>')
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#e3e6e8"/>')
    for moment, label in _ticks(first, last):
        px = x(moment)
        parts.append(f'<line class="tick" x1="{px:.1f}" y1="12" x2="{px:.1f}" y2="90" stroke="#eef0f2"/>')
        parts.append(
            f'<text class="tick" x="{px:.1f}" y="104" font-size="11" fill="#555" text-anchor="middle">{label}</text>'
        )
    for outage in server.health.outages:
        x1, x2 = x(_parse(outage.start)), x(_parse(outage.recovered or outage.end))
        colour = colours.get(outage.cause or "", "#c0392b")
        parts.append(
            f'<rect x="{x1:.1f}" y="62" width="{max(x2 - x1, 2):.1f}" height="20" fill="{colour}" '
            f'fill-opacity="0.35"><title>{_e(outage.cause)}: {_e(r.short(outage.start))} → '
            f"{_e(r.short(outage.recovered or outage.end))}</title></rect>"
        )
    for op in server.operation_list or []:
        px = x(_parse(op.end or op.start))
        if op.outcome == "succeeded":
            parts.append(f'<line x1="{px:.1f}" y1="16" x2="{px:.1f}" y2="28" stroke="#1e8449"/>')
            continue
        colour = colours.get(op.cause or "", "#7f8c8d")
        title = (
            f"<title>{_e(t(op.outcome, lang))} {_e(t(r.KIND_NAMES[op.kind], lang))} {_e(op.user)} "
            f"{_e(op.cause)}</title>"
        )
        if op.outcome == "failed":
            parts.append(f'<circle cx="{px:.1f}" cy="47" r="4" fill="{colour}">{title}</circle>')
        else:
            parts.append(
                f'<rect x="{px - 4:.1f}" y="43" width="8" height="8" fill="none" stroke="{colour}">{title}</rect>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="sw" style="background:{c}"></i>{_e(cause)}</span>' for cause, c in colours.items()
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _cell(value: Any) -> str:
    return value if isinstance(value, Time) else _e(value)


def _table(headers: list[str], rows: list[list[Any]], lang: str, more: str | None = None) -> str:
    """A table; number columns right-aligned; `more`: a last row saying what was left out."""
    numeric = [bool(rows) and all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]
    kinds = [' class="num"' if n else "" for n in numeric]
    head = "".join(f"<th{k}>{_e(t(h, lang))}</th>" for h, k in zip(headers, kinds, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{k}>{_cell(v)}</td>" for v, k in zip(row, kinds, strict=True)) + "</tr>" for row in rows
    )
    if more:
        body += f'<tr class="more"><td colspan="{len(headers)}">{_e(more)}</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _times(row: list[Any], columns: tuple[int, ...]) -> list[Any]:
    return [Time(_time(v)) if i in columns and v and v != "-" else v for i, v in enumerate(row)]


def _cause(rank: int, cause: Cause, colour: str, lang: str) -> str:
    fixes = "".join(f"<li>{_e(f)}</li>" for f in cause.fixes)
    refs = "".join(
        f'<li><a href="{_e(ref)}" rel="noreferrer noopener">{_e(ref)}</a></li>'
        for ref in cause.references
        if ref.startswith("https://")
    )
    ids = ", ".join(f"<code>{_e(i)}</code>" for i in cause.tracking_ids)
    return (
        f'<div class="cause"><b><i class="sw" style="background:{colour}"></i>{rank}. {_e(cause.title)}</b> '
        f'<span class="meta">({_e(cause.id)}, {_e(t(cause.severity, lang))}) — '
        f"{_e(r.cause_figures(cause, lang))}; "
        f"{_time(cause.first_seen)} → {_time(cause.last_seen)}</span><p>{_e(cause.explanation)}</p>"
        + (
            f'<p class="meta">{_e(t("Evidence", lang))}: {_e("; ".join(evidence(e, lang) for e in cause.evidence))}</p>'
            if cause.evidence
            else ""
        )
        + f'<p class="meta">{_e(t("Tracking IDs", lang))}: {ids or "-"}</p>'
        f"<b>{_e(t('Fix, in order', lang))}</b><ol>{fixes}</ol>"
        f'<p class="meta">{_e(t("References", lang))}:</p><ul class="refs">{refs}</ul></div>'
    )


def _health(server: Server, lang: str) -> str:
    health = server.health
    gap = health.longest_heartbeat_gap
    service = ", ".join(f"{_e(e.name)} {_time(e.time)}" for e in health.service_events)
    beats = f"{health.heartbeats:,}, {_e(t('last', lang))} {_time(health.last_heartbeat)}"
    if gap:
        beats += (
            f", {_e(t('longest gap', lang))} {gap.minutes} {_e(t('min', lang))} ({_time(gap.start)} → {_time(gap.end)})"
        )
    out = (
        f"<h3>{_e(t('Service health', lang))}</h3><ul>"
        f"<li>{_e(t('Service starts and stops', lang))}: {service or _e(t('none in the log', lang))}</li>"
        f"<li>{_e(t('Heartbeats (31019)', lang))}: {beats}</li></ul>"
    )
    if health.outages:
        out += _table(r.OUTAGE_HEADERS, [_times(row, (0, 1, 4)) for row in r.outage_rows(server, lang)], lang)
    return out


def _operations(server: Server, lang: str) -> str:
    operations = server.operation_list or []
    rows = [
        _times(
            [
                o.start,
                t(r.KIND_NAMES[o.kind], lang),
                o.user,
                t(o.outcome, lang),
                o.cause,
                o.tracking_id,
            ],
            (0,),
        )
        for o in operations[:MAX_OPERATIONS]
    ]
    left = len(operations) - len(rows)
    more = f"{counted(left, 'operation', lang)} {t('more: every row is in the JSON report (-f json)', lang)}"
    return f"<h3>{_e(t('Operations table', lang))}</h3>" + _table(
        ["start", "kind", "user", "outcome", "cause", "tracking id"], rows, lang, more if left else None
    )


def _server(server: Server, lang: str) -> str:
    colours = {c.id: PALETTE[i % len(PALETTE)] for i, c in enumerate(server.causes)}
    status = server.status
    out = [
        f'<section class="server"><h2>{_e(server_label(server.computer, lang))} <span class="badge {_e(status)}">'
        f"{_e(t(status, lang))}</span></h2>",
        f"<p>{_e(t('Log coverage', lang))}: {_time(server.first_event)} → {_time(server.last_event)}"
        + (f"; {_e(t('Cloud', lang))}: {_e(server.cloud.title)}" if server.cloud else "")
        + "</p>",
    ]
    if server.incomplete:
        label, reason = t("Operation counts incomplete", lang), said(server.incomplete, lang)
        out.append(f'<p class="banner"><b>{_e(label)}:</b> {_e(reason)}</p>')
    if note := r.cloud_note(server, lang):
        out.append(f'<p class="banner">{_e(note)}</p>')
    if server.client_versions or server.namespaces:
        out.append(
            f"<p>{_e(t('Client version', lang))}: {_e(', '.join(server.client_versions) or '-')}; "
            f"{_e(t('Service Bus namespace', lang))}: {_e(r.namespace_line(server))}</p>"
        )
    out += [
        _chart(server, colours, lang),
        f"<h3>{_e(t('Operations', lang))}</h3>",
        _table(r.OPERATION_HEADERS, r.operation_counts(server, lang), lang),
        f"<h3>{_e(t('Root causes, by impact', lang))}</h3>",
    ]
    out += [_cause(i, c, colours[c.id], lang) for i, c in enumerate(server.causes, 1)] or [
        f"<p>{_e(t('No failures or outages found.', lang))}</p>"
    ]
    out.append(_health(server, lang))
    if server.checklist:
        items = "".join(f"<li>{_e(c.text)} ({_e(c.item)})</li>" for c in server.checklist)
        out.append(f"<h3>{_e(t('Prerequisites the evidence points at', lang))}</h3><ul>{items}</ul>")
    out.append(_operations(server, lang))
    return "".join(out) + "</section>"


def _banner(doc: Report, lang: str) -> str:
    lines = r.banner(doc, lang)
    if not lines:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f'<div class="banner" role="alert"><b>{_e(t("Read this first", lang))}:</b><ul>{items}</ul></div>'


def render(doc: Document, lang: str = "en", width: int | None = None) -> str:
    if not isinstance(doc, Report):
        raise TypeError(f"no {FORMAT} rendering of {type(doc).__name__}")
    title = t("Triage of password writeback servers" if isinstance(doc, Triage) else "Password writeback report", lang)
    body = [
        f'<header><h1>{_e(title)}</h1><p class="prov">{_e(r.provenance(doc, lang))}</p></header>',
        _banner(doc, lang),
        f"<h2>{_e(t('Summary', lang))}</h2>",
        _table(r.SUMMARY_HEADERS, [_times(row, (2, 3)) for row in r.summary_rows(doc, lang)], lang),
    ]
    if isinstance(doc, Triage) and doc.fleet.causes:
        body.append(f"<h3>{_e(t('Fleet causes', lang))}</h3>" + _table(r.FLEET_KEYS, r.fleet_rows(doc), lang))
    body += [_server(s, lang) for s in doc.servers]
    if doc.unknown_events:
        body.append(
            f"<h2>{_e(t('Writeback events the catalogue does not know', lang))}</h2>"
            + _table(r.UNKNOWN_HEADERS, r.unknown_rows(doc), lang)
        )
    body.append(f"<h2>{_e(t('Inputs', lang))}</h2>" + _table(r.INPUT_HEADERS, r.input_rows(doc, lang), lang))
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer"><title>{_e(title)}</title><style>{STYLE}</style></head>'
        f"<body>{''.join(body)}</body></html>\n"
    )
