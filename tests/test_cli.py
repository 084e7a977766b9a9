"""`wba events` and `wba files` through the real entry point, plus the installed entry points."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from analyzer.events import COLUMNS
from tests.conftest import ROOT, SAMPLES
from tests.helpers import run_cli


def test_jsonl_is_byte_identical_across_engines() -> None:
    _, rust, _ = run_cli("events", str(SAMPLES), "-f", "jsonl", "--engine", "rust")
    code, python, err = run_cli("events", str(SAMPLES), "-f", "jsonl", "--engine", "python")
    assert (code, err) == (0, "")
    assert rust == python and rust.count("\n") > 2000


def test_jsonl_rows_have_exactly_the_model_keys_in_path_then_file_order() -> None:
    _, out, _ = run_cli("events", str(SAMPLES), "-f", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(list(r) == list(COLUMNS) for r in rows)
    files = [r["file"] for r in rows]
    assert files == sorted(files)  # Inputs come in sorted path order.
    first = [r["event_record_id"] for r in rows if r["file"] == files[0]]
    # Rows keep file order, and the ids are EventRecordIDs, not header numbers.
    assert first == sorted(first) and first[0] != 1
    assert all(r["time_created"].endswith("Z") and len(r["time_created"]) == 27 for r in rows)


def test_sort_time_orders_by_time_file_record() -> None:
    _, out, _ = run_cli("events", str(SAMPLES), "-f", "jsonl", "--sort", "time")
    rows = [json.loads(line) for line in out.splitlines()]
    keys = [(r["time_created"], r["file"], r["event_record_id"]) for r in rows]
    assert keys == sorted(keys)
    assert len({r["file"] for r in rows[:50]}) == 1  # The samples cover different days.


def test_csv_and_table() -> None:
    _, out, _ = run_cli("events", str(SAMPLES / "connectivity-outage.evtx"), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(COLUMNS)
    spp = next(r for r in rows if r["provider"] == "Microsoft-Windows-Security-SPP")
    assert "已成功计划软件保护服务" in json.loads(spp["data"])[0]
    _, table, _ = run_cli("events", str(SAMPLES / "healthy.evtx"))
    assert table.splitlines()[0].startswith("time (UTC)") and "ServiceBusHeartBeat" in table


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "events.jsonl"
    code, out, _ = run_cli("events", str(SAMPLES / "healthy.evtx"), "-f", "jsonl", "-o", str(target))
    assert (code, out) == (0, "")
    assert len(target.read_text(encoding="utf-8").splitlines()) == 764
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"]  # No temporary file is left.


def test_files_json() -> None:
    code, out, _ = run_cli("files", str(SAMPLES), "-f", "json", "--engine", "python")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 5
    healthy = next(r for r in rows if r["path"].endswith("healthy.evtx"))
    assert healthy["records"] == 764 and healthy["unreadable"] == 0 and healthy["chunks"] >= 3
    assert healthy["computers"] == "AADC01.contoso.com (764)" and healthy["engine"] == "python"


def test_entry_points() -> None:
    module = subprocess.run(
        [sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert module.returncode == 0 and module.stdout.startswith("wba ")
    script = Path(sys.executable).parent / "wba"
    run = subprocess.run(
        [str(script), "files", str(SAMPLES / "healthy.evtx"), "-f", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and "healthy.evtx,ok" in run.stdout


def test_no_arguments_shows_help_as_a_usage_error() -> None:
    code, out, err = run_cli()
    assert code == 2 and out == ""
    assert err.startswith("Usage: wba [OPTIONS] COMMAND [ARGS]...")
    assert all(f"\n  {command} " in err for command in ("report", "triage", "events", "files", "codes"))
