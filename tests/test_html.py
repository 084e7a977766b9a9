"""The HTML escalation report renders in headless Chromium, fetches nothing, runs nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.testkit import write_evtx
from analyzer.testkit.scenarios import SCENARIOS
from tests import browser
from tests.conftest import SAMPLES

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
    shot = browser.picture(run.screenshot)  # It must be whole and drawn: a blank page has one or two different rows.
    assert shot.width == 1280 and shot.distinct_rows > shot.height // 5


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


def _page(tmp_path: Path, args: list[str], name: str = "page.html") -> Path:
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / name)])
    assert result.exit_code in (0, 4), result.stderr
    return tmp_path / name


def test_banner_times_numbers_ticks_and_links(tmp_path: Path) -> None:
    bad = tmp_path / "broken.evtx"
    bad.write_bytes(b"not a log")
    page = _page(tmp_path, ["report", str(SAMPLES / "connectivity-outage.evtx"), str(bad)], "report.html")
    run = browser.load(
        page,
        [
            # the banner is the first thing after the title, and names the unreadable input
            "document.querySelector('header').nextElementSibling.className",
            "document.querySelector('.banner').textContent.includes('broken.evtx')",
            # times never break across lines
            "[...document.querySelectorAll('.t')].every(t => t.getClientRects().length === 1)",
            "document.querySelectorAll('.t').length > 20",
            # number cells are right-aligned, text cells are not
            "[...document.querySelectorAll('td.num')].every(c => getComputedStyle(c).textAlign === 'right')",
            "document.querySelectorAll('td.num').length > 10",
            "getComputedStyle(document.querySelector('td:not(.num)')).textAlign",
            # the chart's axis has date ticks
            "document.querySelectorAll('svg text.tick').length",
            # each reference is its own list item, one link each, on its own line
            "[...document.querySelectorAll('ul.refs li')].every(li => li.querySelectorAll('a').length === 1)",
            "[...document.querySelectorAll('ul.refs')].every(ul => [...ul.querySelectorAll('a')].every("
            "(a, i, all) => i === 0 || a.getBoundingClientRect().top > all[i - 1].getBoundingClientRect().bottom - 1))",
            # the facts the Markdown has: service starts and stops, heartbeat gaps, outages
            "document.body.textContent.includes('WriteBackServiceStarted')",
            "document.body.textContent.includes('longest gap 551.9 min')",
            "[...document.querySelectorAll('table')].filter(t => t.querySelector('th').textContent === 'outage start')"
            ".map(t => t.tBodies[0].rows.length).join() === '2'",
        ],
    )
    assert run.console_errors == [] and run.exceptions == [] and run.requests == []
    values = list(run.values.values())
    assert values[:7] == ["banner", True, True, True, True, True, "left"]
    assert 3 <= values[7] <= 8
    assert values[8:] == [True, True, True, True, True]


def test_operations_table_is_capped_with_n_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.reports import html

    monkeypatch.setattr(html, "MAX_OPERATIONS", 10)
    page = _page(tmp_path, ["report", str(SAMPLES / "password-policy.evtx")])
    run = browser.load(
        page,
        [
            "document.querySelectorAll('section.server table:last-of-type tbody tr:not(.more)').length",
            "document.querySelector('tr.more').textContent",
            "document.querySelectorAll('svg circle').length",  # the chart still shows every failure
        ],
    )
    rows, more, circles = run.values.values()
    assert rows == 10 and more.startswith("40 operations more") and "(-f json)" in more
    assert circles == 34
    result = CliRunner().invoke(app, ["report", str(SAMPLES / "password-policy.evtx"), "-f", "json"])
    [server] = json.loads(result.stdout)["servers"]
    assert len(server["operation_list"]) == 50  # every row in JSON


def test_local_time_banner_and_chinese_page(tmp_path: Path) -> None:
    from analyzer.reports import html
    from analyzer.reports.model import Report

    result = CliRunner().invoke(
        app, ["report", str(SAMPLES / "connectivity-outage.evtx"), "-f", "json", "--lang", "zh-CN"]
    )
    doc = json.loads(result.stdout)
    doc["inputs"][0].update(times="local")  # as an export without a known zone is marked
    doc["inputs"].append({**doc["inputs"][0], "path": "b.csv", "times": "utc", "timezone": "+08:00"})
    page = tmp_path / "zh.html"
    page.write_text(html.render(Report.from_json(doc), "zh-CN"), encoding="utf-8")
    run = browser.load(
        page,
        [
            "document.querySelector('.banner').textContent",
            "[...document.querySelectorAll('ul.refs a')].every(a => a.href.startsWith('https://learn.microsoft.com/zh-cn/'))",
            "document.documentElement.lang",
        ],
    )
    banner, links, lang = run.values.values()
    assert "时间为导出计算机的本地时间" in banner and "b.csv: 本地时间已转换为 UTC，原时区 +08:00" in banner
    assert links is True and lang == "zh-CN"
