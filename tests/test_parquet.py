"""Issue 12, item 4: `wba events -f parquet -o DIR` with any computer name, any number of servers
under a low open-file limit, in record batches, and nothing left behind when it fails."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pyarrow.dataset as pa_ds
import pyarrow.parquet as pq
import pytest

from analyzer.reports import parquet
from analyzer.testkit import export_writer
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import SCENARIOS
from tests.conftest import ROOT
from tests.helpers import run_cli

CJK = "张三的写回服务器" * 15  # This is 120 characters, 360 bytes in UTF-8.
ODD = [CJK, "AADC/../../etc", "aadc%2F01", "AADC01.contoso.com.", "line\nbreak", "CON", "A" * 101, "x" * 300]


def _events(computers: list[str | None], each: int = 2) -> list:
    template = next(e for e in SCENARIOS["healthy"][0]() if e.event_id == 31019)
    return [
        replace(template, computer=name, event_record_id=i * each + n + 1)
        for i, name in enumerate(computers)
        for n in range(each)
    ]


def _read(directory: Path) -> list[dict]:
    return pa_ds.dataset(directory, partitioning="hive").to_table().to_pylist()


def test_any_computer_name_gets_a_safe_folder_and_keeps_its_exact_name(tmp_path: Path) -> None:
    names = [*ODD, "AADC02.corp.fabrikam.com", None]
    (tmp_path / "odd.evtx").write_bytes(evtx_bytes(_events(names)))
    out = tmp_path / "pq"
    code, _, err = run_cli("events", str(tmp_path / "odd.evtx"), "-f", "parquet", "-o", str(out))
    assert (code, err) == (0, "")
    folders = sorted(p.name for p in out.iterdir())
    assert len(folders) == len(names)
    for folder in folders:
        assert len(folder.encode()) <= 110 and "/" not in folder and "%" not in folder and "\n" not in folder
        assert folder.startswith("server=") and not folder.endswith(".")
    assert "server=AADC02.corp.fabrikam.com" in folders and "server=CON" in folders
    assert any(f.startswith("server=unknown_computer_") for f in folders)  # as the report names it
    assert any(f.startswith("server=张三的写回服务器") for f in folders)  # The folder name is readable, then a hash.
    rows = _read(out)
    assert sorted((r["computer"] or "") for r in rows) == sorted((n or "") for n in names for _ in range(2))
    for row in rows:  # The partition column is the folder; the exact name is in the file.
        server = row["computer"] or f"(unknown computer: {tmp_path / 'odd.evtx'})"
        assert row["server"] == parquet.partition(server).removeprefix("server=")


def test_names_that_differ_get_different_folders() -> None:
    similar = [CJK, CJK + "x", CJK[:-1] + "四", "x" * 300, "x" * 301, "a b", "a_b", "a/b"]
    assert len({parquet.partition(n) for n in similar}) == len(similar)


def test_fifteen_hundred_servers_under_a_low_open_file_limit(tmp_path: Path) -> None:
    """One file open at a time, however many partitions: 1,501 servers with 256 files allowed."""
    names = [f"AADC{i:04d}.contoso.com" for i in range(1500)] + [CJK]
    (tmp_path / "fleet.evtx").write_bytes(evtx_bytes(_events(names, each=1)))
    out = tmp_path / "pq"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    command = [
        sys.executable,
        "-m",
        "analyzer",
        "events",
        str(tmp_path / "fleet.evtx"),
        "-f",
        "parquet",
        "-o",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, preexec_fn=limit, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert len(list(out.iterdir())) == 1501
    assert sorted(r["computer"] for r in _read(out)) == sorted(names)


def test_events_go_out_in_batches_each_file_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "BATCH", 100)
    monkeypatch.setattr(parquet, "BUFFERED", 250)
    events = _events(["A1", "B2", "C3"], each=400)
    interleaved = [e for trio in zip(events[:400], events[400:800], events[800:], strict=True) for e in trio]
    assert parquet.write([*events[:400], *interleaved], tmp_path / "pq") == 1600
    files = sorted((tmp_path / "pq").rglob("*.parquet"))
    sizes = [pq.ParquetFile(f).metadata.num_rows for f in files]
    assert max(sizes) <= 100 and sum(sizes) == 1600 and len(files) >= 16
    rows = _read(tmp_path / "pq")
    # Within a server, the order of the input: A1's records twice over, the others' once.
    for server, ids in (("A1", [*range(1, 401)] * 2), ("B2", [*range(401, 801)]), ("C3", [*range(801, 1201)])):
        assert [r["event_record_id"] for r in rows if r["computer"] == server] == ids, server


def test_a_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    events = _events([f"S{i}" for i in range(50)], each=10)

    def broken():
        yield from events[:300]
        raise RuntimeError("the input went away")

    fresh = tmp_path / "new" / "pq"
    with pytest.raises(RuntimeError):
        parquet.write(broken(), fresh)
    assert not (tmp_path / "new").exists()
    # Into a folder that holds an earlier export: that stays as it was, no staging folder is left.
    kept = tmp_path / "kept"
    parquet.write(events[:10], kept)
    before = sorted(p.relative_to(kept) for p in kept.rglob("*"))
    with pytest.raises(RuntimeError):
        parquet.write(broken(), kept)
    assert sorted(p.relative_to(kept) for p in kept.rglob("*")) == before


def test_an_unwritable_directory_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "log.evtx").write_bytes(evtx_bytes(_events(["AADC01"])))
    out = tmp_path / "a-file" / "pq"
    code, _, err = run_cli("events", str(tmp_path / "log.evtx"), "-f", "parquet", "-o", str(out))
    assert code == 1 and err.startswith(f"error: {out}: cannot write Parquet") and err.count("\n") == 1


def test_a_second_export_replaces_its_partitions(tmp_path: Path) -> None:
    (tmp_path / "log.evtx").write_bytes(evtx_bytes(_events(["AADC01", "AADC02"], each=5)))
    args = ["events", str(tmp_path / "log.evtx"), "-f", "parquet", "-o", str(tmp_path / "pq")]
    for _ in range(2):
        assert run_cli(*args)[::2] == (0, "")
    assert len(_read(tmp_path / "pq")) == 10
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == ["server=AADC01", "server=AADC02"]


def test_a_lone_surrogate_is_written_as_a_replacement_character(tmp_path: Path) -> None:
    [event] = _events(["AADC01"], each=1)
    parquet.write([replace(event, data=["bad \ud800 text"], fields={"k": "\udc00"})], tmp_path / "pq")
    [row] = _read(tmp_path / "pq")
    assert row["data"] == ["bad \ufffd text"] and dict(row["fields"]) == {"k": "\ufffd"}
    assert json.dumps(row, default=str)


@pytest.mark.parametrize("sort", ["file", "time"])
def test_an_exports_local_times_are_flagged(tmp_path: Path, sort: str) -> None:
    """An export's local wall-clock times (zone unknown) are not passed off as UTC in Parquet either:
    `time_local` is true for its rows, false for a log's; with --input-tz they are UTC again."""
    events = SCENARIOS["password-policy"][0]()
    export = tmp_path / "de.csv"
    export.write_text(export_writer.csv_export(events, "de", "de-DE", timedelta(hours=1)), encoding="utf-8")
    log = tmp_path / "a.evtx"
    log.write_bytes(evtx_bytes(events))
    out = tmp_path / "out"
    code, _, err = run_cli("events", str(export), str(log), "-f", "parquet", "-o", str(out), "--sort", sort, "-q")
    assert code == 0, err
    rows = _read(out)
    assert {(Path(r["file"]).name, r["time_local"]) for r in rows} == {("de.csv", True), ("a.evtx", False)}
    wall = sorted(r["time_created"] for r in rows if r["time_local"])
    utc = sorted(r["time_created"].replace(microsecond=0) for r in rows if not r["time_local"])
    offsets = {w - u for w, u in zip(wall, utc, strict=True)}
    assert (
        len(wall) > 3 and len(offsets) == 1 and offsets != {timedelta(0)}
    )  # the export machine's clock, an hour ahead
    code, _, err = run_cli(
        "events", str(export), "-f", "parquet", "-o", str(tmp_path / "tz"), "--input-tz", "Europe/Berlin"
    )
    assert code == 0, err
    rows = [r for part in (tmp_path / "tz").rglob("*.parquet") for r in pq.read_table(part).to_pylist()]
    assert len(rows) == len(wall) and not any(r["time_local"] for r in rows)


def test_an_export_without_computers_reads_back_with_pandas(tmp_path: Path) -> None:
    """An Event Viewer CSV has no computer: its events went to Hive's null folder alone, from which
    pandas and pyarrow could not infer the partition column (ArrowInvalid). They go where the report
    puts them, the input's own server."""
    import pandas as pd

    export = tmp_path / "de.csv"
    export.write_text(export_writer.csv_export(SCENARIOS["healthy"][0](), "de", "de-DE"), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run_cli("events", str(export), "-f", "parquet", "-o", str(out), "-q")
    assert code == 0, err
    frame = pd.read_parquet(out)
    assert len(frame) > 100 and frame["computer"].isna().all()
    assert set(frame["server"]) == {parquet.partition(f"(unknown computer: {export})").removeprefix("server=")}


def test_exports_of_one_name_in_two_folders_are_two_servers(tmp_path: Path) -> None:
    """srv1/Application.csv and srv2/Application.csv (no computer in either) were one server named
    by the file name alone: the report mixed their operations, and Parquet replaced one's partition
    with the other's. The server is named by the input's whole name."""
    paths = []
    for folder, scenario in (("srv1", "healthy"), ("srv2", "ad-permissions")):
        path = tmp_path / folder / "Application.csv"
        path.parent.mkdir()
        path.write_text(export_writer.csv_export(SCENARIOS[scenario][0]()), encoding="utf-8")
        paths.append(path)
    code, out, err = run_cli("report", str(tmp_path), "-f", "json", "-q")
    assert code == 0, err
    assert sorted(s["computer"] for s in json.loads(out)["servers"]) == [f"(unknown computer: {p})" for p in paths]
    out_dir = tmp_path / "pq"
    for path in paths:  # one export at a time into the same directory, as an engineer adds a server
        assert run_cli("events", str(path), "-f", "parquet", "-o", str(out_dir), "-q")[0] == 0
    rows = _read(out_dir)
    assert {Path(r["file"]).parent.name for r in rows} == {"srv1", "srv2"} and len({r["server"] for r in rows}) == 2
