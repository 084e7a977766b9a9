"""`wba explain` as text or Markdown: per pasted event, its meaning, the cause and why, the fixes.
Pasted text is the customer's: every value goes through `textsafe` like report text does."""

from __future__ import annotations

import textwrap
from typing import Any

from analyzer.reports.i18n import t
from analyzer.textsafe import clean, code_span, markdown

WIDTH = 100


def _heading(item: dict[str, Any], lang: str) -> str:
    entry = item["entry"]
    name = f"{item['provider']} {item['event_id']}"
    return f"{name}: {entry['title']} ({entry['name']})" if entry else f"{name}: {t('not in the catalogue', lang)}"


def render_text(doc: dict[str, Any], lang: str = "en", width: int | None = None) -> str:
    out: list[str] = []
    wrap = max(40, min(width or WIDTH, WIDTH))

    def para(text: str, indent: str = "  ") -> None:
        lines = textwrap.wrap(
            clean(text),
            wrap,
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_on_hyphens=False,
            break_long_words=False,
        )
        out.extend(lines or [indent])

    for item in doc["events"]:
        out.append(clean(_heading(item, lang)))
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
        out.extend(f"    {clean(ref)}" for ref in item["references"])  # links whole, never wrapped
        out.append("")
    out += [clean(f"{t('unreadable', lang)}: {p}") for p in doc["unreadable"]]
    return "\n".join(out).rstrip("\n") + "\n"


def render_markdown(doc: dict[str, Any], lang: str = "en", width: int | None = None) -> str:
    out: list[str] = []
    for item in doc["events"]:
        out += [f"## {markdown(_heading(item, lang))}", ""]
        if item["entry"]:
            out += [markdown(item["entry"]["meaning"]), ""]
        if item["tracking_id"]:
            out += [f"{t('Tracking IDs', lang)}: {code_span(item['tracking_id'])}", ""]
        cause = item["cause"]
        if cause:
            out += [f"**{markdown(cause['title'])}** (`{cause['id']}`, {cause['severity']}, {cause['scope']})", ""]
            out += [f"{t('Evidence', lang)}: {markdown(item['evidence'])}", "", markdown(cause["explanation"]), ""]
            out += [f"{t('Fix, in order', lang)}:", ""]
            out += [f"{i}. {markdown(f)}" for i, f in enumerate(item["fixes"], 1)] + [""]
        if item["references"]:
            out += [f"{t('References', lang)}:", ""] + [f"- <{r}>" for r in item["references"]] + [""]
    out += [f"- {t('unreadable', lang)}: {markdown(p)}" for p in doc["unreadable"]]
    return "\n".join(out).rstrip("\n") + "\n"
