"""The library without the CLI (`from analyzer import analyze`), and its pandas DataFrames."""

from __future__ import annotations

import json

from analyzer import analyze, read_events
from analyzer.api import EVIDENCE_COLUMNS, OPERATION_COLUMNS
from analyzer.events import COLUMNS
from tests.conftest import SAMPLES
from tests.helpers import run_main


def test_the_library_gives_what_the_report_says(capsys) -> None:
    result = analyze(SAMPLES)
    assert result.problems == [] and len(result.inputs) == 5
    code, out, _ = run_main(["report", str(SAMPLES), "-f", "json"], capsys)
    assert code == 0
    report = json.loads(out)
    ops = result.operations()
    assert {c: str(t) for c, t in ops.dtypes.items()} == OPERATION_COLUMNS
    for server in report["servers"]:
        mine = ops[ops["server"] == server["computer"]]
        for kind, counts in server["operations"].items():
            of_kind = mine[mine["kind"] == kind]
            assert len(of_kind) == counts["started"]
            assert (of_kind["outcome"] == "failed").sum() == counts["failed"]
    failed = ops[ops["outcome"] == "failed"]
    top = failed.groupby("server")["cause"].agg(lambda c: c.value_counts().index[0])
    assert top["AADC02.corp.fabrikam.com"] == "connector-permissions"


def test_writeback_events_carry_their_cause_and_evidence() -> None:
    events = analyze(SAMPLES / "connectivity-outage.evtx").writeback_events()
    assert {c: str(t) for c, t in events.dtypes.items()} == EVIDENCE_COLUMNS
    proxy = events[events["cause"] == "proxy-auth-required"]
    assert len(proxy) > 0 and proxy["evidence"].str.contains("(407)", regex=False).all()
    assert (events["role"] == "heartbeat").sum() > 10  # Heartbeats are included, though kept compact.
    assert events["time"].is_monotonic_increasing


def test_read_events_is_the_event_model() -> None:
    frame = read_events(SAMPLES / "healthy.evtx")
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 764


def test_problems_are_lines_not_exceptions(tmp_path) -> None:
    bad = tmp_path / "broken.evtx"
    bad.write_bytes(b"not an evtx file at all")
    result = analyze(bad, SAMPLES / "healthy.evtx")
    assert len(result.problems) == 1 and "broken.evtx" in result.problems[0]
    assert [s.computer for s in result.servers] == ["AADC01.contoso.com"]
