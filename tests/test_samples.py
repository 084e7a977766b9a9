"""samples/: up to date with the scenarios, multi-chunk, and holding what each scenario promises."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from analyzer.evtx import layout
from analyzer.ingest.read import FileReport, read_file
from tests.conftest import ROOT, SAMPLES


def _events(name: str) -> list:
    return list(read_file(SAMPLES / name, "rust", FileReport(name, "rust")))


def test_samples_rebuild_byte_identically() -> None:
    command = [sys.executable, "-m", "analyzer.testkit.samples", "--check"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_samples_is_a_folder_of_logs_only() -> None:
    """So that `wba report samples/`, the README's first command, reads every file and says nothing
    of files passed over (a folder's non-logs get a `skipped:` line each)."""
    assert {p.suffix for p in SAMPLES.iterdir()} == {".evtx"}


def test_every_sample_spans_several_chunks(sample_files: list[Path]) -> None:
    for path in sample_files:
        assert len(layout.scan(path).chunks) >= 3, path.name


def test_scenarios_hold_their_evidence() -> None:
    permissions = _events("ad-permissions.evtx")
    texts = Counter((e.provider, e.event_id) for e in permissions)
    assert texts[("PasswordResetService", 33004)] >= 20
    assert texts[("ADSync", 6329)] == texts[("PasswordResetService", 33004)]
    assert all("0x80230626" in e.data[0] for e in permissions if e.event_id == 6329)
    policy = Counter((e.provider, e.event_id) for e in _events("password-policy.evtx"))
    assert policy[("PasswordResetService", 33008)] > 0 and policy[("PasswordResetService", 31007)] > 0
    outage = _events("connectivity-outage.evtx")
    joined = " ".join(e.data[0] for e in outage if e.provider == "PasswordResetService")
    for fragment in (
        "(407) Proxy Authentication Required",
        "The remote certificate is invalid",
        "ServiceBusWarning",
        "No serviceHost for service bus endpoints",
    ):
        assert fragment in joined
    steps = [e.event_id for e in _events("disable-reenable.evtx") if e.event_id in (31012, 31013, 31004, 31005)]
    assert steps == [31012, 31013, 31004, 31005]
    healthy = Counter(e.event_id for e in _events("healthy.evtx") if e.provider == "PasswordResetService")
    assert healthy[31001] == healthy[31002] and not any(33000 <= k < 34000 for k in healthy)
