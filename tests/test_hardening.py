"""Damaged and hostile input: the guard, fuzzing (a fixed-seed subset), the truncation sweep,
and Ctrl-C leaving no partial output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from analyzer import guard
from tests.conftest import ROOT, SAMPLES
from tests.fuzz.run import run as fuzz
from tests.fuzz.truncation import sweep


def _echo(value: int) -> int:
    return value


def _sleepy(value: float) -> float:
    time.sleep(value)
    return value


def _crash(value: int) -> int:
    if value == 2:
        os._exit(3)
    return value


def _raise(value: int) -> int:
    if value == 1:
        raise ValueError("secret log text must not leak")
    return value


def test_guard_keeps_order_and_survives_hangs_crashes_and_errors() -> None:
    assert list(guard.run(_echo, [(i,) for i in range(20)], 3, 5)) == list(range(20))
    results = list(guard.run(_sleepy, [(0.0,), (30.0,), (0.1,)], 2, 1.0))
    assert results[0] == 0.0 and results[2] == 0.1
    assert isinstance(results[1], guard.Failed) and "longer than 1 s" in results[1].reason
    crashed = list(guard.run(_crash, [(1,), (2,), (3,)], 2, 5))
    assert crashed[0] == 1 and crashed[2] == 3 and isinstance(crashed[1], guard.Failed)
    raised = list(guard.run(_raise, [(0,), (1,)], 1, 5))
    assert raised[0] == 0 and raised[1].reason == "ValueError while reading"  # no exception text


def test_fuzz_subset_engines_agree_and_nothing_hangs_or_crashes() -> None:
    """Structure-aware and byte-level mutations (a fixed seed): both engines give the same events
    and account whether every record is parsed or not, pieces merge into the whole read."""
    figures = fuzz(cases=100, seed=20261125)
    assert figures["hangs"] == 0 and figures["crashes"] == 0, figures
    assert figures["disagreements"] == 0, figures["differences"]
    outcomes = figures["outcomes"]
    assert sum(outcomes.values()) == 100 and outcomes.get("ok", 0) < 60, outcomes  # the mutations do damage


def test_truncation_sweep_recovers_every_complete_chunk() -> None:
    totals = sweep([SAMPLES / "healthy.evtx", SAMPLES / "connectivity-outage.evtx"], step=0x1000)
    assert totals["cuts"] > 100
    assert totals["recovered"] == totals["expected"]  # 100 % of the records of complete chunks
    assert totals["accounted"] == totals["declared"]  # what was lost is counted


def test_ctrl_c_exits_130_and_leaves_no_partial_output(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    data = (SAMPLES / "healthy.evtx").read_bytes()
    for i in range(300):  # tens of seconds of work: the interrupt lands mid-run
        (logs / f"s{i}.evtx").write_bytes(data)
    target = tmp_path / "report.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analyzer",
            "report",
            str(logs),
            "--engine",
            "python",
            "-j",
            "1",
            "-f",
            "json",
            "-o",
            str(target),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    time.sleep(2.0)
    assert process.poll() is None, "finished before the interrupt: make the input larger"
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    assert list(tmp_path.iterdir()) == [logs]  # no report.json, no temporary file


def test_outputs_are_byte_identical_across_runs_engines_and_jobs() -> None:
    from typer.testing import CliRunner

    from analyzer.cli import app

    runner = CliRunner()
    variants = [("rust", "1"), ("rust", "1"), ("rust", "2"), ("python", "1"), ("python", "2")]  # rust/1 twice: runs
    for command in ("report", "triage"):
        quiet = ["-q"] if command == "triage" else []
        for fmt in ("json", "markdown", "html"):
            outputs = set()
            for engine, jobs in variants:
                args = [command, str(SAMPLES), "-f", fmt, *quiet, "--engine", engine, "--jobs", jobs]
                outputs.add(runner.invoke(app, args).stdout)
            assert len(outputs) == 1, (command, fmt)
