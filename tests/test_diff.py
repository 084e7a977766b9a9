"""`wba diff`: before/after a fix, from JSON reports or from logs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import Server, _clock
from tests.conftest import SAMPLES


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_fix_worked(tmp_path: Path) -> None:
    before = tmp_path / "before.json"
    code, out, _ = _run("report", str(SAMPLES / "ad-permissions.evtx"), "-f", "json")
    before.write_text(out, encoding="utf-8")
    fixed = Server("AADC02.corp.fabrikam.com", "fabrikam.com", seed=9, start=_clock(22), hours=12)
    fixed.noise()
    fixed.heartbeats(fixed.start, fixed.end)
    fixed.day_of_operations(fixed.start + timedelta(hours=1), fixed.end, 20, lambda kind, user: "success")
    after = tmp_path / "after.evtx"
    after.write_bytes(evtx_bytes(fixed.events()))
    code, out, err = _run("diff", str(before), str(after), "-f", "json")
    assert (code, err) == (0, "")
    [server] = json.loads(out)["servers"]
    assert (server["status_before"], server["status_after"]) == ("failing", "healthy")
    assert server["resolved"] == ["connector-permissions"] and server["new"] == server["persisting"] == []
    assert server["failure_rate_before"] == 0.789 and server["failure_rate_after"] == 0.0
    assert server["failure_rate_change"] == -0.789
    code, table, _ = _run("diff", str(before), str(after))
    assert code == 0 and "failing" in table and "-79%" in table


def test_persisting_and_new_causes() -> None:
    code, out, _ = _run("diff", str(SAMPLES / "password-policy.evtx"), str(SAMPLES), "-f", "json")
    assert code == 0
    servers = {s["server"]: s for s in json.loads(out)["servers"]}
    assert servers["ENTRACONNECT01.contoso.com"]["persisting"] == ["password-policy", "password-minimum-age"]
    assert servers["AADC02.corp.fabrikam.com"]["status_before"] is None
    assert servers["AADC02.corp.fabrikam.com"]["new"] == ["connector-permissions"]


def test_bad_json_side(tmp_path: Path, capsys) -> None:
    from analyzer.cli import main

    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    assert main(["diff", str(bad), str(SAMPLES / "healthy.evtx")]) == 2  # a usage error
    err = capsys.readouterr().err
    assert f"Invalid value for BEFORE: {bad}: not a wba JSON report" in err and "Traceback" not in err


def test_a_saved_triage_is_a_side_and_the_diff_json_is_the_model(tmp_path: Path) -> None:
    from analyzer.reports.json import dumps
    from analyzer.reports.model import Diff

    before = tmp_path / "triage.json"
    code, out, _ = _run("triage", str(SAMPLES), "-f", "json", "-q")
    before.write_text(out, encoding="utf-8")
    code, out, err = _run("diff", str(before), str(SAMPLES / "healthy.evtx"), "-f", "json")
    assert (code, err) == (0, "")
    assert dumps(Diff.from_json(json.loads(out))) == out  # written from the model, loads back whole
    servers = {s["server"]: s for s in json.loads(out)["servers"]}
    assert (
        servers["AADC01.contoso.com"]["persisting"] == [] and servers["AADC01.contoso.com"]["status_after"] == "healthy"
    )
    assert servers["AADC02.corp.fabrikam.com"]["status_after"] is None


def _broken(path: Path, change) -> Path:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    broken = path.parent / "broken.json"
    broken.write_text(json.dumps(doc), encoding="utf-8")
    return broken


def test_a_report_that_is_not_of_the_model_is_refused_saying_where(tmp_path: Path, capsys) -> None:
    """A saved report is read through the model: each problem is a usage error that says where it
    is, and never quotes the file's values (a report holds user and server names)."""
    from analyzer.cli import main

    saved = tmp_path / "report.json"
    saved.write_text(_run("report", str(SAMPLES / "ad-permissions.evtx"), "-f", "json")[1], encoding="utf-8")
    cases = [
        (lambda d: d["servers"][0].pop("operations"), "servers[0].operations: missing"),
        (
            lambda d: d["servers"][0]["operations"]["reset"].update(failed="3"),
            "servers[0].operations.reset.failed: expected integer",
        ),
        (
            lambda d: d["servers"][0].update(status="broken"),
            "servers[0].status: not one of failing, degraded, no-data, healthy",
        ),
        (lambda d: d["servers"][0]["causes"][0].update(secret="x"), "servers[0].causes[0]: unknown key secret"),
        (lambda d: d["servers"][0].update({"AADC02.corp.fabrikam.com": 1}), "servers[0]: unknown key ?"),
        (lambda d: d.update(schema_version=2), "schema_version: not 1"),
    ]
    for change, where in cases:
        code = main(["diff", str(_broken(saved, change)), str(SAMPLES / "healthy.evtx")])
        err = capsys.readouterr().err
        assert code == 2 and f"not a wba JSON report ({where})" in err, err
        assert "fabrikam" not in err.replace(str(tmp_path), "") and "Traceback" not in err
