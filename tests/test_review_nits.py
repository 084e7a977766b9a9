"""The nits of the new-user review (research/review.md, "Nits"): each test fails without its fix."""

from __future__ import annotations

from tests.conftest import SAMPLES
from tests.helpers import run_cli


def _table(*args: str, columns: str = "80") -> list[str]:
    code, out, err = run_cli(*args, env={"COLUMNS": columns})
    assert code == 0, err
    return out.splitlines()


# Nit 10: a narrow triage keeps unfinished operations beside the failed ones, and cause ids and titles
# are not cut to a stub.
def test_a_narrow_triage_does_not_hide_unfinished_operations() -> None:
    lines = _table("triage", str(SAMPLES), "-q")
    start = next(i for i, line in enumerate(lines) if line.startswith("server"))
    header = lines[start]
    assert "failed" in header and "unfinished" in header
    outage = next(line for line in lines if line.startswith("AADC-SH01.contoso.cn"))
    # The outage server failed nothing, but six resets never finished: both are shown.
    assert outage.split()[2:4] == ["0", "6"], outage
    assert "tls-certificate-invalid" in outage  # The cause id whole, not `tls-certificate-inva…`.


def test_a_narrow_report_summary_keeps_unfinished_with_failed() -> None:
    lines = _table("report", str(SAMPLES), "-q")
    assert "failed" in lines[0] and "unfinished" in lines[0]
    outage = next(line for line in lines if line.startswith("AADC-SH01.contoso.cn"))
    assert "6" in outage.split()


def test_fleet_cause_titles_are_not_cut_to_a_stub() -> None:
    lines = _table("triage", str(SAMPLES), "-q")
    start = next(i for i, line in enumerate(lines) if line.startswith("cause"))
    rows = [line for line in lines[start + 2 :] if line.strip()]
    assert any(line.startswith("tls-certificate-invalid  Service Bus certificate not trusted ") for line in rows)
    proxy = next(line for line in rows if line.startswith("proxy-auth-required"))
    assert "Proxy requires authentication (HTTP 407)" in proxy
    assert all(len(line) <= 80 for line in lines)


# Nit 15: the minimum-age evidence gives minutes under an hour, not `0.0 h`.
def test_the_minimum_age_evidence_shows_minutes_under_an_hour() -> None:
    from analyzer.analysis.collect import Collector
    from analyzer.catalogue.loader import load
    from tests.helpers import failure, start, success

    events = [start("c1", "u@c.com", 0, "ChangePasswordRequestStart", 31006), success("c1", "u@c.com", 1, eid=31007)]
    events += [start("c2", "u@c.com", 25 * 60), failure("c2", "u@c.com", 25 * 60 + 31, hr="80230619", eid=33008)]
    events += [start("c3", "v@c.com", 0, "ChangePasswordRequestStart", 31006), success("c3", "v@c.com", 1, eid=31007)]
    events += [start("c4", "v@c.com", 40), failure("c4", "v@c.com", 42, hr="80230619", eid=33008)]
    collector = Collector(load())
    for item in events:
        collector.add(item)
    [server] = collector.diagnose()
    age = next(c for c in server.causes if c.id == "password-minimum-age")
    assert sorted(age.evidence) == [
        "previous change of the same user 25 min earlier",
        "previous change of the same user 41 s earlier",
    ]


# Nit 17: config and registry fragments in Markdown fix texts are code spans, not HTML entities.
def test_markdown_fix_texts_put_config_fragments_in_code_spans() -> None:
    code, out, err = run_cli("report", str(SAMPLES / "connectivity-outage.evtx"), "-f", "markdown")
    assert code == 0, err
    assert "machine.config (`<system.net><defaultProxy>`) with" in out
    assert "&lt;system.net" not in out


def test_code_spans_of_fragments_stay_safe() -> None:
    from analyzer.reports.markdown import prose

    assert prose(r"set it under HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319.") == (
        r"set it under `HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319`."
    )
    # A key with a space in its name stays one span; Chinese punctuation ends it.
    assert prose(r"在 HKLM\SCHANNEL\Protocols\TLS 1.2\Client（以及 Server）") == (
        r"在 `HKLM\SCHANNEL\Protocols\TLS 1.2\Client`（以及 Server）"
    )
    # A backtick in a fragment gets a longer fence: it cannot close the span early.
    assert prose("x <a`b> **y**") == "x `` <a`b> `` \\*\\*y\\*\\*"
    assert prose("a <b``>` c") == "a ``` <b``>` ``` c"
    # Text that is no fragment is escaped as before: no HTML, links or table cells.
    assert prose("<img src=x onerror=alert(1)> [l](https://evil.example) | z") == (
        "&lt;img src=x onerror=alert(1)&gt; \\[l\\](https://evil.example) \\| z"
    )
    assert prose("plain text") == "plain text" and prose(None) == "-"


# Nit 18: the table format draws every time range with one arrow.
def test_the_table_format_uses_one_arrow() -> None:
    out = "\n".join(_table("report", str(SAMPLES), "-q", columns="200"))
    assert "->" not in out
    assert "== AADC-SH01.contoso.cn: degraded (2026-11-20T00:00:06Z → 2026-11-21T05:42:03Z)" in out
    assert "outage 2026-11-20T09:00:12Z → 2026-11-20T12:40:20Z:" in out


# Nit 16: the banner of an export filtered to errors says once that the counts are incomplete.
def test_the_banner_of_an_export_filtered_to_errors_says_it_once(tmp_path) -> None:
    from analyzer.testkit.export_writer import xml_export
    from analyzer.testkit.scenarios import SCENARIOS

    errors = [e for e in SCENARIOS["ad-permissions"][0]() if e.level == 2]
    path = tmp_path / "errors.xml"
    path.write_text(xml_export(errors), encoding="utf-8")
    for fmt in ("table", "markdown"):
        code, out, err = run_cli("report", str(path), "-f", fmt)
        assert code == 0, err
        text = " ".join(out.replace("*", "").split())  # Wrapped lines joined, Markdown's bold removed.
        said = text.count("Operation counts incomplete: the inputs hold failures but no starts")
        assert said == 2, text  # The banner and the server's section, each saying it once.
        assert text.lower().count("incomplete") == said


# Nit 12: the China sample names only China's Service Bus; hosts of two clouds are noted.
def test_the_china_sample_names_only_the_china_cloud() -> None:
    import json

    code, out, err = run_cli("report", str(SAMPLES / "connectivity-outage.evtx"), "-f", "json")
    assert code == 0, err
    [server] = json.loads(out)["servers"]
    assert server["cloud"]["id"] == "china"
    hosts = server["namespace_hosts"]
    assert [h["host"] for h in hosts] == ["ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn"]
    assert hosts[0]["events"] > server["health"]["heartbeats"]  # Heartbeats and the outage's errors.


def test_hosts_of_two_clouds_are_noted(tmp_path) -> None:
    from datetime import timedelta

    from analyzer.testkit.export_writer import evtx_bytes
    from analyzer.testkit.scenarios import Server, _clock

    server = Server("AADC-SH02.contoso.cn", "contoso.cn", seed=7, start=_clock(1), hours=24)
    server.namespace = "ssprdedicatedsbmcprodcne"
    middle = server.start + timedelta(hours=8)
    server.heartbeats(server.start, middle)  # Global: the server before it was set up for Azure China.
    server.servicebus = "servicebus.chinacloudapi.cn"
    server.heartbeats(middle, server.end)
    path = tmp_path / "two-clouds.evtx"
    path.write_bytes(evtx_bytes(server.events()))
    note = "Service Bus hosts of more than one cloud (servicebus.chinacloudapi.cn, servicebus.windows.net)"
    code, out, err = run_cli("report", str(path), "-f", "markdown")
    assert code == 0, err
    assert f"Cloud: Azure China (operated by 21Vianet); {note}: a server writes back to one cloud; two " in out
    line = next(line for line in out.splitlines() if "Service Bus namespace" in line)
    # Each host with when it was named: the namespace is the same in both clouds.
    assert "ssprdedicatedsbmcprodcne.servicebus.windows.net (2026-11-01T00:00" in line
    assert "ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn (2026-11-01T08:00" in line
    table = "\n".join(_table("report", str(path), columns="200"))
    assert f"!! {note}" in table
    code, out, err = run_cli("report", str(path), "-f", "markdown", "--lang", "zh-CN")
    assert code == 0 and "服务总线主机属于多个云" in out
    code, out, err = run_cli("report", str(path), "-f", "html")
    assert code == 0 and f'<p class="banner">{note}' in out
    # One cloud: no note.
    code, out, err = run_cli("report", str(SAMPLES), "-f", "markdown")
    assert code == 0 and "more than one cloud" not in out
