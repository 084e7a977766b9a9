"""Speed paths must not change results: skipping unneeded records, Dask, Parquet output."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pyarrow.dataset as pa_ds
import pytest

from analyzer.analysis.collect import Partial
from analyzer.catalogue.loader import load
from analyzer.errors import RecordError
from analyzer.ingest.counting import Coverage
from analyzer.ingest.inputs import Input
from analyzer.ingest.normalize import canonical_time, parse_time
from analyzer.ingest.read import FileReport, read_file
from analyzer.run.pipeline import read_input
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import SCENARIOS
from tests.conftest import CORPUS, SAMPLES, corpus_files
from tests.helpers import run_cli


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


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files()[::4], ids=lambda p: str(p.relative_to(CORPUS)))
def test_skipping_never_drops_a_needed_record_corpus(path: Path) -> None:
    _check(path, KEEP_CORPUS)


# Corpus logs that take the rust reader's rarer branches (also outside the every-fourth subset):
# skipped records whose times are printed with 7 and 9 decimals in one batch, several computers
# in one batch (forwarded events), records of shapes only the careful record-by-record path reads.
BRANCHES = [
    "hayabusa-sample-evtx/EVTX-to-MITRE-Attack/TA0008-Lateral Movement/T1021.006-Windows Remote Management/"
    "ID4656-WS Management listener enumeration.evtx",
    "evtx-rs-samples/samples/security.evtx",
    "evtx-rs-samples/samples/sample-with-zero-data-size-event.evtx",
    "deepbluecli/evtx/password-spray.evtx",
]


@pytest.mark.corpus
@pytest.mark.parametrize("name", BRANCHES)
def test_skipping_branches_corpus(name: str) -> None:
    path = CORPUS / name
    _check(path, KEEP_CORPUS)
    _check(path, load().wanted())


def test_times_compare_whatever_their_precision() -> None:
    assert canonical_time("2021-11-19T16:52:33.833733500Z") == "2021-11-19T16:52:33.833733Z"
    assert canonical_time("2020-12-11T12:28:01.2990045Z") == "2020-12-11T12:28:01.299004Z"
    assert canonical_time("2020-12-11 12:28:01Z") == "2020-12-11T12:28:01.000000Z"
    for bad in ("", "2020-13-11T12:28:01Z", "yesterday"):
        with pytest.raises(RecordError):
            canonical_time(bad)


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


def test_dask_local_cluster_gives_the_same_report() -> None:
    local = run_cli("triage", str(SAMPLES), "-f", "json", "-q")
    dask = run_cli("triage", str(SAMPLES), "-f", "json", "-q", "--scheduler", "local", "--jobs", "2")
    assert local == dask and local[0] == 0 and local[2] == ""


def test_dask_diagnoses_each_server_on_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.analysis.collect import Collector
    from analyzer.run.pipeline import analyze

    catalogue = load()
    local = analyze([SAMPLES], "rust", catalogue, lambda _: None, jobs=2)
    tasks: list[str] = []
    diagnose = Collector.diagnose

    def spy(self, mapper=map):  # It records which function the cluster's map is given.
        def watched(function, *iterables):
            tasks.append(function.__name__)
            return mapper(function, *iterables)

        return diagnose(self, watched)

    monkeypatch.setattr(Collector, "diagnose", spy)
    on_dask = analyze([SAMPLES], "rust", catalogue, lambda _: None, jobs=2, scheduler="local")
    assert tasks == ["diagnose_server"] and on_dask.servers is not None and len(on_dask.servers) >= 5
    monkeypatch.undo()
    assert json.dumps(on_dask.report(details=True).to_json()) == json.dumps(local.report(details=True).to_json())


def test_parquet_partitioned_by_server(tmp_path: Path) -> None:
    code, _, err = run_cli("events", str(SAMPLES), "-f", "parquet", "-o", str(tmp_path / "pq"))
    assert (code, err) == (0, "")
    parts = sorted(p.name for p in (tmp_path / "pq").iterdir())
    assert len(parts) == 5 and all(p.startswith("server=") for p in parts)
    table = pa_ds.dataset(tmp_path / "pq", partitioning="hive").to_table()
    rows = {(r["file"], r["event_record_id"]): r for r in table.to_pylist()}
    lines = run_cli("events", str(SAMPLES), "-f", "jsonl")[1].splitlines()
    assert len(rows) == len(lines) == 2815
    for line in lines[::97]:
        event = json.loads(line)
        row = rows[(event["file"], event["event_record_id"])]
        assert row["data"] == event["data"] and dict(row["fields"]) == event["fields"]
        assert row["time_created"].isoformat().replace("+00:00", "Z") == event["time_created"]
    code, out, err = run_cli("events", str(SAMPLES), "-f", "parquet")
    assert (code, out) == (2, "") and "parquet" in err


def test_skipped_times_printed_differently_still_compare_as_times() -> None:
    """A batch whose times are printed with different precision (string-typed SystemTime
    values do that) is compared as times: as strings, `20.5Z` would sort after `20.55Z`."""
    from evtx import PyEvtxParser

    from analyzer.ingest.counting import Triage as _Triage

    record = next(PyEvtxParser(str(SAMPLES / "healthy.evtx"), indent=False).records())
    stamp = record["data"].split('SystemTime="')[1].split('"')[0]
    batch = [
        {"event_record_id": n, "data": record["data"].replace(stamp, f"2021-06-03T13:05:20.{fraction}Z")}
        for n, fraction in enumerate(("55", "5", "549"), 1)
    ]
    for careful in (False, True):
        coverage = Coverage()
        triage = _Triage({}, coverage)
        assert list(triage._one_by_one(batch) if careful else triage.parse(batch)) == []
        assert coverage.spans_by_computer()[record["data"].split("<Computer>")[1].split("<")[0]] == (
            parse_time("2021-06-03T13:05:20.5Z"),
            parse_time("2021-06-03T13:05:20.55Z"),
        )
        assert list(coverage.skipped) == [1, 2, 3]


def test_split_reads_few_big_logs_in_pieces_and_many_logs_whole(tmp_path: Path) -> None:
    from analyzer.run.pipeline import split

    big = [Input(f"{i}.evtx", tmp_path / f"{i}.evtx", "evtx") for i in range(3)]
    for item in big:
        item.path.write_bytes(b"\0" * (0x1000 + 320 * 0x10000))  # Only the size matters here.
    plans = split(big, 2)  # 3 x 320 chunks for 2 workers make at least 8 pieces, in balanced sizes.
    assert plans == [[(0, 106), (106, 213), (213, None)]] * 3
    assert split(big, 1) == [[None]] * 3
    assert split(big, 2, "python") == [[None]] * 3
    one = split(big[:1], 4)[0]  # Pieces have no fewer than 32 chunks.
    assert len(one) == 10 and one[0] == (0, 32) and one[-1] == (288, None)
    many = big * 20
    assert split(many, 2) == [[None]] * 60
    export = Input("x.xml", SAMPLES / "healthy.evtx", "xml-export")
    assert split([export], 2) == [[None]]


def _damaged_or_multi_chunk() -> list[Path]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    chosen = [r["path"] for r in rows if int(r["bytes"]) > 0x1000 + 2 * 0x10000 and not r["notes"].startswith("clean")]
    return [CORPUS / p for p in chosen]


@pytest.mark.corpus
def test_reading_in_pieces_gives_what_reading_whole_gives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every chunk its own piece, read by two workers and merged: the same account (records,
    unreadable, problems in order), events, coverage and hash as one pass over each file, on the
    samples, on damaged multi-chunk logs of the corpus, and on a sample with a bad file header
    checksum, smashed records and a cut-off last chunk."""
    from analyzer.run import pipeline

    data = bytearray((SAMPLES / "connectivity-outage.evtx").read_bytes())
    data[0x7C] ^= 0xFF  # This is the file header's checksum.
    data[0x1000 + 0x10000 + 0x300 : 0x1000 + 0x10000 + 0x340] = b"\xff" * 0x40  # These are records of chunk 1.
    damaged = tmp_path / "damaged.evtx"
    damaged.write_bytes(data[: len(data) - 0x8000])
    catalogue = load()
    paths = [*sorted(SAMPLES.glob("*.evtx")), damaged, *_damaged_or_multi_chunk()]
    assert len(paths) > 10
    items = [Input(str(p), p, "evtx") for p in paths]
    engine = "rust"  # The python engine reads whole files (see `split`).
    whole = list(pipeline._read_all(items, engine, catalogue, 1, True, False))
    monkeypatch.setattr(pipeline, "MIN_PIECE", 1)
    monkeypatch.setattr(pipeline, "PIECES_PER_WORKER", 10**6)
    assert sum(len(plan) for plan in pipeline.split(items, 2)) > 3 * len(items)
    pieces = list(pipeline._read_all(items, engine, catalogue, 2, True, False))
    for item, (report, partial, sha), (p_report, p_partial, p_sha) in zip(items, whole, pieces, strict=True):
        assert p_report == report, item.display
        assert (p_partial.events, p_partial.coverage, p_partial.duplicates, p_sha) == (
            partial.events,
            partial.coverage,
            partial.duplicates,
            sha,
        ), item.display
        assert [(c, s, f.text, e) for c, s, f, e in p_partial.hints] == [
            (c, s, f.text, e) for c, s, f, e in partial.hints
        ]


def test_heartbeats_in_short_form_give_the_same_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Reports carry heartbeats in their short form; with full events instead, every report on
    the samples (each read twice, so duplicates are dropped too) and on a log of nothing but
    heartbeats is the same."""
    from analyzer.analysis.collect import Partial
    from analyzer.run.pipeline import analyze

    make, _ = SCENARIOS["healthy"]
    beats = [e for e in make() if e.event_id == 31019]
    (tmp_path / "beats.evtx").write_bytes(evtx_bytes([replace(e, computer="BEATS01") for e in beats]))
    catalogue = load()
    paths = [SAMPLES, SAMPLES / "healthy.evtx", tmp_path / "beats.evtx"]
    short = analyze(paths, "rust", catalogue, lambda _: None, jobs=2)
    assert sum(len(b) for b in short.collector.beats.values()) > 100
    classify = Partial.classify
    monkeypatch.setattr(Partial, "classify", lambda self, catalogue, compact=False: classify(self, catalogue))
    full = analyze(paths, "rust", catalogue, lambda _: None, jobs=2)
    assert not full.collector.beats and full.collector.duplicates == short.collector.duplicates > 100
    assert json.dumps(short.report(details=True).to_json()) == json.dumps(full.report(details=True).to_json())
    only_beats = next(s for s in short.report().servers if s.computer == "BEATS01")
    assert only_beats.status == "healthy" and only_beats.health.heartbeats == len(beats) > 10


def test_progress_moves_with_each_piece_of_a_big_log(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import re

    from analyzer.run import pipeline
    from analyzer.run.progress import Progress

    monkeypatch.setattr(pipeline, "MIN_PIECE", 1)
    monkeypatch.setattr(Progress, "_draw", _draw_always(Progress._draw))
    stream = io.StringIO()
    paths = [SAMPLES / "healthy.evtx", SAMPLES / "connectivity-outage.evtx"]
    analysis = pipeline.analyze(
        paths, "rust", load(), lambda _: None, jobs=2, progress=lambda n: Progress(n, True, False, stream)
    )
    lines = [re.sub(r"\x1b\[K", "", line) for line in stream.getvalue().split("\r") if line]
    records = sum(r.events + r.unreadable for r in analysis.inputs)
    assert any(line.startswith("0/2 files, ") and not line.startswith("0/2 files, 0 records") for line in lines)
    assert f"2/2 files, {records:,} records, ETA 0 s" in lines
    assert lines[-1].startswith(f"read 2 files, {records:,} records in ")


def _draw_always(draw):  # The live line redraws at most every 0.1 s; here it redraws at every step.
    def always(self) -> None:
        self._shown = -1e9
        draw(self)

    return always
