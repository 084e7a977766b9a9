"""Issue 12, item 5: log text cannot inject into any text output (terminal escapes, spreadsheet
formulas, Markdown HTML/links/headings/rows); the neutralizing lives in analyzer/reports/textsafe.py."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.reports import textsafe
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import SCENARIOS
from tests.helpers import run_cli

COMPUTER = '=HYPERLINK("https://evil.example")\n# AADC66\x1b]0;owned\x07.contoso.com'
HOSTILE = [
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52 writes the clipboard.
    "\x1b[2J\x1b[H",  # CSI clears the screen.
    "\x9b31m\x9d0;title\x9c",  # These are C1 CSI and OSC.
    "<img src=x onerror=alert(1)>",
    "[click](https://evil.example) ![x](https://evil.example/x.png)",
    "\u202egnp.exe",
    "line\nbreak | pipe",
]
# Anything a terminal or a viewer would act on: C0 but tab, newline and CR; DEL; C1; bidi overrides.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    events = SCENARIOS["ad-permissions"][0]()
    out = []
    for i, event in enumerate(events):
        data = event.data
        if event.provider == "PasswordResetService" and data and "UserPrincipalName: " in data[0]:
            text = data[0].replace("UserPrincipalName: ", f"UserPrincipalName: {HOSTILE[i % len(HOSTILE)]}", 1)
            data = [f"=cmd|' /C calc'!A0 {text}", "+SUM(1)", "@import", "-2+3"]
        out.append(replace(event, computer=COMPUTER, data=data))
    path = tmp_path_factory.mktemp("hostile") / "hostile.evtx"
    path.write_bytes(evtx_bytes(out))
    return path


def _out(*args: str) -> str:
    code, out, err = run_cli(*args, env={"COLUMNS": "120"})
    assert code == 0, err
    assert not CONTROL.search(err)
    return out


FORMATS = [
    ("report", "table"),
    ("report", "markdown"),
    ("report", "json"),
    ("triage", "table"),
    ("triage", "markdown"),
    ("timeline", "table"),
    ("timeline", "markdown"),
    ("timeline", "csv"),
    ("timeline", "json"),
    ("timeline", "jsonl"),
    ("events", "table"),
    ("events", "csv"),
    ("events", "jsonl"),
    ("files", "table"),
    ("files", "csv"),
    ("files", "json"),
]


@pytest.mark.parametrize(("command", "fmt"), FORMATS)
def test_no_control_character_reaches_any_text_output(hostile: Path, command: str, fmt: str) -> None:
    text = _out(command, str(hostile), "-f", fmt, *(["--all"] if command == "timeline" else []))
    found = CONTROL.search(text)
    assert found is None, (command, fmt, text[max(found.start() - 40, 0) : found.end() + 40])
    if fmt in ("json", "jsonl"):  # JSON escapes them and keeps the exact text.
        values = [json.loads(line) for line in text.splitlines()] if fmt == "jsonl" else [json.loads(text)]
        kept = json.dumps(values, ensure_ascii=False)
        assert json.dumps(COMPUTER, ensure_ascii=False)[1:-1] in kept
        if command in ("events", "timeline"):  # They show the event text itself.
            assert "\x9b31m" in kept


@pytest.mark.parametrize("command", ["events", "timeline", "files"])
def test_csv_cells_cannot_start_a_formula(hostile: Path, command: str) -> None:
    text = _out(command, str(hostile), "-f", "csv", *(["--all"] if command == "timeline" else []))
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows[1:] for c in row]
    assert cells and not [c for c in cells if c.startswith(FORMULA)]
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def _pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


@pytest.mark.parametrize("command", ["report", "triage", "timeline"])
def test_markdown_has_no_html_links_or_broken_rows(hostile: Path, command: str) -> None:
    text = _out(command, str(hostile), "-f", "markdown")
    assert "<img" not in text and "](https://evil" not in text and "![" not in text
    assert not [line for line in text.splitlines() if line.startswith("# AADC66")]
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all(re.match(r"#{1,4} \S", h) for h in headings)
    table: int | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            table = None
            continue
        if table is None:
            table = _pipes(line)
        assert _pipes(line) == table, line


def test_the_functions() -> None:
    assert textsafe.clean("a\x1b[2Jb\x07\x9b\tc\nd") == "a\\x1b[2Jb\\x07\\x9b c d"
    assert textsafe.clean("a\x1b\tb\nc", lines=True) == "a\\x1b\tb\nc"
    assert textsafe.clean("中文 plain") == "中文 plain"
    assert [textsafe.csv_cell(v) for v in ("=1+1", "+1", "-1", "@x", "\tx", "\rx", "ok", 5)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "\\x0dx",  # A lone CR is shown, not kept.
        "ok",
        5,
    ]
    assert textsafe.markdown("<b>[x](y)</b> | a\nb") == "&lt;b&gt;\\[x\\](y)&lt;/b&gt; \\| a b"
    assert textsafe.code_span("a`b") == "`` a`b ``"
    assert json.loads(textsafe.json_text(json.dumps("\x9b\u202e", ensure_ascii=False))) == "\x9b\u202e"
    assert "\x9b" not in textsafe.json_text(json.dumps("\x9b", ensure_ascii=False))
