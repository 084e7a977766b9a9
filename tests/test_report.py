"""`wba report` and `wba timeline` on the samples: golden files, scenario findings, filters, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app, main
from tests.conftest import ROOT, SAMPLES

GOLDEN = Path(__file__).parent / "golden"
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.evtx"))


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports name their inputs as given: run from the repository root with relative paths,
    so golden files do not depend on where the checkout lives."""
    monkeypatch.chdir(ROOT)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _report(name: str, fmt: str, engine: str = "auto") -> str:
    code, out, err = _run("report", f"samples/{name}.evtx", "-f", fmt, "--engine", engine)
    assert (code, err) == (0, "")
    return out


@pytest.mark.parametrize("name", SAMPLE_NAMES)
@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_golden_reports(name: str, fmt: str, update_golden: bool) -> None:
    path = GOLDEN / f"{name}.{'json' if fmt == 'json' else 'md'}"
    text = _report(name, fmt)
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text) == json.loads(expected)
    else:
        assert text == expected


def test_golden_zh_cn_report(update_golden: bool) -> None:
    code, text, _ = _run("report", "samples/connectivity-outage.evtx", "-f", "markdown", "--lang", "zh-CN")
    path = GOLDEN / "connectivity-outage.zh-CN.md"
    if update_golden:
        path.write_text(text, encoding="utf-8")
    assert code == 0 and text == path.read_text(encoding="utf-8")
    for term in ("密码写回报告", "服务总线证书不受信任", "检测信号", "跟踪 ID", "修复步骤（按顺序）"):
        assert term in text


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_json_is_byte_identical_across_runs_and_engines(name: str) -> None:
    rust = _report(name, "json", "rust")
    assert rust == _report(name, "json", "rust") == _report(name, "json", "python")


def _server(name: str) -> dict:
    [server] = json.loads(_report(name, "json"))["servers"]
    return server


def test_each_scenario_is_diagnosed_as_samples_readme_says() -> None:
    healthy = _server("healthy")
    assert healthy["status"] == "healthy" and healthy["causes"] == []
    assert all(c["failed"] == c["unfinished"] == 0 for c in healthy["operations"].values())
    assert healthy["health"]["heartbeats"] > 90

    denied = _server("ad-permissions")
    assert denied["status"] == "failing"
    top = denied["causes"][0]
    assert (top["id"], top["event_ids"]) == ("connector-permissions", [6329, 33004])
    assert top["operations"] == sum(c["failed"] for c in denied["operations"].values())
    assert denied["checklist"][0]["item"] == "permissions"

    policy = _server("password-policy")
    # The log ends with four failed operations of three users in a row: broken for everyone by the status rule.
    assert policy["status"] == "failing" and policy["causes"][0]["id"] == "password-policy"
    assert policy["checklist"][0]["item"] == "password-policy"

    outage = _server("connectivity-outage")
    assert outage["status"] == "degraded"
    assert [o["cause"] for o in outage["health"]["outages"]] == ["proxy-auth-required", "tls-certificate-invalid"]
    assert all(o["recovered"] for o in outage["health"]["outages"])
    ids = [c["id"] for c in outage["causes"]]
    assert {"proxy-auth-required", "tls-certificate-invalid", "servicebus-unstable"} <= set(ids)
    assert sum(c["unfinished"] for c in outage["operations"].values()) == 6
    assert outage["namespaces"] == ["ssprdedicatedsbmcprodcne"]

    keys = _server("disable-reenable")
    assert keys["status"] == "degraded" and keys["causes"][0]["id"] == "decryption-key-mismatch"
    names = [e["name"] for e in keys["health"]["service_events"]]
    assert names == ["WriteBackServiceStopped", "SyncServiceStopped", "SyncServiceStarted", "WriteBackServiceStarted"]


def test_report_of_all_samples_ranks_servers_worst_first() -> None:
    code, out, _ = _run("report", str(SAMPLES), "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["schema_version"] == 1 and doc["tool"]["name"] == "wba"
    assert doc["servers"][0]["status"] == "failing"
    assert [s["status"] for s in doc["servers"]][-1] == "healthy"
    assert all(len(i["sha256"]) == 64 and i["unreadable"] == 0 for i in doc["inputs"])
    assert doc["unknown_events"] == []


def test_report_table_and_zh_cn(tmp_path: Path) -> None:
    code, out, _ = _run("report", str(SAMPLES / "ad-permissions.evtx"))
    assert code == 0 and "AADC02.corp.fabrikam.com: failing" in out
    code, out, _ = _run("report", str(SAMPLES / "password-policy.evtx"), "-f", "markdown", "--lang", "zh-CN")
    assert "新密码不符合本地密码策略" in out
    target = tmp_path / "r.md"
    assert _run("report", str(SAMPLES), "-f", "markdown", "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8").startswith("# Password writeback report")


def test_report_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.evtx"
    bad.write_bytes(b"not a log")
    code, out, err = _run("report", str(bad), str(SAMPLES / "healthy.evtx"), "-f", "json")
    assert code == 4 and err.startswith(f"error: {bad}: not an EVTX file")
    doc = json.loads(out)
    assert [s["computer"] for s in doc["servers"]] == ["AADC01.contoso.com"]
    # inputs are sorted by path, and where the checkout lives decides whether tmp_path sorts first
    failed = next(i for i in doc["inputs"] if i["path"] == str(bad))
    assert failed["error"].startswith("not an EVTX file") and failed["sha256"] is None
    assert _run("report", str(SAMPLES), "-f", "pdf")[0] == 2
    code = main(["report", str(SAMPLES), "--codes", str(tmp_path / "missing")])  # through the real entry point
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: invalid catalogue:") and "Traceback" not in err


def _timeline(*args: str) -> list[dict]:
    code, out, err = _run("timeline", str(SAMPLES), "-f", "json", *args)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_timeline_rows_are_in_time_order_with_the_columns() -> None:
    rows = _timeline()
    assert list(rows[0]) == [
        "time",
        "server",
        "provider",
        "code",
        "name",
        "level",
        "user",
        "tracking_id",
        "cause",
        "meaning",
    ]
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert {r["provider"] for r in rows} == {"PasswordResetService", "ADSync", "Directory Synchronization"}


def test_timeline_filters() -> None:
    everything = _timeline()
    codes = _timeline("--code", "33004,32000-32015")
    assert codes and {r["code"] for r in codes} <= {33004, *range(32000, 32016)}
    assert len(codes) == sum(1 for r in everything if r["code"] == 33004 or 32000 <= r["code"] <= 32015)
    errors = _timeline("--level", "error", "--level", "warning")
    assert errors and all(r["level"] in ("error", "warning") for r in errors)
    one = _timeline("--computer", "aadc03.contoso.com")
    assert one and {r["server"] for r in one} == {"AADC03.contoso.com"}
    user = _timeline("--user", "maria.garcia@fabrikam")
    assert user and all("maria.garcia@fabrikam" in r["user"] for r in user)
    tid = next(r["tracking_id"] for r in everything if r["code"] == 33004)
    same = [r for r in everything if r["tracking_id"] == tid]  # its start and its failure
    assert [r["code"] for r in same] == [31001, 33004]
    assert _timeline("--tracking-id", tid.upper()) == _timeline("--tracking-id", tid) == same
    window = _timeline("--since", "2026-11-20T09:00:00Z", "--until", "2026-11-20T10:00")
    assert window and all("2026-11-20T09:00" <= r["time"] <= "2026-11-20T10:00" for r in window)
    last_day = _timeline("--since", "24h")
    newest = max(r["time"] for r in everything)
    assert last_day and min(r["time"] for r in last_day) >= "2026-11-20T23:40" and newest == last_day[-1]["time"]


def test_timeline_operations() -> None:
    rows = _timeline("--operations", "--computer", "AADC-SH01.contoso.cn")
    assert list(rows[0]) == [
        "start",
        "server",
        "kind",
        "user",
        "duration_s",
        "outcome",
        "cause",
        "tracking_id",
        "events",
    ]
    unfinished = [r for r in rows if r["outcome"] == "unfinished"]
    assert len(unfinished) == 6 and all(
        r["cause"] in ("proxy-auth-required", "tls-certificate-invalid") for r in unfinished
    )
    failed = _timeline("--operations", "--code", "33004")
    assert failed and all(r["outcome"] == "failed" and "33004" in r["events"] for r in failed)


def test_timeline_bad_filters_are_usage_errors() -> None:
    for args in (["--since", "yesterday"], ["--code", "31x"], ["--level", "loud"]):
        code, _, err = _run("timeline", str(SAMPLES), *args)
        assert code == 2 and "Invalid value" in err, args


def test_every_golden_json_loads_into_the_model_and_dumps_back_byte_for_byte() -> None:
    from analyzer.reports.json import dumps
    from analyzer.reports.model import Fleet, load

    checked = 0
    for path in sorted(GOLDEN.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        value = json.loads(text)
        if "rows" in value:  # a triage golden: its rows and its fleet
            assert Fleet.from_json(value["fleet"]).to_json() == value["fleet"], path.name
        else:
            assert dumps(load(value)) == text, path.name
            checked += 1
    assert checked == len(SAMPLE_NAMES)


def test_the_contract_document_is_generated_from_the_model(update_golden: bool) -> None:
    from analyzer.reports.model import contract

    path = ROOT / "docs" / "report-contract.md"
    if update_golden:
        path.write_text(contract(), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text == contract()
    for key in ("client_versions", "namespace_hosts", "operation_list", "fleet", "unreadable", "persisting"):
        assert f"| `{key}` |" in text


def test_every_renderer_module_declares_what_the_registry_maps() -> None:
    import importlib
    import pkgutil

    from analyzer import reports
    from analyzer.reports import RENDERERS, formats, render
    from analyzer.reports.model import load

    declared = {}
    for info in pkgutil.iter_modules(reports.__path__):
        module = importlib.import_module(f"analyzer.reports.{info.name}")
        if hasattr(module, "render"):
            assert info.name == module.FORMAT
            declared |= {(kind, module.FORMAT): info.name for kind in module.KINDS}
    assert declared == RENDERERS
    assert formats("report") == ("table", "markdown", "json", "html") and formats("explain") == formats("diff")
    report = load(json.loads((GOLDEN / "healthy.json").read_text(encoding="utf-8")))
    for fmt in formats("report"):
        assert "AADC01.contoso.com" in render(report, fmt)
    with pytest.raises(ValueError, match="no pdf rendering of a report document"):
        render(report, "pdf")


def test_a_namespace_that_changes_mid_log_is_kept_with_first_and_last_seen(tmp_path: Path) -> None:
    """Every Service Bus host a server's events name, each with when it was first and last named."""
    from datetime import timedelta

    from analyzer.reports.rows import short
    from analyzer.testkit.export_writer import evtx_bytes
    from analyzer.testkit.scenarios import Server, _clock

    server = Server("AADC05.contoso.com", "contoso.com", seed=5, start=_clock(1), hours=24)
    middle = server.start + timedelta(hours=12)
    server.heartbeats(server.start, middle)
    old = server.namespace
    server.namespace = "ssprdedicatedsbprodnew-9"
    server.heartbeats(middle, server.end)
    path = tmp_path / "moved.evtx"
    path.write_bytes(evtx_bytes(server.events()))
    [found] = json.loads(_run("report", str(path), "-f", "json")[1])["servers"]
    hosts = found["namespace_hosts"]
    assert [h["host"] for h in hosts] == [
        f"{old}.servicebus.windows.net",
        "ssprdedicatedsbprodnew-9.servicebus.windows.net",
    ]
    assert hosts[0]["first_seen"] < hosts[0]["last_seen"] < middle.isoformat() < hosts[1]["first_seen"]
    assert hosts[1]["last_seen"] == found["last_heartbeat"]
    assert sum(h["events"] for h in hosts) == found["health"]["heartbeats"] == 48
    assert found["namespaces"] == sorted([old, "ssprdedicatedsbprodnew-9"])
    markdown = _run("report", str(path), "-f", "markdown")[1]
    line = next(line for line in markdown.splitlines() if "Service Bus namespace" in line)
    first, last = short(hosts[0]["first_seen"]), short(hosts[1]["last_seen"])
    assert f"{old} ({first} → " in line and "ssprdedicatedsbprodnew-9 (" in line and line.endswith(f"{last})")
