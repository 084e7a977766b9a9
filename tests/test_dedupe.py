"""Issue 12, item 7: the same record exported twice counts once; a record with the computer, channel
and EventRecordID of another but other content (a rebuilt server with the same name, a cleared log,
a decoy) is kept, and the pair of inputs is named once on stderr and in the JSON report."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from analyzer.analysis.dedupe import Seen, dedupe_key, fingerprint, same
from analyzer.events import Event
from analyzer.testkit.export_writer import evtx_bytes, powershell_csv, xml_export
from analyzer.testkit.scenarios import SCENARIOS
from tests.helpers import run_cli

SERVER = "AADC02.corp.fabrikam.com"


def _decoy() -> list[Event]:
    """A healthy heartbeat at the time and EventRecordID of every record of the failing log."""
    beat = next(e for e in SCENARIOS["healthy"][0]() if e.event_id == 31019)
    return [
        replace(beat, computer=SERVER, event_record_id=e.event_record_id, time_created=e.time_created)
        for e in SCENARIOS["ad-permissions"][0]()
    ]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The failing server's log, the same log again, and a decoy (see `_decoy`) under two names."""
    folder = tmp_path_factory.mktemp("dedupe")
    failing, decoy = SCENARIOS["ad-permissions"][0](), _decoy()
    # Inputs are read in sorted order: one decoy sorts before the failing log, one after.
    paths = {name: folder / f"{name}.evtx" for name in ("failing", "copy", "a-decoy", "z-decoy")}
    for name in ("failing", "copy"):
        paths[name].write_bytes(evtx_bytes(failing))
    for name in ("a-decoy", "z-decoy"):
        paths[name].write_bytes(evtx_bytes(decoy))
    paths["xml"] = folder / "failing.xml"
    paths["xml"].write_text(xml_export(failing), encoding="utf-8")
    return paths


def _report(*paths: Path, jobs: str = "2") -> tuple[int, dict, str]:
    code, out, err = run_cli("report", *map(str, paths), "-f", "json", "--jobs", jobs)
    return code, json.loads(out), err


def _server(doc: dict) -> dict:
    [server] = [s for s in doc["servers"] if s["computer"] == SERVER]
    return server


@pytest.mark.parametrize("decoy", ["a-decoy", "z-decoy"])
def test_a_decoy_with_the_same_record_ids_does_not_hide_the_failing_server(logs: dict[str, Path], decoy: str) -> None:
    alone = _server(_report(logs["failing"])[1])
    assert alone["status"] == "failing"
    inputs = sorted([logs[decoy], logs["failing"]])
    code, doc, err = _report(*inputs)
    server = _server(doc)
    # Both logs are kept: every operation of the failing log is still there, the decoy's heartbeats too.
    assert server["status"] == "failing"
    assert server["operations"] == alone["operations"] and alone["operations"]["reset"]["failed"] > 10
    assert server["causes"] == alone["causes"]
    assert server["health"]["heartbeats"] == alone["health"]["heartbeats"] + len(_decoy()) > 600
    assert doc["duplicate_events"] == 0
    # One warning line for the pair, naming both inputs; the same words in the later input's note.
    first, later = map(str, inputs)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: {later}: ") and first in lines[0]
    assert "other content" in lines[0] and "both kept" in lines[0]
    notes = {i["path"]: i["note"] for i in doc["inputs"]}
    assert notes[first] is None and notes[later] == lines[0].removeprefix(f"warning: {later}: ")
    assert code == 0


def test_the_same_log_twice_counts_once_even_as_an_xml_export(logs: dict[str, Path]) -> None:
    """An XML export has LF where the log's records have CR LF: still the same records."""
    assert any("\r\n" in "".join(e.data) for e in SCENARIOS["ad-permissions"][0]())
    _, alone, _ = _report(logs["failing"])
    dropped = []
    for other in ("copy", "xml"):
        code, doc, err = _report(logs["failing"], logs[other])
        assert (code, err) == (0, "")
        dropped.append(doc["duplicate_events"])
        assert [i["note"] for i in doc["inputs"]] == [None, None]
        once = {k: v for k, v in _server(alone).items() if k != "logs"}
        assert {k: v for k, v in _server(doc).items() if k != "logs"} == once
    assert dropped[0] == dropped[1] > 100  # Every writeback event of the log is dropped the second time.


def test_collisions_give_the_same_report_read_whole_or_in_parallel(logs: dict[str, Path]) -> None:
    inputs = (logs["failing"], logs["z-decoy"], logs["copy"])
    one, two = _report(*inputs, jobs="1"), _report(*inputs, jobs="2")
    assert one == two
    # Read in sorted order: copy, failing (the same records as the copy), z-decoy (other records).
    [line] = one[2].splitlines()
    assert line.startswith(f"warning: {logs['z-decoy']}: ") and str(logs["copy"]) in line
    assert one[1]["duplicate_events"] > 100


def test_heartbeats_in_short_form_are_compared_by_content(tmp_path: Path) -> None:
    """Reports carry heartbeats as (time, record id, namespace) with a fingerprint made in the worker:
    heartbeats of another log with the same record ids but other times are kept, not dropped."""
    beats = [e for e in SCENARIOS["healthy"][0]() if e.event_id == 31019]
    later = [replace(e, time_created=e.time_created.replace(year=2027)) for e in beats]
    (tmp_path / "a.evtx").write_bytes(evtx_bytes(beats))
    (tmp_path / "b.evtx").write_bytes(evtx_bytes(later))
    (tmp_path / "c.evtx").write_bytes(evtx_bytes(beats))
    code, doc, err = _report(tmp_path / "a.evtx", tmp_path / "b.evtx", tmp_path / "c.evtx")
    [server] = doc["servers"]
    assert server["health"]["heartbeats"] == 2 * len(beats) > 10
    assert doc["duplicate_events"] == len(beats)
    assert len(err.splitlines()) == 1 and str(tmp_path / "b.evtx") in err and code == 0


def test_one_input_with_a_record_id_twice() -> None:
    """A log cleared and restarted can hold one record id twice: both kept, noted for that input."""
    from analyzer.analysis.collect import Collector, Partial
    from analyzer.catalogue.loader import load

    events = [e for e in SCENARIOS["ad-permissions"][0]() if e.provider == "PasswordResetService"][:40]
    twice = events + [replace(e, time_created=e.time_created.replace(year=2027)) for e in events[:5]] + events[:3]
    catalogue = load()
    partial = Partial()
    for event in twice:
        partial.observe(event, catalogue.providers)
    assert partial.duplicates == 3 and len(partial.events) == 45  # Exact copies go at once.
    collector = Collector(catalogue)
    notes = collector.merge(partial, events[0].file)
    assert collector.duplicates == 3 and sum(len(v) for v in collector.evidence.values()) == 45
    assert notes == [
        "5 events have the computer, channel and EventRecordID of other events of this input but other content"
        " (a rebuilt server with the same name, a cleared log, or a forgery): both kept"
    ]


def test_what_counts_as_the_same_record() -> None:
    [event] = [e for e in SCENARIOS["ad-permissions"][0]() if "\r\n" in "".join(e.data)][:1]
    lf = replace(event, data=[v.replace("\r\n", "\n") for v in event.data], file="other.xml")
    assert same(event, lf) and fingerprint(event) == fingerprint(lf)
    for changed in (
        replace(event, data=[*event.data[:-1], event.data[-1] + "x"]),
        replace(event, data=[*event.data, ""]),
        replace(event, level=(event.level or 0) + 1),
        replace(event, event_id=event.event_id + 1),
        replace(event, time_created=event.time_created.replace(microsecond=1)),
    ):
        assert dedupe_key(changed) == dedupe_key(event) and not same(event, changed)
    # A heartbeat in its short form against an event: by time and fingerprint.
    stamp = (event.time_created, fingerprint(event), "a.evtx")
    assert same(stamp, lf) and not same(stamp, replace(event, data=["other"]))
    # A third version of a key is compared with every version taken, not only the first.
    seen, key = Seen(), dedupe_key(event)
    assert key is not None
    other = replace(event, data=["other"])
    assert [seen.take(key, e) for e in (event, other, other, lf, event)] == [True, True, False, False, False]
    assert seen.collisions == {(event.file, other.file): 1}
    assert dedupe_key(replace(event, event_record_id=None)) is None
    assert dedupe_key(replace(event, computer="aadc02.CORP.fabrikam.com")) == key


@pytest.mark.parametrize(
    "offset", [timedelta(0), timedelta(hours=1), timedelta(hours=-8), timedelta(hours=5, minutes=30)]
)
def test_a_log_and_its_powershell_export_count_once(logs: dict[str, Path], tmp_path: Path, offset: timedelta) -> None:
    """Customers send the .evtx and a Get-WinEvent | Export-Csv of it: local times to the second and
    messages instead of data values still make the same records (found by a review: every operation
    counted twice, half of them unfinished, and a forgery warning)."""
    exported = tmp_path / "a-export.csv"  # named to come first: the log's records are kept all the same
    exported.write_text(powershell_csv(SCENARIOS["ad-permissions"][0](), offset=offset), encoding="utf-8")
    _, alone, _ = _report(logs["failing"])
    code, doc, err = _report(exported, logs["failing"])
    assert code == 0 and "other content" not in err
    server, once = _server(doc), _server(alone)
    assert server["operations"] == once["operations"] and server["causes"] == once["causes"]
    # The times are the log's (UTC, to the microsecond), not the export's local wall clock.
    assert (server["first_event"], server["last_event"]) == (once["first_event"], once["last_event"])
    assert [c["last_seen"] for c in server["causes"]] == [c["last_seen"] for c in once["causes"]]
    assert doc["duplicate_events"] > 100


def test_an_export_to_the_second_is_the_same_record_only_a_time_zone_apart() -> None:
    [event] = [e for e in SCENARIOS["ad-permissions"][0]() if e.event_id == 33004][:1]
    exported = replace(event, time_created=event.time_created.replace(microsecond=0), data=["\r\n".join(event.data)])
    for shift in (timedelta(0), timedelta(hours=2), timedelta(hours=-9, minutes=-30), timedelta(hours=14)):
        assert same(event, replace(exported, time_created=exported.time_created + shift))
    for shift in (timedelta(minutes=7), timedelta(hours=15), timedelta(seconds=2)):
        assert not same(event, replace(exported, time_created=exported.time_created + shift))
    assert not same(event, replace(exported, data=["another message"]))
    assert not same(event, replace(exported, level=(event.level or 0) + 1))
