"""`wba diff BEFORE AFTER`: did the fix work? Per server: status change, causes gone/new/still there,
and the change in failure rate. Each side is a JSON report (`wba report/triage -f json`) or logs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from analyzer.errors import AnalyzerError
from analyzer.reports import model as m
from analyzer.reports.json import ReportFormatError

if TYPE_CHECKING:
    from pathlib import Path


class NotAReport(AnalyzerError):
    """A side that looks like a JSON report but is not a wba report."""


def load_report(path: Path) -> m.Report | None:
    """The JSON report at `path`, or None when `path` is not JSON (logs, to be read); NotAReport
    when it is JSON but not a wba report (the model says what one is)."""
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() != ".json" and not head.startswith(b"{"):
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise NotAReport(f"{path}: not valid JSON: give a wba JSON report (-f json) or logs") from None
    try:
        return m.load(doc)
    except ReportFormatError as exc:
        raise NotAReport(f"{path}: not a wba JSON report ({exc})") from None


def _failure_rate(server: m.Server | None) -> float | None:
    if server is None:
        return None
    ops = server.operations.values()
    started = sum(c.started for c in ops)
    return round(sum(c.failed + c.unfinished for c in ops) / started, 3) if started else None


def compare(before: m.Report, after: m.Report) -> m.Diff:
    old = {s.computer: s for s in before.servers}
    new = {s.computer: s for s in after.servers}
    servers = []
    for name in sorted(old.keys() | new.keys(), key=str.casefold):
        a, b = old.get(name), new.get(name)
        causes_a = [c.id for c in a.causes] if a else []
        causes_b = [c.id for c in b.causes] if b else []
        rate_a, rate_b = _failure_rate(a), _failure_rate(b)
        servers.append(
            m.ServerChange(
                server=name,
                status_before=a.status if a else None,
                status_after=b.status if b else None,
                failure_rate_before=rate_a,
                failure_rate_after=rate_b,
                failure_rate_change=round(rate_b - rate_a, 3) if rate_a is not None and rate_b is not None else None,
                resolved=[c for c in causes_a if c not in causes_b],
                new=[c for c in causes_b if c not in causes_a],
                persisting=[c for c in causes_b if c in causes_a],
            )
        )
    return m.Diff(schema_version=m.SCHEMA_VERSION, before=before.command, after=after.command, servers=servers)
