"""The exports customers make (issue 10 item 2) read into the same event model, detected by content,
from files or standard input; local times said loudly (item 3); exports streamed (issue 12 item 4)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analyzer.ingest.exports.common import Clock
from analyzer.ingest.exports.text_export import contains_details, looks_like_details, parse_details
from analyzer.testkit import export_writer
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import SCENARIOS
from tests.helpers import run_cli

EVENTS = SCENARIOS["password-policy"][0]()
COMPUTER = "ENTRACONNECT01.contoso.com"


def _problems(err: str) -> str:
    """stderr without the notes that an export's times are local (every such export gets one)."""
    return "".join(line for line in err.splitlines(keepends=True) if not line.startswith("note: "))


def _diagnosis(doc: dict) -> list[tuple]:
    """What the report concludes per server, whatever the server is called and however precise
    its times are."""
    return [
        (s["status"], json.dumps(s["operations"], sort_keys=True), [c["id"] for c in s["causes"]], s["checklist"])
        for s in doc["servers"]
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("ref") / "Application.evtx"
    path.write_bytes(evtx_bytes(EVENTS))
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert (code, err) == (0, "")
    return json.loads(out)


# Each case is (name, file name, text, encoding, kind, computer kept, times).
CASES = [
    (
        "eventviewer-csv-en",
        "Application.csv",
        export_writer.csv_export(EVENTS),
        "utf-8-sig",
        "csv-export",
        False,
        "local",
    ),
    *[
        (
            f"eventviewer-csv-{lang}",
            "x.csv",
            export_writer.csv_export(EVENTS, lang, region),
            "utf-8",
            "csv-export",
            False,
            "local",
        )
        for lang, region in [("de", "de-DE"), ("fr", "fr-FR"), ("es", "es-ES"), ("ja", "ja-JP"), ("zh-CN", "zh-CN")]
    ],
    ("save-as-text-en", "Application.txt", export_writer.text_export(EVENTS), "utf-16", "text-export", False, "local"),
    (
        "save-as-text-de",
        "x.txt",
        export_writer.text_export(EVENTS, "de", "de-DE"),
        "utf-8",
        "text-export",
        False,
        "local",
    ),
    *[
        (
            f"details-{lang}",
            "pasted.txt",
            export_writer.details_text(EVENTS, lang, region),
            "utf-8",
            "details-text",
            True,
            "local",
        )
        for lang, region in [("en", "en-US"), ("de", "de-DE"), ("fr", "fr-FR"), ("es", "es-ES"), ("ja", "ja-JP")]
    ],
    (
        "details-zh-CN",
        "pasted.txt",
        export_writer.details_text(EVENTS, "zh-CN", "zh-CN"),
        "utf-16",
        "details-text",
        True,
        "local",
    ),
    ("details-xml-en", "x.txt", export_writer.details_text(EVENTS, xml=True), "utf-8", "details-text", True, "utc"),
    (
        "details-xml-zh-TW",
        "x.txt",
        export_writer.details_text(EVENTS, "zh-TW", "zh-TW", xml=True),
        "utf-16",
        "details-text",
        True,
        "utc",
    ),
    (
        "powershell-csv-type",
        "events.csv",
        export_writer.powershell_csv(EVENTS),
        "ascii",
        "powershell-csv",
        True,
        "local",
    ),
    (
        "powershell-csv-no-type",
        "events.csv",
        export_writer.powershell_csv(EVENTS, type_line=False, region="en-GB"),
        "utf-8",
        "powershell-csv",
        True,
        "local",
    ),
    (
        "powershell-json-5",
        "events.json",
        export_writer.powershell_json(EVENTS),
        "utf-16",
        "powershell-json",
        True,
        "utc",
    ),
    (
        "powershell-json-7",
        "events.json",
        export_writer.powershell_json(EVENTS, powershell7=True, offset=timedelta(hours=8)),
        "utf-8",
        "powershell-json",
        True,
        "utc",
    ),
    (
        "renamed-powershell-csv",
        "Application.txt",
        export_writer.powershell_csv(EVENTS),
        "utf-8",
        "powershell-csv",
        True,
        "local",
    ),
    ("renamed-details", "events.csv", export_writer.details_text(EVENTS), "utf-8", "details-text", True, "local"),
]


@pytest.mark.parametrize(
    ("name", "filename", "text", "encoding", "kind", "computer", "times"), CASES, ids=[c[0] for c in CASES]
)
def test_each_export_gives_the_diagnosis_of_the_log(
    tmp_path: Path,
    reference: dict,
    name: str,
    filename: str,
    text: str,
    encoding: str,
    kind: str,
    computer: bool,
    times: str,
) -> None:
    path = tmp_path / filename
    path.write_bytes(text.encode(encoding, "replace"))  # Windows PowerShell 5 writes "?" for non-ASCII characters.
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert (code, err) == (0, ""), name
    doc = json.loads(out)
    assert _diagnosis(doc) == _diagnosis(reference)
    [found] = doc["inputs"]
    assert (found["kind"], found["records"], found["unreadable"], found["times"]) == (kind, len(EVENTS), 0, times)
    assert [s["computer"] for s in doc["servers"]] == ([COMPUTER] if computer else [f"(unknown computer: {path})"])
    if times == "local":
        assert "local time" in found["note"]
        assert doc["span"]["first_event"] == "2026-11-19T00:00:07.000000"  # It is the wall clock, with no Z.
    if kind in ("csv-export", "text-export"):
        assert found["note"].startswith("no computer, channel, record ids, qualifiers or keywords in this export")


@pytest.mark.parametrize("case", ["details-en", "powershell-json-5", "save-as-text-en", "powershell-csv-type"])
def test_standard_input_in_any_format(reference: dict, case: str) -> None:
    _, _, text, encoding, kind, _, _ = next(c for c in CASES if c[0] == case)
    code, out, err = run_cli("report", "-", "-f", "json", stdin=text.encode(encoding, "replace"))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert _diagnosis(doc) == _diagnosis(reference)
    assert [(i["path"], i["kind"]) for i in doc["inputs"]] == [("(stdin)", kind)]


def test_standard_input_evtx_and_garbage() -> None:
    code, out, err = run_cli("events", "-", "-f", "jsonl", stdin=evtx_bytes(EVENTS[:3]))
    assert (code, err, len(out.splitlines())) == (0, "", 3)
    code, _, err = run_cli("events", "-", stdin=b"hello, this is not a log\n")
    assert (code, err.splitlines()) == (4, ["error: (stdin): not a log"])


def test_json_export_as_a_single_object() -> None:
    code, out, err = run_cli(
        "events", "-", "-f", "jsonl", stdin=export_writer.powershell_json(EVENTS[:1], single=True).encode()
    )
    assert (code, err) == (0, "")
    [event] = [json.loads(line) for line in out.splitlines()]
    assert (event["event_record_id"], event["computer"], event["data"]) == (
        EVENTS[0].event_record_id,
        COMPUTER,
        EVENTS[0].data,
    )
    # The export keeps milliseconds.
    assert event["time_created"] == EVENTS[0].time_created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"


def test_powershell_7_json_keeps_exact_utc_and_every_field(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(
        export_writer.powershell_json(EVENTS, powershell7=True, offset=timedelta(hours=-5)), encoding="utf-8"
    )
    evtx = tmp_path / "e.evtx"
    evtx.write_bytes(evtx_bytes(EVENTS))
    _, from_json, _ = run_cli("events", str(path), "-f", "jsonl")
    _, from_evtx, _ = run_cli("events", str(evtx), "-f", "jsonl")
    strip = lambda text: [
        {k: v for k, v in json.loads(line).items() if k not in ("file", "fields")} for line in text.splitlines()
    ]
    assert strip(from_json) == strip(from_evtx)  # Properties hold the values, not their names.


# ----- local times --------------------------------------------------------------------------------------


def _early_november(events: list) -> list:
    """The events moved to November 1-12, 2026: every day also a valid month."""
    start = events[0].time_created
    return [replace(e, time_created=datetime(2026, 11, 1, tzinfo=UTC) + (e.time_created - start)) for e in events]


def test_date_order_is_settled_once_per_file_by_a_day_over_12(tmp_path: Path) -> None:
    """Issue 10: an en-GB CSV with `05/11/2026` was read as 11 May, and days over 12 flipped."""
    moved = [
        replace(
            e,
            time_created=datetime(2026, 11, 5, 8, 16, 52, tzinfo=UTC) + (e.time_created - EVENTS[0].time_created) * 20,
        )
        for e in EVENTS
    ]
    assert moved[0].time_created.day == 5 and moved[-1].time_created.day > 12
    path = tmp_path / "en-GB.csv"
    path.write_text(export_writer.csv_export(moved, region="en-GB"), encoding="utf-8")
    assert "05/11/2026 08:16:52" in path.read_text(encoding="utf-8")
    code, out, err = run_cli("events", str(path), "-f", "jsonl")
    assert code == 0 and err.startswith(f"note: {path}: times are the exporting machine's local time")
    times = [json.loads(line)["time_created"] for line in out.splitlines()]
    assert times[0] == "2026-11-05T08:16:52.000000" and all(
        t.startswith("2026-11-") or t.startswith("2026-12-") for t in times
    )


def test_ambiguous_dates_are_refused_naming_date_order(tmp_path: Path) -> None:
    moved = _early_november(EVENTS)[:100]
    path = tmp_path / "ambiguous.csv"
    path.write_text(export_writer.csv_export(moved, region="en-GB"), encoding="utf-8")
    good = tmp_path / "good.evtx"
    good.write_bytes(evtx_bytes(EVENTS))
    code, out, err = run_cli("report", str(path), str(good), "-f", "json")
    assert code == 4
    assert err.splitlines() == [
        f"error: {path}: its dates do not tell day/month order (no day above 12): give --date-order dmy or mdy"
    ]
    assert [s["computer"] for s in json.loads(out)["servers"]] == [COMPUTER]  # The rest is still read.
    code, out, err = run_cli("events", str(path), "-f", "jsonl", "--date-order", "dmy")
    assert (code, _problems(err)) == (0, "")
    first = json.loads(out.splitlines()[0])["time_created"]
    assert first == moved[0].time_created.strftime("%Y-%m-%dT%H:%M:%S.000000")
    _, out, _ = run_cli("events", str(path), "-f", "jsonl", "--date-order", "mdy")
    assert json.loads(out.splitlines()[0])["time_created"].startswith(
        "2026-01-11"
    )  # As told, 1 November is read as 11 January.


def test_dates_in_both_orders_count_as_unreadable(tmp_path: Path) -> None:
    text = export_writer.csv_export(EVENTS[:3], region="en-GB")  # 19/11/2026 puts the day first.
    text += "Information,11/19/2026 10:00:00,PasswordResetService,31001,None,text\r\n"  # This row puts the month first.
    path = tmp_path / "mixed.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("events", str(path), "-f", "jsonl")
    assert code == 4 and len(out.splitlines()) == 3
    assert _problems(err).splitlines() == [
        f"warning: {path}: 1 of 4 records unreadable (1 record(s): date not valid in the file's dmy order)"
    ]


@pytest.mark.parametrize(
    ("zone", "shift"), [("Europe/Berlin", 1), ("+05:30", 5.5), ("America/New_York", -5), ("UTC", 0)]
)
def test_input_tz_converts_local_times_to_utc(tmp_path: Path, zone: str, shift: float) -> None:
    path = tmp_path / "de.csv"
    path.write_text(export_writer.csv_export(EVENTS, "de", "de-DE", offset=timedelta(hours=shift)), encoding="utf-8")
    code, out, err = run_cli("report", str(path), "-f", "json", "--input-tz", zone)
    assert (code, _problems(err)) == (0, "")
    doc = json.loads(out)
    assert doc["span"]["first_event"] == EVENTS[0].time_created.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    [found] = doc["inputs"]
    assert (found["times"], found["timezone"]) == ("utc", zone)
    assert f"times converted to UTC from {zone}" in found["note"]
    assert f"--input-tz {zone}" in doc["command"]


def test_bad_input_tz_and_date_order_are_usage_errors(tmp_path: Path) -> None:
    assert run_cli("report", str(tmp_path), "--input-tz", "Mars/Olympus")[0] == 2
    assert run_cli("report", str(tmp_path), "--date-order", "ymd")[0] == 2


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
@pytest.mark.parametrize("command", ["report", "triage"])
def test_every_format_shows_a_banner_and_no_z_for_local_times(tmp_path: Path, fmt: str, command: str) -> None:
    path = tmp_path / "de.csv"
    path.write_text(export_writer.csv_export(EVENTS, "de", "de-DE"), encoding="utf-8")
    code, out, _ = run_cli(
        command,
        str(path),
        "-f",
        fmt,
        "-q" if command == "triage" else "--lang",
        *([] if command == "triage" else ["en"]),
    )
    assert code == 0
    assert "local time, time zone unknown: shown without Z, not UTC (give --input-tz to convert)" in out
    assert "2026-11-19T00:00:07" in out and "2026-11-19T00:00:07.000000Z" not in out
    logged = tmp_path / "a.evtx"
    logged.write_bytes(evtx_bytes(EVENTS))
    _, out, _ = run_cli(command, str(logged), "-f", fmt, *(["-q"] if command == "triage" else []))
    assert "local time" not in out  # UTC logs get no banner.


LISTINGS = [
    ("timeline", "table"),
    ("timeline", "markdown"),
    ("timeline", "csv"),
    ("timeline", "jsonl"),
    ("timeline --operations", "json"),
    ("events", "jsonl"),
    ("events", "csv"),
    ("events --sort time", "table"),
    ("files", "json"),
]


@pytest.mark.parametrize(("command", "fmt"), LISTINGS)
def test_listings_print_local_times_without_z_and_say_so(tmp_path: Path, command: str, fmt: str) -> None:
    """Issue 10 item 3 in the listings too: an export's local times never pass for UTC."""
    local = tmp_path / "de.csv"
    local.write_text(export_writer.csv_export(EVENTS, "de", "de-DE"), encoding="utf-8")
    logged = tmp_path / "a.evtx"
    logged.write_bytes(evtx_bytes(EVENTS))
    code, out, err = run_cli(*command.split(), str(local), str(logged), "-f", fmt, "-q")
    assert code == 0, err
    assert f"note: {local}: times are the exporting machine's local time" in err
    assert f"note: {logged}" not in err
    stamps = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(Z?)", out)
    assert "" in stamps and "Z" in stamps  # the export's times without Z, the log's with it
    for line in out.splitlines():  # where a line names its input, its first time (the event's) follows it
        first = re.search(r"T\d\d:\d\d:\d\d(?:\.\d+)?(Z?)", line)
        if first and "de.csv" in line and "a.evtx" not in line:
            assert first.group(1) == "", line
        if first and "a.evtx" in line and "de.csv" not in line:
            assert first.group(1) == "Z", line
    assert ("!! Times without Z" in out) == (command.startswith("timeline") and fmt in ("table", "markdown"))


# ----- parse_details: the reusable parser ------------------------------------------------------------------


def test_parse_details_reads_pasted_blocks_in_several_languages() -> None:
    text = (
        "Hi team, the customer pasted these:\n\n"
        + export_writer.details_text(EVENTS[:2], "de", "de-DE")
        + "\n"
        + export_writer.details_text(EVENTS[2:3], "ja", "ja-JP", xml=True)
    )
    assert not looks_like_details(text) and looks_like_details(text[text.index("Protokollname") :])
    assert contains_details(text) and not contains_details("Hi team,\nLog Name: is what we need\nthanks")
    found = list(parse_details(text, "pasted"))
    assert [(e.provider, e.event_id, e.computer) for e in found] == [
        (e.provider, e.event_id, e.computer) for e in EVENTS[:3]
    ]
    assert found[2] == replace(EVENTS[2], file="pasted")  # From its Event Xml, the event is exact.
    assert found[0].time_created == EVENTS[0].time_created.replace(microsecond=0)
    assert found[0].data == EVENTS[0].data and found[0].channel == "Application"


def test_parse_details_without_a_settled_date_order() -> None:
    moved = _early_november(EVENTS[:2])
    text = export_writer.details_text(moved, region="en-GB")
    found = list(parse_details(text, "pasted"))
    assert [str(e) for e in found] == ["its date does not tell day/month order: give --date-order dmy or mdy"] * 2
    found = list(parse_details(text, "pasted", Clock("dmy")))
    assert [e.time_created for e in found] == [e.time_created.replace(microsecond=0) for e in moved]
    assert not looks_like_details("Log Name: x\nsomething else\n") and not looks_like_details("")


# ----- streamed, and no crash on big fields (issue 12 item 4) -------------------------------------------------


def test_a_field_over_128_kib_is_read(tmp_path: Path) -> None:
    """Issue 12: a CSV export field over 128 KiB gave `internal error`."""
    big = replace(EVENTS[0], data=["x" * (300 << 10)])
    for name, text in [
        ("big.csv", export_writer.csv_export([big, *EVENTS[1:3]])),
        ("big.json", export_writer.powershell_json([big, *EVENTS[1:3]])),
        ("big.txt", export_writer.details_text([big, *EVENTS[1:3]])),
    ]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, out, err = run_cli("events", str(path), "-f", "jsonl")
        assert (code, _problems(err)) == (0, ""), name
        assert next(len(json.loads(line)["data"][0]) for line in out.splitlines()) == 300 << 10


def test_a_field_over_the_limit_is_one_clear_error(tmp_path: Path) -> None:
    huge = replace(EVENTS[1], data=["y" * (17 << 20)])
    for name, text, problem in [
        (
            "huge.csv",
            export_writer.csv_export([EVENTS[0], huge, EVENTS[2]]),
            "malformed from line 3 on (field larger than field limit (16777216)): the rest of the file was not read",
        ),
        (
            "huge.json",
            export_writer.powershell_json([EVENTS[0], huge, EVENTS[2]]),
            "an event over 16 MiB: the rest of the file was not read",
        ),
        ("huge.txt", export_writer.details_text([EVENTS[0], huge, EVENTS[2]]), "a block over 16 MiB: not read"),
    ]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, out, err = run_cli("events", str(path), "-f", "jsonl")
        assert code == 4 and len(out.splitlines()) >= 1, name
        [line] = _problems(err).splitlines()
        assert line.startswith(f"warning: {path}: 1 of ") and f"(1 record(s): {problem})" in line, line


def test_wevtutil_text_output_reads_as_details(tmp_path: Path) -> None:
    text = (
        "Event[0]:\r\n  Log Name: Application\r\n  Source: PasswordResetService\r\n  Date: 2026-11-20T08:00:01.123\r\n"
        "  Event ID: 31001\r\n  Task: N/A\r\n  Level: Information\r\n  Opcode: Info\r\n  Keyword: Classic\r\n"
        "  User: N/A\r\n  User Name: N/A\r\n  Computer: AADC01.contoso.com\r\n  Description: \r\n"
        "TrackingId: 0f3c, PasswordResetRequestStart, Details: user@contoso.com\r\n\r\n"
        "Event[1]:\r\n  Log Name: Application\r\n  Source: PasswordResetService\r\n  Date: 2026-11-20T08:00:02.500\r\n"
        "  Event ID: 31002\r\n  Level: Information\r\n  Computer: AADC01.contoso.com\r\n  Description: \r\n"
        "TrackingId: 0f3c, PasswordResetSuccess\r\n"
    )
    path = tmp_path / "wevtutil.txt"
    path.write_text(text, encoding="utf-8", newline="")
    code, out, err = run_cli("events", str(path), "-f", "jsonl")
    assert (code, _problems(err)) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["event_id"], r["time_created"], r["computer"], r["data"]) for r in rows] == [
        (
            31001,
            "2026-11-20T08:00:01.123000",
            "AADC01.contoso.com",
            ["TrackingId: 0f3c, PasswordResetRequestStart, Details: user@contoso.com"],
        ),
        (31002, "2026-11-20T08:00:02.500000", "AADC01.contoso.com", ["TrackingId: 0f3c, PasswordResetSuccess"]),
    ]


def test_powershell_csv_with_use_culture_semicolons(tmp_path: Path) -> None:
    text = export_writer.powershell_csv(EVENTS[:5], region="de-DE")
    lines = text.split("\r\n")
    path = tmp_path / "events.csv"
    path.write_text(
        "\r\n".join(
            [
                lines[0],
                *(
                    line.replace('","', '";"').replace('",', '";').replace(',"', ';"').replace(",,", ";;")
                    for line in lines[1:]
                ),
            ]
        ),
        encoding="utf-8",
    )
    code, out, err = run_cli("events", str(path), "-f", "jsonl")
    assert (code, _problems(err)) == (0, "")
    assert [json.loads(line)["event_record_id"] for line in out.splitlines()] == [e.event_record_id for e in EVENTS[:5]]
