"""Report renderers: format name -> function(document, lang, width) -> text. Each renderer's module is
imported only when its format is asked for (tabulate and the HTML template cost start-up time).
`width`: the terminal's width for tables to fit, or None for every column whole."""

from __future__ import annotations

import json
from importlib import import_module
from typing import TYPE_CHECKING, Any

from analyzer.textsafe import json_text

if TYPE_CHECKING:
    from collections.abc import Callable

    Renderer = Callable[[dict[str, Any], str, int | None], str]

# kind of document -> format -> (module, function): `wba report`, `wba triage`, `wba explain`
_RENDERERS = {
    "report": {"table": ("table", "render"), "markdown": ("markdown", "render"), "html": ("html", "render")},
    "triage": {
        "table": ("triage", "render_table"),
        "markdown": ("triage", "render_markdown"),
        "html": ("html", "render"),
    },
    "explain": {"table": ("explanation", "render_text"), "markdown": ("explanation", "render_markdown")},
}


def _json(doc: dict[str, Any], lang: str = "en", width: int | None = None) -> str:
    return json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def renderer(fmt: str, kind: str = "report") -> Renderer:
    if fmt == "json":
        return _json
    module, function = _RENDERERS[kind][fmt]
    return getattr(import_module(f"analyzer.reports.{module}"), function)
