"""--redact: no user, DN, anchor (and with --redact-hosts no computer or namespace) survives in any output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.fields import extract
from analyzer.reader import FileReport, read_file
from tests.conftest import ROOT, SAMPLES

FORMATS = {
    "report": ["table", "markdown", "json", "html"],
    "triage": ["table", "markdown", "json", "html"],
    "timeline": ["table", "markdown", "json", "csv", "jsonl"],
}


def _secrets() -> tuple[set[str], set[str]]:
    """(personal values, host values) found in the sample logs."""
    personal, hosts = set(), set()
    for path in sorted(SAMPLES.glob("*.evtx")):
        for event in read_file(path, "rust", FileReport(str(path), "rust")):
            if event.computer:
                hosts |= {event.computer, event.computer.split(".")[0]}
            fields = extract("\n".join(event.data))
            for value in (fields.upn, fields.admin_upn, fields.cloud_anchor, fields.source_anchor, fields.dn):
                if value:
                    personal.add(value)
            if fields.upn:
                personal.add(fields.upn.split("@")[0])  # the user name part on its own
            if fields.dn:
                personal |= set(re.findall(r"CN=([^,]+)", fields.dn))
            if fields.namespace:
                hosts.add(fields.namespace)
    return personal, hosts


def _outputs(*extra: str) -> dict[str, str]:
    runner = CliRunner()
    out = {}
    for command, formats in FORMATS.items():
        for fmt in formats:
            args = [command, "samples", "-f", fmt, "--redact", "--redact-key", "test-key", *extra]
            variants = [args, [*args, "--operations"]] if command == "timeline" else [args]
            for variant in variants:
                result = runner.invoke(app, variant)
                assert result.exit_code == 0, result.stderr
                out[" ".join(variant)] = result.stdout
    return out


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_no_personal_or_host_value_survives_any_format() -> None:
    personal, hosts = _secrets()
    assert len(personal) > 100 and len(hosts) >= 10
    for name, text in _outputs("--redact-hosts").items():
        lowered = text.casefold()
        leaked = sorted(v for v in personal | hosts if len(v) >= 4 and v.casefold() in lowered)
        assert leaked == [], f"{name}: {leaked[:5]}"


def test_without_redact_hosts_the_servers_stay_but_people_go() -> None:
    personal, _ = _secrets()
    text = _outputs()["report samples -f json --redact --redact-key test-key"]
    assert "AADC02.corp.fabrikam.com" in text
    assert not [v for v in personal if len(v) >= 4 and v.casefold() in text.casefold()]


def test_pseudonyms_are_stable_per_key_and_keep_correlation() -> None:
    runner = CliRunner()

    def report(key: str) -> str:
        return runner.invoke(app, ["timeline", "samples", "-f", "csv", "--redact", "--redact-key", key]).stdout

    first, again, other = report("k1"), report("k1"), report("k2")
    assert first == again and first != other
    plain = runner.invoke(app, ["timeline", "samples", "-f", "csv"]).stdout
    real = set(re.findall(r"[\w.]+@[\w.]+", plain))
    pseudonyms = set(re.findall(r"user-[0-9a-f]{10}@redacted\.invalid", first))
    assert len(pseudonyms) == len(real) > 20  # one pseudonym per real user: correlation survives


def test_random_key_is_announced(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "samples/healthy.evtx", "--redact", "-f", "json"])
    assert result.exit_code == 0 and result.stderr.startswith("redaction key: ")
    assert CliRunner().invoke(app, ["report", "samples", "--redact-key", "x"]).exit_code == 2
