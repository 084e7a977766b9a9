"""`wba explain` as text or Markdown: per pasted event, its meaning, the cause and why, the fixes."""

from __future__ import annotations

import textwrap
from typing import Any

from analyzer.reports.i18n import t

WIDTH = 100


def _heading(item: dict[str, Any], lang: str) -> str:
    entry = item["entry"]
    name = f"{item['provider']} {item['event_id']}"
    return f"{name}: {entry['title']} ({entry['name']})" if entry else f"{name}: {t('not in the catalogue', lang)}"


def render_text(doc: dict[str, Any], lang: str = "en") -> str:
    out: list[str] = []

    def para(text: str, indent: str = "  ") -> None:
        out.extend(textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ") or [indent])

    for item in doc["events"]:
        out.append(_heading(item, lang))
        if item["entry"]:
            para(item["entry"]["meaning"])
        if item["tracking_id"]:
            para(f"{t('tracking id', lang)}: {item['tracking_id']}")
        cause = item["cause"]
        if cause:
            para(f"{t('cause', lang)}: {cause['title']} [{cause['id']}, {cause['severity']}, {cause['scope']}]")
            para(f"{t('evidence', lang)}: {item['evidence']}", "    ")
            para(cause["explanation"], "    ")
            for i, fix in enumerate(item["fixes"], 1):
                para(f"{i}) {fix}", "    ")
        elif item["entry"]:
            para(t("Informational: no cause, nothing to fix.", lang))
        for ref in item["references"]:
            para(ref, "    ")
        out.append("")
    out += [f"{t('unreadable', lang)}: {p}" for p in doc["unreadable"]]
    return "\n".join(out).rstrip("\n") + "\n"


def render_markdown(doc: dict[str, Any], lang: str = "en") -> str:
    out: list[str] = []
    for item in doc["events"]:
        out += [f"## {_heading(item, lang)}", ""]
        if item["entry"]:
            out += [item["entry"]["meaning"], ""]
        if item["tracking_id"]:
            out += [f"{t('Tracking IDs', lang)}: `{item['tracking_id']}`", ""]
        cause = item["cause"]
        if cause:
            out += [f"**{cause['title']}** (`{cause['id']}`, {cause['severity']}, {cause['scope']})", ""]
            out += [f"{t('Evidence', lang)}: {item['evidence']}", "", cause["explanation"], ""]
            out += [f"{t('Fix, in order', lang)}:", ""] + [f"{i}. {f}" for i, f in enumerate(item["fixes"], 1)] + [""]
        if item["references"]:
            out += [f"{t('References', lang)}:", ""] + [f"- <{r}>" for r in item["references"]] + [""]
    out += [f"- {t('unreadable', lang)}: {p}" for p in doc["unreadable"]]
    return "\n".join(out).rstrip("\n") + "\n"
