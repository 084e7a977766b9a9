"""The EVTX writer: what it writes, both engines and python-evtx's own checks read back exactly."""

from __future__ import annotations

import io
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from Evtx import Nodes
from Evtx.Evtx import Evtx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.events import Event
from analyzer.evtx import layout
from analyzer.ingest.read import FileReport, read_file
from analyzer.testkit import write_evtx
from analyzer.testkit.scenarios import SCENARIOS


def _write(path: Path, events: list[Event]) -> Path:
    with path.open("wb") as fh:
        write_evtx(fh, events)
    return path


def _read(path: Path, engine: str) -> tuple[list[Event], FileReport]:
    report = FileReport(str(path), engine)
    return list(read_file(path, engine, report)), report


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("engine", ["rust", "python"])
def test_scenario_round_trips_exactly(tmp_path: Path, scenario: str, engine: str) -> None:
    events = SCENARIOS[scenario][0]()
    path = _write(tmp_path / "s.evtx", events)
    back, report = _read(path, engine)
    assert back == [replace(e, file=str(path)) for e in events]
    assert report.status == "ok" and report.unreadable == 0 and report.expected == len(events)


def test_chunks_are_valid_for_an_independent_reader(tmp_path: Path) -> None:
    events = SCENARIOS["healthy"][0]()
    path = _write(tmp_path / "h.evtx", events)
    scan = layout.scan(path)
    assert len(scan.chunks) >= 3 and scan.problems() == []
    assert (path.stat().st_size - 0x1000) % 0x10000 == 0
    with Evtx(str(path)) as log:
        header = log.get_file_header()
        assert header.verify()  # This checks the magic, version 3.1 and the CRC32.
        assert header.chunk_count() == len(scan.chunks)
        numbers = []
        for chunk in header.chunks():
            assert chunk.verify()  # This checks the header and record-data CRC32s.
            # Each template is defined once per chunk: the chunk's template table lists
            # exactly as many definitions as distinct templates its records use.
            used = set()
            for record in chunk.records():
                used.add(record.root().template_instance().template_offset())
                for value in record.root().substitutions():
                    if isinstance(value, Nodes.BXmlTypeNode):  # This is the classic EventData template.
                        used.add(value.root().template_instance().template_offset())
            assert len(chunk.templates()) == len(used)
            numbers += [r.record_num() for r in chunk.records()]
        assert numbers == list(range(1, len(events) + 1))


def test_event_record_id_differs_from_the_record_header_number(tmp_path: Path) -> None:
    events = SCENARIOS["healthy"][0]()[:50]
    path = _write(tmp_path / "h.evtx", events)
    for engine in ("rust", "python"):
        back, _ = _read(path, engine)
        assert [e.event_record_id for e in back] == [e.event_record_id for e in events]
        assert back[0].event_record_id != 1


def test_an_event_larger_than_a_chunk_is_refused() -> None:
    event = SCENARIOS["healthy"][0]()[0]
    with pytest.raises(ValueError, match="larger than a chunk"):
        write_evtx(io.BytesIO(), [replace(event, data=["x" * 40_000])])


# Strings a zh-CN server writes, plus characters python-evtx is known to break on.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("一Ā😀\r\n\t &<>\"'中文密码写回"),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=40,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.lists(TEXT, min_size=1, max_size=6),
    fields=st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), TEXT, max_size=4),
    ticks=st.integers(min_value=0, max_value=10**7 * 86400 * 365 * 100),
)
def test_any_text_round_trips_through_both_engines(
    tmp_path: Path, data: list[str], fields: dict[str, str], ticks: int
) -> None:
    moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10)
    classic = Event(
        "",
        42,
        moment,
        "PasswordResetService",
        31001,
        0,
        4,
        0,
        0x80000000000000,
        "Application",
        "AADC01",
        data,
        {},
    )
    manifest = replace(
        classic,
        provider="Microsoft-Windows-RestartManager",
        event_id=10000,
        qualifiers=None,
        data=list(fields.values()),
        fields=fields,
    )
    events = [classic, manifest] if fields else [classic]
    path = _write(tmp_path / "p.evtx", events)
    for engine in ("rust", "python"):
        back, _ = _read(path, engine)
        assert back == [replace(e, file=str(path)) for e in events], engine
