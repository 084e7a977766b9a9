"""One self-contained HTML file for escalations: inline CSS and SVG, no script, nothing fetched.

A Content-Security-Policy forbids every external load and all scripts, and every
string from the logs is escaped, so hostile event text stays inert.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from analyzer.reports.document import local_time_banner
from analyzer.reports.i18n import t
from analyzer.reports.markdown import KIND_NAMES, SUMMARY_HEADERS, operation_counts, provenance, summary_rows

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
PALETTE = ["#c0392b", "#8e44ad", "#d35400", "#2c3e50", "#b9770e", "#16a085", "#7f8c8d", "#a93226"]
STYLE = """
body{font:14px/1.45 system-ui,"Segoe UI","Microsoft YaHei",sans-serif;margin:24px;color:#1b1f23;max-width:1180px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
.prov{color:#555;font-size:12px;overflow-wrap:anywhere}
.banner{background:#fff4d6;border:1px solid #d68910;padding:6px 10px;overflow-wrap:anywhere}
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
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""


def _e(value: Any) -> str:
    return escape("-" if value is None else str(value), quote=True)


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _chart(server: dict[str, Any], colours: dict[str, str], lang: str) -> str:
    first, last = _parse(server["first_event"]), _parse(server["last_event"])
    if first is None or last is None:
        return ""
    width, left, right = 1100, 110, 20
    span = max((last - first).total_seconds(), 1.0)

    def x(text: str | None) -> float:
        moment = _parse(text) or first
        return left + (width - left - right) * (moment - first).total_seconds() / span

    rows = {"successes": 22, "failures": 47, "outage": 72}
    parts = [
        f'<svg width="{width}" height="110" viewBox="0 0 {width} 110" role="img" '
        f'aria-label="{_e(t("Timeline of writeback events", lang))}">'
    ]
    for label, y in rows.items():
        parts.append(f'<text x="6" y="{y + 4}" font-size="11" fill="#555">{_e(t(label, lang))}</text>')
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#e3e6e8"/>')
    for outage in server["health"]["outages"]:
        x1, x2 = x(outage["start"]), x(outage["recovered"] or outage["end"])
        colour = colours.get(outage["cause"] or "", "#c0392b")
        parts.append(
            f'<rect x="{x1:.1f}" y="62" width="{max(x2 - x1, 2):.1f}" height="20" fill="{colour}" '
            f'fill-opacity="0.35"><title>{_e(outage["cause"])}: {_e(outage["start"])} → '
            f"{_e(outage['recovered'] or outage['end'])}</title></rect>"
        )
    for op in server["operation_list"]:
        px = x(op["end"] or op["start"])
        if op["outcome"] == "succeeded":
            parts.append(f'<line x1="{px:.1f}" y1="16" x2="{px:.1f}" y2="28" stroke="#1e8449"/>')
        else:
            colour = colours.get(op["cause"] or "", "#7f8c8d")
            shape = "circle" if op["outcome"] == "failed" else "rect"
            title = f"<title>{_e(op['outcome'])} {_e(op['kind'])} {_e(op['user'])} {_e(op['cause'])}</title>"
            if shape == "circle":
                parts.append(f'<circle cx="{px:.1f}" cy="47" r="4" fill="{colour}">{title}</circle>')
            else:
                parts.append(
                    f'<rect x="{px - 4:.1f}" y="43" width="8" height="8" fill="none" stroke="{colour}">{title}</rect>'
                )
    parts.append(f'<text x="{left}" y="104" font-size="11" fill="#555">{_e(server["first_event"])}</text>')
    parts.append(
        f'<text x="{width - right}" y="104" font-size="11" fill="#555" text-anchor="end">'
        f"{_e(server['last_event'])}</text></svg>"
    )
    legend = "".join(
        f'<span><i class="sw" style="background:{c}"></i>{_e(cause)}</span>' for cause, c in colours.items()
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _table(headers: list[str], rows: list[list[Any]], lang: str) -> str:
    head = "".join(f"<th>{_e(t(h, lang))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cause(rank: int, cause: dict[str, Any], colour: str, lang: str) -> str:
    fixes = "".join(f"<li>{_e(f)}</li>" for f in cause["fixes"])
    refs = " ".join(
        f'<a href="{_e(r)}" rel="noreferrer noopener">{_e(r)}</a>'
        for r in cause["references"]
        if r.startswith("https://")
    )
    ids = ", ".join(f"<code>{_e(i)}</code>" for i in cause["tracking_ids"])
    return (
        f'<div class="cause"><b><i class="sw" style="background:{colour}"></i>{rank}. {_e(cause["title"])}</b> '
        f'<span class="meta">({_e(cause["id"])}, {_e(cause["severity"])}) — {cause["operations"]} '
        f"{_e(t('failed or unfinished operations', lang))}, {cause['users']} {_e(t('users', lang))}, "
        f"{cause['events']} {_e(t('events', lang))} ({_e(', '.join(map(str, cause['event_ids'])))}); "
        f"{_e(cause['first_seen'])} → {_e(cause['last_seen'])}</span><p>{_e(cause['explanation'])}</p>"
        + (
            f'<p class="meta">{_e(t("Evidence", lang))}: {_e("; ".join(cause["evidence"]))}</p>'
            if cause["evidence"]
            else ""
        )
        + f'<p class="meta">{_e(t("Tracking IDs", lang))}: {ids or "-"}</p>'
        f'<b>{_e(t("Fix, in order", lang))}</b><ol>{fixes}</ol><p class="meta">{refs}</p></div>'
    )


def _server(server: dict[str, Any], lang: str) -> str:
    colours = {c["id"]: PALETTE[i % len(PALETTE)] for i, c in enumerate(server["causes"])}
    status = server["status"]
    out = [
        f'<section class="server"><h2>{_e(server["computer"])} <span class="badge {_e(status)}">'
        f"{_e(t(status, lang))}</span></h2>",
        f"<p>{_e(t('Log coverage', lang))}: {_e(server['first_event'])} → {_e(server['last_event'])}"
        + (f"; {_e(t('Cloud', lang))}: {_e(server['cloud']['title'])}" if server["cloud"] else "")
        + "</p>",
        _chart(server, colours, lang),
    ]
    ops = operation_counts(server, lang)
    out += [
        f"<h3>{_e(t('Operations', lang))}</h3>",
        _table(["kind", "started", "succeeded", "failed", "unfinished", "success rate"], ops, lang),
        f"<h3>{_e(t('Root causes, by impact', lang))}</h3>",
    ]
    out += [_cause(i, c, colours[c["id"]], lang) for i, c in enumerate(server["causes"], 1)] or [
        f"<p>{_e(t('No failures or outages found.', lang))}</p>"
    ]
    health = server["health"]
    out.append(
        f"<h3>{_e(t('Service health', lang))}</h3><p>{_e(t('Heartbeats (31019)', lang))}: "
        f"{health['heartbeats']}, {_e(t('last', lang))} {_e(health['last_heartbeat'])}</p>"
    )
    if health["outages"]:
        out.append(
            _table(
                ["outage start", "last error", "errors", "cause", "recovered"],
                [[o["start"], o["end"], o["events"], o["cause"], o["recovered"]] for o in health["outages"]],
                lang,
            )
        )
    if server["checklist"]:
        items = "".join(f"<li>{_e(c['text'])} ({_e(c['item'])})</li>" for c in server["checklist"])
        out.append(f"<h3>{_e(t('Prerequisites the evidence points at', lang))}</h3><ul>{items}</ul>")
    rows = [
        [o["start"], t(KIND_NAMES[o["kind"]], lang), o["user"], o["outcome"], o["cause"], o["tracking_id"]]
        for o in server["operation_list"]
    ]
    out.append(
        f"<h3>{_e(t('Operations table', lang))}</h3>"
        + _table(["start", "kind", "user", "outcome", "cause", "tracking id"], rows, lang)
    )
    return "".join(out) + "</section>"


def render(doc: dict[str, Any], lang: str = "en") -> str:
    title = t("Triage of password writeback servers" if "fleet" in doc else "Password writeback report", lang)
    body = [
        f'<header><h1>{_e(title)}</h1><p class="prov">{_e(provenance(doc, lang))}</p></header>',
        f'<p class="banner">{_e(t(banner, lang))}</p>' if (banner := local_time_banner(doc)) else "",
        f"<h2>{_e(t('Summary', lang))}</h2>",
        _table(
            SUMMARY_HEADERS,
            summary_rows(doc, lang),
            lang,
        ),
    ]
    if doc.get("fleet", {}).get("causes"):
        body.append(
            f"<h3>{_e(t('Fleet causes', lang))}</h3>"
            + _table(
                ["cause", "title", "servers", "operations", "events"],
                [[c["id"], c["title"], c["servers"], c["operations"], c["events"]] for c in doc["fleet"]["causes"]],
                lang,
            )
        )
    body += [_server(s, lang) for s in doc["servers"]]
    body.append(
        f"<h2>{_e(t('Inputs', lang))}</h2>"
        + _table(
            ["path", "kind", "sha256", "records", "unreadable", "problem"],
            [
                [i["path"], i["kind"], i["sha256"], i["records"], i["unreadable"], i["error"] or i["note"]]
                for i in doc["inputs"]
            ],
            lang,
        )
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer"><title>{_e(title)}</title><style>{STYLE}</style></head>'
        f"<body>{''.join(body)}</body></html>\n"
    )
