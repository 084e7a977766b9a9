"""The quick ways of issue 13 give what the plain ways give: JSON of lists and maps through orjson,
plain records straight into their JSON lines and rows, and bulk counting per chunk."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from analyzer.events import Event, Lines, json_dict, json_line, json_list
from analyzer.ingest.engines.rust import _Liner, plain_event
from analyzer.ingest.inputs import Input
from analyzer.ingest.read import FileReport, read_file
from analyzer.reports.textsafe import json_text
from tests.conftest import SAMPLES

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(TEXT, max_size=6))
@example(['a","b', "x\\", '":"', ",", 'x",', "\x85\u202e\x00\n\t\x7f\u2028"])
def test_a_list_of_strings_is_written_as_json_writes_it(values: list[str]) -> None:
    assert json_list(values) == json_text(json.dumps(values, ensure_ascii=False))


@given(st.dictionaries(TEXT, TEXT, max_size=6))
@example({'a":"b': '","', "\\": '"', "k": "\x9b[31m", ",": ":", ":": 'x",'})
def test_a_map_of_strings_is_written_as_json_writes_it(values: dict[str, str]) -> None:
    assert json_dict(values) == json_text(json.dumps(values, ensure_ascii=False))


def test_a_lone_surrogate_is_written_as_json_writes_it() -> None:
    assert json_list(["a\ud800"]) == json.dumps(["a\ud800"], ensure_ascii=False)
    assert json_dict({"k": "\udc00"}) == json.dumps({"k": "\udc00"}, ensure_ascii=False)


_START = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
)


def _xml(stamp: str, data: str, computer: str = "AADC01.contoso.com", keywords: str = "0x80000000000000") -> str:
    return (
        f'{_START}<Provider Name="PasswordResetService"></Provider><EventID Qualifiers="">31001</EventID>'
        f"<Level>4</Level><Task>0</Task><Keywords>{keywords}</Keywords>"
        f'<TimeCreated SystemTime="{stamp}"></TimeCreated><EventRecordID>7</EventRecordID>'
        f"<Channel>Application</Channel><Computer>{computer}</Computer><Security></Security></System>"
        f"<EventData>{data}</EventData></Event>"
    )


def test_a_plain_record_gives_the_line_and_row_of_its_event() -> None:
    records = [
        _xml("2026-11-20T08:00:00.123456Z", '<Data Name="A">x &amp; "y"</Data><Data>\x85</Data><Binary>00</Binary>'),
        _xml("2026-11-20T08:00:00.000001Z", '<Data Name="A">1</Data><Data Name="A">2</Data><Data Name="">3</Data>'),
        _xml("2026-11-20T08:00:00.000001Z", "<Data>C:\\temp\\a</Data>", computer="h\u00e9te &lt;1&gt;"),
        _xml("2026-11-20T08:00:00.000001Z", "", keywords=""),
    ]
    liner, rows = _Liner("d/a.evtx", "json"), _Liner("d/a.evtx", "row")
    for xml in records:
        event = plain_event(xml, "d/a.evtx")
        assert event is not None
        line, row = liner(xml), rows(xml)
        assert line is not None and row is not None
        assert line[0] == json_line(event)
        assert line[1:] == (row[1], event.provider, event.channel, event.computer)
        values = [*row[0][:-1], dict(row[0][-1])]
        values[2] = datetime.fromisoformat(values[2][:-1]).replace(tzinfo=UTC)
        assert Event(*values) == event


def test_times_the_quick_way_does_not_take_are_left_to_the_event() -> None:
    liner = _Liner("a.evtx", "json")
    wrong = (
        "1601-01-01T00:00:00.000000Z",
        "2026-02-30T00:00:00.000000Z",
        "2026-11-20 08:00:00Z",
        "0999-01-01T00:00:00Z",
    )
    for stamp in wrong:
        assert liner(_xml(stamp, "<Data>x</Data>")) is None


def test_lines_count_as_events_do(sample_files: list[Path]) -> None:
    """Each file's account is the same whether its records come as lines or as events."""
    for path in sample_files:
        as_events, as_lines = FileReport(path.name, "rust"), FileReport(path.name, "rust")
        count = len(list(read_file(path, "rust", as_events)))
        items = list(read_file(path, "rust", as_lines, lines="json"))
        assert sum(len(i.numbers) if isinstance(i, Lines) else 1 for i in items) == count
        assert as_events == as_lines


def test_a_spill_file_cut_short_gives_its_whole_frames(
    sample_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a worker stopped part way had written: whole frames only, the events in order."""
    import io

    from analyzer.ingest.engines import rust
    from analyzer.run import export
    from analyzer.run.export import _copy, _spill

    monkeypatch.setattr(export, "FRAME", 100)  # small frames, of small batches, for a small log
    monkeypatch.setattr(rust, "_BATCH", 50)
    path = max(sample_files, key=lambda p: p.stat().st_size)
    report = _spill("rust", "jsonl", None, tmp_path, 0, _input(path), None)
    assert report.events > 300
    whole = io.BytesIO()
    assert _copy(tmp_path / "0", whole.write) == report.events
    spill = (tmp_path / "0").read_bytes()
    (tmp_path / "cut").write_bytes(spill[: len(spill) - 100])  # the last frame cut short
    part = io.BytesIO()
    kept = _copy(tmp_path / "cut", part.write)
    assert report.events - 100 <= kept < report.events
    assert part.getvalue().count(b"\n") == kept and whole.getvalue().startswith(part.getvalue())
    assert _copy(tmp_path / "none", part.write) == 0  # a worker that died before it began


def test_every_character_is_written_as_json_writes_it() -> None:
    every = [chr(c) + '"\\' for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert json_list(every) == json_text(json.dumps(every, ensure_ascii=False))


def test_logs_read_in_pieces_give_the_same_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Pieces of one chunk, read by two workers, written in order: the golden files' bytes."""
    import gzip
    import io

    from analyzer.run import pipeline
    from analyzer.run.export import export
    from tests.test_outputs_unchanged import GOLDEN, _parquet_digest

    monkeypatch.setattr(pipeline, "MIN_PIECE", 1)
    monkeypatch.setattr(pipeline, "PIECES_PER_WORKER", 20)
    monkeypatch.chdir(SAMPLES)
    assert sum(map(len, pipeline.split([_input(p) for p in sorted(SAMPLES.glob("*.evtx"))], 2))) > 15
    out, reports = io.StringIO(), []
    export([Path()], "rust", "jsonl", out, reports, print, jobs=2)
    assert out.getvalue().encode() == gzip.decompress((GOLDEN / "events.jsonl.gz").read_bytes())
    assert all(r.status == "ok" for r in reports) and len(reports) == 5
    export([Path()], "rust", "parquet", tmp_path / "pq", [], print, jobs=2)
    assert _parquet_digest(tmp_path / "pq") == gzip.decompress((GOLDEN / "events.parquet.txt.gz").read_bytes())


def _input(path: Path) -> Input:
    return Input(path.name, path, "evtx")
