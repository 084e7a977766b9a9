"""Issue 10 item 8 and issue 12 item 9: commands that forgive, and hostile option values that are
usage errors (exit 2), never internal errors; progress on a terminal, Ctrl-C, `| head`."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.catalogue.loader import load
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import SCENARIOS
from tests.conftest import ROOT, SAMPLES
from tests.helpers import run_cli, run_main

WBA = [sys.executable, "-m", "analyzer"]


def _timeline(*args: str) -> list[dict]:
    code, out, err = run_cli("timeline", str(SAMPLES), "-f", "json", *args)
    assert (code, err) == (0, ""), err
    return json.loads(out)


def test_timeline_computer_in_any_case_and_by_short_name() -> None:
    full = _timeline("--computer", "AADC03.contoso.com")
    assert full and {r["server"] for r in full} == {"AADC03.contoso.com"}
    assert _timeline("--computer", "aadc03") == full == _timeline("--computer", "AADC03.CONTOSO.COM")


def test_heartbeats_and_pings_only_with_all() -> None:
    quiet, everything = _timeline(), _timeline("--all")
    routine = [r for r in everything if r["code"] in (31019, 653, 654)]
    assert {r["code"] for r in routine} == {31019, 654}  # These are what the samples hold.
    assert not [r for r in quiet if r["code"] in (31019, 653, 654)]
    assert [r for r in everything if r not in routine] == quiet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "32015-32000"], "Invalid value for --code: '32015-32000': the range is reversed"),
        (["--code", ","], "Invalid value for --code: ',': no event id"),
        (["--since", "9999999999d"], "Invalid value for --since: 9999999999d: too far back"),
        (["--since", "99999999999999999999999h"], "Invalid value for --since"),
        (["--until", "tomorrow"], "Invalid value for --until: 'tomorrow' is neither"),
        (["--since", "2026-11-21", "--until", "2026-11-20"], "--since 2026-11-21 is after --until 2026-11-20"),
        (["--since", "1h", "--until", "2h"], "--since 1h is after --until 2h"),
        (["--level", "loud"], "Invalid value for '--level'"),
        (["--jobs", "0"], "Invalid value for '--jobs' / '-j'"),
        (["--jobs", "100000"], "Invalid value for '--jobs' / '-j'"),
        (["--max-ratio", "-1"], "Invalid value for '--max-ratio'"),
        (["--max-archive-mb", "lots"], "Invalid value for '--max-archive-mb'"),
        (["-f", "xml"], "Invalid value for '--format' / '-f'"),
        (["--computer"], "Option '--computer' requires an argument"),
        (["--engine", "perl"], "Invalid value for '--engine'"),
        (["--redact-key", "k"], "Invalid value for --redact-key/--redact-hosts: needs --redact"),
        (["--redact", "--redact-key", ""], "Invalid value for --redact-key: an empty key"),
        (["--lang", "xx"], "No such option '--lang'"),  # timeline has no --lang.
    ],
)
def test_hostile_option_values_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["timeline", str(SAMPLES / "healthy.evtx"), *args], capsys)
    assert code == 2 and out == "" and message in err and "internal error" not in err, err


def test_an_empty_timeline_says_what_the_logs_span(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["timeline", str(SAMPLES), "--computer", "nosuch", "-f", "json"], capsys)
    assert (code, json.loads(out)) == (0, [])
    assert err == (
        "no events match; the logs span 2026-11-16T00:00:04Z → 2026-11-21T23:40:19Z on AADC-SH01.contoso.cn, "
        "AADC01.contoso.com, AADC02.corp.fabrikam.com, AADC03.contoso.com, ENTRACONNECT01.contoso.com "
        "(heartbeats and pings are shown only with --all)\n"
    )


def test_codes_look_up_causes_and_hresults_and_search_all_words() -> None:
    code, out, _ = run_cli("codes", "connector-permissions")
    assert code == 0 and "[prs-33004]" in out and "[adsync-6329]" in out
    for hresult in ("0x80230626", "80230626", "0X80230626"):
        code, out, _ = run_cli("codes", hresult)
        assert code == 0 and "PasswordResetService 33004" in out, hresult
    code, out, _ = run_cli("codes", "0x8023062c")
    assert code == 0 and "signature 8023062C" in out
    code, out, _ = run_cli("codes", "--search", "denied access")
    names = {line.split()[2] for line in out.splitlines()[2:]}
    assert code == 0 and "ADPermissionsError" in names
    found = {words: run_cli("codes", "--search", words) for words in ("access", "permissions", "access permissions")}
    assert {code for code, _, _ in found.values()} == {0}
    # Each result as its entries (provider and code); with two words, the entries that hold both.
    access, permissions, both = (
        {tuple(re.split(r"\s{2,}", line)[:2]) for line in out.splitlines()[2:]} for _, out, _ in found.values()
    )
    assert both == access & permissions and both < access and both < permissions
    code, out, err = run_cli("codes", "--search", "nothing-like-this")
    assert (code, out) == (0, "") and err == "no catalogue entry mentions all of: nothing-like-this\n"
    code, _, err = run_cli("codes", "99999")
    assert code == 2 and "no catalogue entry for '99999'" in err


def test_diff_says_not_in_after(tmp_path: Path) -> None:
    before = tmp_path / "before.json"
    before.write_text(run_cli("report", str(SAMPLES / "healthy.evtx"), "-f", "json")[1], encoding="utf-8")
    code, out, _ = run_cli("diff", str(before), str(SAMPLES / "ad-permissions.evtx"))
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert code == 0 and "not in AFTER" in lines["AADC01.contoso.com"]
    assert "not in BEFORE" in lines["AADC02.corp.fabrikam.com"]
    code, out, _ = run_cli("diff", str(before), str(SAMPLES / "ad-permissions.evtx"), "-f", "md")
    assert code == 0 and "| AADC01.contoso.com | healthy | not in AFTER |" in out


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.json", '{"servers": [', "not valid JSON"),
        ("list.json", "[1, 2]", "not a wba JSON report (the document: not an object)"),
        ("deep.json", "[" * 100_000, "not valid JSON"),
        ("odd.json", '{"servers": [{"computer": 1}]}', "not a wba JSON report (schema_version: missing)"),
        ("noext", '{"servers": "x"}', "not a wba JSON report"),
        ("notes.txt", "hello", "neither a wba JSON report nor readable logs"),
    ],
)
def test_diff_inputs_that_are_not_reports_or_logs_are_usage_errors(
    tmp_path: Path, name: str, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    side = tmp_path / name
    side.write_text(content, encoding="utf-8")
    code, out, err = run_main(["diff", str(side), str(SAMPLES / "healthy.evtx")], capsys)
    assert code == 2 and out == "" and "Invalid value for BEFORE" in err and message in err, err
    assert "internal error" not in err


def test_scheduler_malformed_or_unreachable_before_reading(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("foo", "tcp://", "tcp://host", "http://127.0.0.1:8786", "tcp://127.0.0.1:99999"):
        code, _, err = run_main(["triage", str(SAMPLES), "--scheduler", bad], capsys)
        assert code == 2 and "Invalid value for --scheduler" in err, bad
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # It is bound but never listens, so connections are refused.
    port = closed.getsockname()[1]
    try:
        code, out, err = run_main(["triage", str(SAMPLES), "--scheduler", f"tcp://127.0.0.1:{port}"], capsys)
    finally:
        closed.close()
    assert (code, out) == (1, "")
    assert err == f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: Connection refused\n"


def test_logs_without_writeback_ask_for_the_application_log(tmp_path: Path) -> None:
    providers = load().providers
    events = [e for e in SCENARIOS["connectivity-outage"][0]() if e.provider not in providers]
    assert events
    log = tmp_path / "System.evtx"
    log.write_bytes(evtx_bytes(events))
    code, _, err = run_cli("report", str(log))
    assert code == 0
    assert "ask for the Application log of the Entra Connect server" in err and err.startswith("warning: no ")


def _on_a_terminal(args: list[str], interrupt: bool = False) -> tuple[int, bytes]:
    """Run wba with stderr on a pseudo-terminal (stdout to a file); with `interrupt`, Ctrl-C as
    soon as the progress line shows."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*WBA, *args], stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL, cwd=ROOT
    )
    os.close(slave)
    seen, sent, deadline = b"", False, time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if interrupt and not sent and b"records" in seen:
            process.send_signal(signal.SIGINT)
            sent = True
    os.close(master)
    return process.wait(timeout=60), seen


@pytest.mark.parametrize(
    "args",
    [
        ["report", "samples"],
        ["triage", "samples"],
        ["timeline", "samples"],
        ["diff", "samples/healthy.evtx", "samples/ad-permissions.evtx"],
        ["files", "samples"],
        ["events", "samples", "-f", "jsonl"],
    ],
)
def test_progress_on_a_terminal_for_every_command_that_reads_logs(args: list[str]) -> None:
    code, seen = _on_a_terminal(args)
    assert code == 0 and b"records" in seen and b"\r\x1b[K" in seen, seen
    quiet_code, quiet = _on_a_terminal([*args, "-q"])
    assert quiet_code == 0 and b"\x1b" not in quiet and b"records" not in quiet, quiet


def test_ctrl_c_clears_the_progress_line_and_says_interrupted(tmp_path: Path) -> None:
    for i in range(40):  # This is enough to still be reading when Ctrl-C comes.
        for log in SAMPLES.glob("*.evtx"):
            (tmp_path / f"{i}-{log.name}").symlink_to(log)
    code, seen = _on_a_terminal(["triage", str(tmp_path), "-j", "1"], interrupt=True)
    assert code == 130, seen
    assert seen.endswith(b"\r\x1b[Kinterrupted\r\n"), seen[-200:]


def test_output_into_head_ends_quietly() -> None:
    process = subprocess.Popen([*WBA, "events", str(SAMPLES)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"time (UTC)")
    process.stdout.close()  # This is what `head -1` does.
    assert (process.wait(timeout=120), process.stderr.read()) == (0, b"")  # stderr says why, if not
