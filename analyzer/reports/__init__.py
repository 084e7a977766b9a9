"""Renderers: one module per format (`table`, `markdown`, `json`, `html`), each of the same shape:
`FORMAT`, the document `KINDS` it renders, and `render(doc, lang, width) -> str` for those documents
(`reports/model.py`). `RENDERERS` below is the one place that maps (kind, format) to its module; a
module is imported only when its format is asked for (tabulate and the HTML template cost start-up
time). `width`: the terminal's width for tables to fit, or None for every column whole."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.reports.json import Document

# Each kind of document (`Document.KIND`: report, triage, explain, diff) and format, and the module
# that renders it.
RENDERERS = {
    (kind, fmt): fmt
    for fmt, kinds in {
        "table": ("report", "triage", "explain", "diff"),
        "markdown": ("report", "triage", "explain", "diff"),
        "json": ("report", "triage", "explain", "diff"),
        "html": ("report", "triage"),
    }.items()
    for kind in kinds
}


def formats(kind: str) -> tuple[str, ...]:
    """The formats a kind of document can be rendered in."""
    return tuple(fmt for (of, fmt) in RENDERERS if of == kind)


def render(doc: Document, fmt: str, lang: str = "en", width: int | None = None) -> str:
    """`doc` in format `fmt`; ValueError when that format does not render that kind of document."""
    module = RENDERERS.get((doc.KIND, fmt))
    if module is None:
        raise ValueError(f"no {fmt} rendering of a {doc.KIND} document")
    found: str = import_module(f"analyzer.reports.{module}").render(doc, lang, width)
    return found
