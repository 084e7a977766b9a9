"""Terminal tables that fit the width they are given: the less important columns are dropped,
long text columns shortened with `…`, widths measured in terminal cells (wide CJK characters count
two, through wcwidth, which tabulate also uses to align them). No width: every column, whole."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from analyzer.reports.textsafe import cell

if TYPE_CHECKING:
    from collections.abc import Sequence

GAP = 2  # Tabulate's "simple" style puts this many spaces between columns.
PADDING = 2  # Tabulate makes each column at least this much wider than its header.


def width_of(text: str) -> int:
    """Terminal cells `text` takes (wide characters count two)."""
    if text.isascii():
        return len(text)  # Cleaned ASCII text has no control characters: one cell each.
    from wcwidth import wcswidth  # Imported when first needed, as tabulate below: both cost start-up time.

    found = wcswidth(text)
    return found if found >= 0 else len(text)


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` terminal cells, ending in `…` when cut (reads no further than it must:
    event data can be long)."""
    if text.isascii():
        return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
    from wcwidth import wcwidth

    out: list[str] = []
    used = 0
    for char in text:
        size = max(wcwidth(char), 0)
        if used + size > limit:
            while out and used + 1 > limit:  # Make room for the ellipsis.
                used -= max(wcwidth(out.pop()), 0)
            return "".join(out) + "…"
        out.append(char)
        used += size
    return text


def fit(
    keys: list[str],
    labels: list[str],
    rows: list[list[Any]],
    width: int | None,
    drop: Sequence[str] = (),
    shrink: dict[str, int] | None = None,
) -> tuple[list[int], list[list[str]]]:
    """The columns to show (indexes) and their cells (one-line text) so that the table fits
    `width`: columns named in `drop` go, first to last, while the table cannot fit even with the
    `shrink` columns at their minimum widths; then those columns are shortened, the widest first."""
    cells = [[cell(v) for v in row] for row in rows]
    keep = list(range(len(keys)))
    if width is None:
        return keep, cells
    shrink = shrink or {}

    def natural(i: int) -> int:
        return max([width_of(labels[i]) + PADDING] + [width_of(row[i]) for row in cells])

    def least(i: int) -> int:
        return min(natural(i), max(shrink.get(keys[i], natural(i)), width_of(labels[i]) + PADDING))

    for name in drop:
        if sum(least(i) for i in keep) + GAP * (len(keep) - 1) <= width:
            break
        if name in keys and keys.index(name) in keep and len(keep) > 1:
            keep.remove(keys.index(name))
    sizes = {i: natural(i) for i in keep}
    excess = sum(sizes.values()) + GAP * (len(keep) - 1) - width
    while excess > 0:
        room = {i: sizes[i] - least(i) for i in keep if sizes[i] > least(i)}
        if not room:
            break
        widest = max(room, key=lambda i: sizes[i])
        step = sizes[widest] - max((sizes[j] for j in keep if j != widest), default=0)
        cut = min(room[widest], excess, max(step, 1))
        sizes[widest] -= cut
        excess -= cut
    return keep, [[shorten(row[i], sizes[i]) for i in keep] for row in cells]


def grid(
    keys: list[str],
    rows: list[list[Any]],
    width: int | None = None,
    drop: Sequence[str] = (),
    shrink: dict[str, int] | None = None,
    labels: list[str] | None = None,
) -> str:
    """A plain-text table for a terminal (tabulate's "simple" style) fitted to `width`; `labels`
    are the headers shown (translated `keys`); number columns are right-aligned."""
    from tabulate import tabulate

    labels = labels or keys
    numeric = [bool(rows) and all(isinstance(row[i], int | float) for row in rows) for i in range(len(keys))]
    keep, cells = fit(keys, labels, rows, width, drop, shrink)
    return tabulate(
        cells,
        headers=[labels[i] for i in keep],
        tablefmt="simple",
        disable_numparse=True,
        colalign=["right" if numeric[i] else "left" for i in keep],
    )


_UNITS = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+")


def wrap(text: str, limit: int, indent: str = "", subsequent: str = "") -> list[str]:
    """`text` in lines of at most `limit` terminal cells: broken at spaces, or between any two
    Chinese characters; a word longer than a line (a path) is kept whole."""
    lines: list[str] = []
    line, used = indent, width_of(indent)
    for unit in _UNITS.findall(cell(text)):
        size = width_of(unit)
        if unit.isspace():
            if used > width_of(indent if not lines else subsequent):
                line, used = line + " ", used + 1
            continue
        if used + size > limit and line.strip():
            lines.append(line.rstrip())
            line, used = subsequent, width_of(subsequent)
        line, used = line + unit, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines
