"""Speed paths must not change results: skipping unneeded records, Dask, Parquet output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.catalogue.loader import load
from analyzer.cli import app
from analyzer.diagnosis import Partial
from analyzer.evtxwriter.exports import evtx_bytes
from analyzer.evtxwriter.scenarios import SCENARIOS
from analyzer.pipeline import read_input
from analyzer.reader import FileReport, read_file
from analyzer.sources.bundles import Input
from analyzer.sources.evtx_rust import Coverage
from tests.conftest import CORPUS, SAMPLES, corpus_files


def _kept(event, keep: dict) -> bool:
    ids = keep.get(event.provider, "no")
    return ids != "no" and (ids is None or event.event_id in ids)


def _full(path: Path, engine: str, keep: dict) -> tuple[list, dict]:
    """Every event parsed; then the kept ones and each computer's first/last time."""
    partial = Partial()
    kept = []
    for event in read_file(path, engine, FileReport(str(path), engine)):
        partial.observe(event, {})
        if _kept(event, keep):
            kept.append(event)
    return kept, {k: tuple(v) for k, v in partial.coverage.items()}


def _skipping(path: Path, engine: str, keep: dict) -> tuple[list, dict, FileReport]:
    coverage = Coverage()
    report = FileReport(str(path), engine)
    events = list(read_file(path, engine, report, keep, coverage))
    partial = Partial()
    for event in events:
        partial.observe(event, {})
    for computer, (first, last) in coverage.spans_by_computer().items():
        partial.extend(computer, first, last)
    # The fast path may still return some records it did not need (it skips only what it can
    # recognise cheaply); it must never miss a needed one.
    return [e for e in events if _kept(e, keep)], {k: tuple(v) for k, v in partial.coverage.items()}, report


def _check(path: Path, keep: dict) -> None:
    for engine in ("rust", "python"):
        kept, spans = _full(path, engine, keep)
        fast, fast_spans, report = _skipping(path, engine, keep)
        assert fast == kept, (engine, path.name)
        assert fast_spans == spans, (engine, path.name)
        full_report = FileReport(str(path), engine)
        count = sum(1 for _ in read_file(path, engine, full_report))
        assert (report.events, report.unreadable) == (count, full_report.unreadable), (engine, path.name)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.evtx")), ids=lambda p: p.name)
def test_skipping_never_drops_a_needed_record_samples(path: Path) -> None:
    _check(path, load().wanted())


def test_skipping_on_a_busy_log(tmp_path: Path) -> None:
    events = []
    for make, _ in SCENARIOS.values():
        events += make()
    path = tmp_path / "busy.evtx"
    path.write_bytes(evtx_bytes(events))
    _check(path, load().wanted())


KEEP_CORPUS = {
    "Microsoft-Windows-Security-Auditing": frozenset({4624, 4625}),
    "Service Control Manager": None,
    "Microsoft-Windows-Sysmon": frozenset({1}),
}


@pytest.mark.parametrize("path", corpus_files()[::4], ids=lambda p: str(p.relative_to(CORPUS)))
def test_skipping_never_drops_a_needed_record_corpus(path: Path) -> None:
    _check(path, KEEP_CORPUS)


def test_report_through_the_fast_path_equals_a_full_read() -> None:
    catalogue = load()
    path = SAMPLES / "connectivity-outage.evtx"
    item = Input(str(path), path, "evtx")
    for engine in ("rust", "python"):
        _, partial, _ = read_input(item, engine, catalogue, catalogue.wanted())
        everything = read_input(item, engine, catalogue, catalogue.wanted(True))[1]
        wanted = catalogue.wanted()
        assert partial.coverage == everything.coverage
        assert partial.events == [
            e
            for e in everything.events
            if e.provider in wanted and (wanted[e.provider] is None or e.event_id in wanted[e.provider])
        ]


def test_dask_local_cluster_gives_the_same_report(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    runner = CliRunner()
    local = runner.invoke(app, ["triage", str(SAMPLES), "-f", "json", "-q"])
    dask = runner.invoke(app, ["triage", str(SAMPLES), "-f", "json", "-q", "--scheduler", "local", "--jobs", "2"])
    assert local.exit_code == dask.exit_code == 0
    assert local.stdout == dask.stdout


def test_parquet_partitioned_by_server(tmp_path: Path) -> None:
    pa_ds = pytest.importorskip("pyarrow.dataset")
    result = CliRunner().invoke(app, ["events", str(SAMPLES), "-f", "parquet", "-o", str(tmp_path / "pq")])
    assert result.exit_code == 0, result.stderr
    parts = sorted(p.name for p in (tmp_path / "pq").iterdir())
    assert len(parts) == 5 and all(p.startswith("computer=") for p in parts)
    table = pa_ds.dataset(tmp_path / "pq", partitioning="hive").to_table()
    rows = {(r["file"], r["event_record_id"]): r for r in table.to_pylist()}
    lines = CliRunner().invoke(app, ["events", str(SAMPLES), "-f", "jsonl"]).stdout.splitlines()
    assert len(rows) == len(lines) == 2815
    for line in lines[::97]:
        event = json.loads(line)
        row = rows[(event["file"], event["event_record_id"])]
        assert row["data"] == event["data"] and dict(row["fields"]) == event["fields"]
        assert row["time_created"].isoformat().replace("+00:00", "Z") == event["time_created"]
    assert CliRunner().invoke(app, ["events", str(SAMPLES), "-f", "parquet"]).exit_code == 2
