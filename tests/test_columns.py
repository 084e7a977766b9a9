"""Terminal tables fit COLUMNS (issue 10 item 7), align with wide characters, and `--wide` shows all."""

from __future__ import annotations

import pytest
from wcwidth import wcswidth

from analyzer.reports.columns import fit, shorten, wrap
from tests.conftest import SAMPLES
from tests.helpers import run_cli

COMMANDS = [
    ["report", str(SAMPLES)],
    ["report", str(SAMPLES), "--lang", "zh-CN"],
    ["triage", str(SAMPLES), "-q"],
    ["triage", str(SAMPLES), "-q", "--lang", "zh-CN"],
    ["timeline", str(SAMPLES)],
    ["timeline", str(SAMPLES), "--operations"],
    ["diff", str(SAMPLES / "healthy.evtx"), str(SAMPLES)],
    ["files", str(SAMPLES)],
    ["events", str(SAMPLES / "healthy.evtx")],
]


def _lines(args: list[str], columns: str = "80") -> list[str]:
    code, out, err = run_cli(*args, env={"COLUMNS": columns})
    assert code == 0, err
    return out.splitlines()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:1] + a[2:]))
def test_tables_fit_80_columns(args: list[str]) -> None:
    lines = _lines(args)
    wide = [line for line in lines if wcswidth(line) > 80]
    assert lines and wide == []


@pytest.mark.parametrize("args", COMMANDS[:4], ids=lambda a: " ".join(a[:1] + a[2:]))
def test_wide_shows_every_column(args: list[str]) -> None:
    narrow, wide = _lines(args), _lines([*args, "--wide"])
    assert max(map(wcswidth, wide)) > 80
    assert len(wide[0].split()) > len(narrow[0].split())  # The first table has more columns.
    assert "…" not in wide[2]


def test_times_in_tables_are_to_the_second() -> None:
    first_row = _lines(["report", str(SAMPLES), "--wide"])[2]
    assert "2026-11-18T00:00:08Z" in first_row and ".385311" not in first_row


def test_wide_characters_stay_aligned() -> None:
    lines = _lines(["triage", str(SAMPLES), "-q", "--lang", "zh-CN", "--wide"], "200")
    rule = lines[1]
    assert set(rule) == {"-", " "} and len(lines) >= 7
    starts = [i for i, c in enumerate(rule) if c == "-" and (i == 0 or rule[i - 1] == " ")]
    assert len(starts) == len(lines[0].split()) > 5  # One rule per column; the headers hold no space.
    for row in lines[2:7]:  # Every cell starts where its column does, measured in terminal cells.
        for start in starts[1:]:
            prefix = next(row[:i] for i in range(len(row) + 1) if wcswidth(row[:i]) >= start)
            assert wcswidth(prefix) == start and prefix.endswith("  "), (row, start)


def test_fit_drops_then_shortens() -> None:
    keys = ["server", "status", "first", "cause"]
    rows = [["AADC02.corp.fabrikam.com", "failing", "2026-11-18T00:00:08Z", "connector-permissions"]]
    keep, cells = fit(keys, keys, rows, 50, drop=["first"], shrink={"server": 10, "cause": 10})
    assert [keys[i] for i in keep] == ["server", "status", "cause"]
    assert sum(wcswidth(c) for c in cells[0]) + 2 * 2 <= 50 and cells[0][0].endswith("…")
    assert fit(keys, keys, rows, None)[1] == rows


def test_shorten_and_wrap_measure_terminal_cells() -> None:
    assert shorten("服务总线证书不受信任", 7) == "服务总…" and wcswidth(shorten("服务总线证书不受信任", 7)) == 7
    lines = wrap("根本原因 " * 30, 40, "", "   ")
    assert len(lines) > 1 and all(wcswidth(line) <= 40 for line in lines)
    assert wrap("a " + "/long/path" * 10, 20) == ["a", "/long/path" * 10]
