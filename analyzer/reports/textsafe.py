"""Log text made inert for every text output: terminal tables, Markdown, CSV, JSON, stderr lines.

Event text comes from customers' logs and is untrusted. Control characters (C0 but tab and
newline, DEL, C1) and the bidirectional overrides are shown as visible escapes (`\\x1b`), so an
escape sequence cannot retitle the terminal, write the clipboard (OSC 52) or clear the screen;
CSV cells cannot start a spreadsheet formula (OWASP: prefix `'`); Markdown cells cannot carry HTML,
links, images or line breaks, so a hostile computer name cannot start a heading or break a row.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\r\n\t]+")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN = re.compile(r"[\\`*_\[\]<>|!&#]")
_MARKDOWN_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str, lines: bool = False) -> str:
    """`text` with control characters shown as escapes; with `lines`, newlines and tabs are kept,
    otherwise each run of them becomes one space (a table cell or one line of stderr)."""
    if text.isprintable():
        return text  # the common case, and the fastest check there is
    if lines:
        return _CONTROL.sub(_visible, text)
    return _CONTROL_OR_BREAK.sub(_visible, _BREAKS.sub(" ", text))


def cell(value: Any) -> str:
    """A table cell for a terminal: one line, no control characters; None is `-`."""
    return "-" if value is None else clean(str(value))


def csv_cell(value: Any) -> Any:
    """A CSV cell: controls escaped (newlines and tabs kept: the CSV writer quotes them), and text
    that a spreadsheet would read as a formula prefixed with `'`. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    text = clean(value, lines=True)
    return "'" + text if text.startswith(_FORMULA) else text


def markdown(value: Any) -> str:
    """Log text for Markdown, in a table cell or inline: one line, no HTML, no link or image syntax,
    no emphasis, code spans or headings, `|` escaped. None is `-`."""
    if value is None:
        return "-"
    text = cell(value)
    return _MARKDOWN.sub(lambda m: _MARKDOWN_ESCAPES.get(m.group(), "\\" + m.group()), text)


def json_text(text: str) -> str:
    """JSON text as `json.dumps(..., ensure_ascii=False)` writes it, with C1 controls and bidi
    overrides as `\\u` escapes too (json escapes only C0); the same JSON value."""
    if text.isascii() or not _C1.search(text):
        return text
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def code_span(value: Any) -> str:
    """Log text as a Markdown code span (shown literally): one line, fenced by more backticks
    than it holds in a row."""
    text = cell(value)
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if runs else ""
    return f"{fence}{pad}{text}{pad}{fence}"
