"""Damaged and hostile input: the guard, fuzzing (a fixed-seed subset), the truncation sweep,
and Ctrl-C leaving no partial output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from analyzer.run import pool
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
    assert list(pool.run(_echo, [(i,) for i in range(20)], 3, 5)) == list(range(20))
    results = list(pool.run(_sleepy, [(0.0,), (30.0,), (0.1,)], 2, 1.0))
    assert results[0] == 0.0 and results[2] == 0.1
    assert isinstance(results[1], pool.Failed) and "longer than 1 s" in results[1].reason
    crashed = list(pool.run(_crash, [(1,), (2,), (3,)], 2, 5))
    assert crashed[0] == 1 and crashed[2] == 3 and isinstance(crashed[1], pool.Failed)
    raised = list(pool.run(_raise, [(0,), (1,)], 1, 5))
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


# -- every input under the guard, with --timeout (issue 12 item 1) -----------------------------------

import struct  # noqa: E402

import pytest  # noqa: E402

from analyzer.testkit.export_writer import evtx_bytes  # noqa: E402
from analyzer.testkit.scenarios import SCENARIOS  # noqa: E402
from tests.fuzz.structure import fix_checksums  # noqa: E402


def _looped(path: Path) -> Path:
    """A log whose first chunk's name table loops (4 bytes): pyevtx-rs would spin on it forever."""
    data = bytearray(evtx_bytes(SCENARIOS["healthy"][0]()))
    for head in struct.unpack_from("<64I", data, 0x1000 + 0x80):
        chain = []
        while head:
            chain.append(head)
            head = struct.unpack_from("<I", data, 0x1000 + head)[0]
        if len(chain) >= 2:
            struct.pack_into("<I", data, 0x1000 + chain[-1], chain[0])
            break
    fix_checksums(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("command", ["report", "events", "files", "timeline"])
def test_a_hanging_input_is_stopped_at_the_time_limit(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command that reads logs reads each input, even a single one, in a guarded worker:
    with the name-table check switched off, pyevtx-rs really hangs on the looped log, and the
    worker is stopped at --timeout; the other input is read and the run ends with exit 4."""
    from typer.testing import CliRunner

    from analyzer.cli import app
    from analyzer.evtx import layout

    monkeypatch.setattr(layout, "_names", lambda data: None)  # workers fork: they inherit it
    looped = _looped(tmp_path / "looped.evtx")
    for inputs in ([looped], [looped, SAMPLES / "healthy.evtx"]):
        started = time.monotonic()
        args = [command, *map(str, inputs), "--engine", "rust", "--timeout", "2"]
        result = CliRunner().invoke(app, args)
        assert time.monotonic() - started < 60
        assert result.exit_code == 4, result.stderr
        assert f"error: {looped}: reading took longer than 2 s: stopped" in result.stderr.splitlines()
    if command == "events":
        assert "AADC01.contoso.com" in result.stdout  # the other input's events


def test_the_looped_log_itself_is_read_at_once_and_marked_damaged(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analyzer.cli import app

    looped = _looped(tmp_path / "looped.evtx")
    for engine in ("rust", "python"):
        result = CliRunner().invoke(app, ["files", str(looped), "-f", "json", "--engine", engine, "--timeout", "20"])
        assert result.exit_code == 4
        assert "chunk 0: name table loops" in result.stderr and "longer than" not in result.stderr


def test_dask_reads_are_guarded_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On a Dask worker each input is read in a guarded process too: a forked one where the
    worker may have children, a fresh interpreter where it may not (daemonic workers)."""
    import multiprocessing

    from analyzer.catalogue.loader import load
    from analyzer.evtx import layout
    from analyzer.ingest.inputs import Input
    from analyzer.run import pipeline

    monkeypatch.setattr(layout, "_names", lambda data: None)
    looped = _looped(tmp_path / "looped.evtx")
    catalogue = load()
    report, _, sha = pipeline._dask_read(Input("x", looped, "evtx"), "rust", catalogue, catalogue.wanted(), True, 2.0)
    assert report.error == "reading took longer than 2 s: stopped" and sha is None
    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)
    assert isinstance(pool.run_one(time.sleep, (30,), 1.0), pool.Failed)
    assert pool.run_one(abs, (-5,), 20.0) == 5  # the fresh interpreter's result comes back


# -- SIGTERM and SIGHUP end a run as Ctrl-C does; workers end with their parent (item 8) -----------


def _busy_run(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`wba report` over a zip of many logs, in a process of its own, with its own temp dir."""
    import zipfile

    data = (SAMPLES / "healthy.evtx").read_bytes()
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for i in range(300):
            archive.writestr(f"s{i}/Application.evtx", data)
    temp = tmp_path / "temp"
    temp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "report", str(bundle), "--engine", "python", "-j", "2", "-f", "json"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    deadline = time.monotonic() + 60
    while not any(temp.glob("wba-*/*")) and time.monotonic() < deadline:  # unpacking has begun
        time.sleep(0.1)
    time.sleep(2.0)  # and reading
    assert process.poll() is None, "finished before the signal: make the input larger"
    return process, temp


def _group_ends(pgid: int, seconds: float = 10.0) -> bool:
    """Whether every process of the group (the run and its workers) is gone within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(name: str, code: int, tmp_path: Path) -> None:
    process, temp = _busy_run(tmp_path)
    os.kill(process.pid, getattr(signal, name))  # the main process only: it must end its workers
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert b"Traceback" not in err and f"interrupted ({name})".encode() in err
    assert list(temp.iterdir()) == []  # the private directory and every unpacked member removed
    assert _group_ends(process.pid), "a worker outlived the run"


def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    """Even when the main process is killed outright (no handler runs), its workers end."""
    process, _ = _busy_run(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert _group_ends(process.pid), "a worker outlived its parent"
