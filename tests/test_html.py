"""The HTML escalation report renders in headless Chromium, fetches nothing, runs nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.evtxwriter import write_evtx
from analyzer.evtxwriter.scenarios import SCENARIOS
from tests import browser
from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.skipif(
    browser.chromium() is None and not browser.required(), reason="chromium not installed (CI installs it)"
)


def _html(args: list[str], target: Path) -> Path:
    result = CliRunner().invoke(app, [*args, "-f", "html", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    return target


def test_triage_html_renders_without_errors_or_requests(tmp_path: Path) -> None:
    page = _html(["triage", str(SAMPLES), "-q"], tmp_path / "triage.html")
    run = browser.load(
        page,
        [
            "document.querySelectorAll('section.server').length",
            "document.querySelectorAll('svg circle').length",
            "document.scripts.length",
        ],
        screenshot=True,
    )
    assert run.console_errors == [] and run.exceptions == [] and run.requests == []
    values = list(run.values.values())
    assert values[0] == 5 and values[1] > 50 and values[2] == 0
    assert run.screenshot.startswith(b"\x89PNG")


def test_hostile_event_text_is_inert(tmp_path: Path) -> None:
    events = SCENARIOS["ad-permissions"][0]()
    hostile = [
        'x"><script>console.error("pwned")</script>',
        "<img/src=x/onerror=console.error(1)>",
        "javascript:alert(1)//",
        "\u202egnp.exe",
        "<style>body{display:none}</style>",
        "<a/href='https://attacker.example/'>x</a>",
        "\x07\x1b[31mred\x1b[0m\x08\x7f",  # control characters
    ]
    for i, event in enumerate(events):
        if event.provider == "PasswordResetService" and "Details: " in event.data[0]:
            text = event.data[0].replace("Details: ", f"Details: {hostile[i % len(hostile)]}", 1)
            events[i] = replace(event, data=[text])
    log = tmp_path / "hostile.evtx"
    with log.open("wb") as fh:
        write_evtx(fh, events)
    page = _html(["report", str(log)], tmp_path / "hostile.html")
    run = browser.load(
        page,
        [
            "document.scripts.length",
            "document.querySelectorAll('img, body style, a[href^=javascript]').length",
            "getComputedStyle(document.body).display",
            "[...document.querySelectorAll('a')].every(a => a.href.startsWith('https://learn.microsoft.com'))",
        ],
    )
    assert run.console_errors == [] and run.exceptions == [] and run.requests == []
    assert list(run.values.values()) == [0, 0, "block", True]
    assert "&lt;script&gt;" in page.read_text(encoding="utf-8")


def test_docs_screenshot_is_current() -> None:
    assert (ROOT / "docs" / "triage-report.png").read_bytes().startswith(b"\x89PNG")
