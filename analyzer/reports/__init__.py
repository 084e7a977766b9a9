"""Report renderers: format name -> function(document) -> text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from analyzer.reports import html, markdown, table, triage

if TYPE_CHECKING:
    from collections.abc import Callable


def _json(doc: dict[str, Any], lang: str = "en") -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "table": table.render,
    "markdown": markdown.render,
    "json": _json,
    "html": html.render,
}

TRIAGE_RENDERERS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "table": triage.render_table,
    "markdown": triage.render_markdown,
    "json": _json,
    "html": html.render,
}
