"""`wba diff BEFORE AFTER`: did the fix work? Per server: status change, causes gone/new/still there,
and the change in failure rate. Each side is a JSON report (`wba report/triage -f json`) or logs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError
from analyzer.textsafe import json_text

if TYPE_CHECKING:
    from pathlib import Path

CHANGE_KEYS = [
    "server",
    "status_before",
    "status_after",
    "failure_rate_before",
    "failure_rate_after",
    "failure_rate_change",
    "resolved",
    "new",
    "persisting",
]


class NotAReport(AnalyzerError):
    """A side that looks like a JSON report but is not a wba report."""


def load_report(path: Path) -> dict[str, Any] | None:
    """The JSON report at `path`, or None when `path` is not JSON (logs, to be read); NotAReport
    when it is JSON but not a wba report."""
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
    if not isinstance(doc, dict) or not isinstance(doc.get("servers"), list):
        raise NotAReport(f"{path}: not a wba JSON report (no servers)")
    for server in doc["servers"]:
        if not isinstance(server, dict) or not _well_formed(server):
            raise NotAReport(f"{path}: not a wba JSON report (a server lacks computer, status, operations or causes)")
    return doc


def _well_formed(server: dict[str, Any]) -> bool:
    try:
        counts = list(server["operations"].values())
        return (
            isinstance(server["computer"], str)
            and isinstance(server["status"], str)
            and all(isinstance(c[k], int) for c in counts for k in ("started", "failed", "unfinished"))
            and all(isinstance(c["id"], str) for c in server["causes"])
        )
    except (KeyError, TypeError, AttributeError):
        return False


def _failure_rate(server: dict[str, Any] | None) -> float | None:
    if server is None:
        return None
    ops = server["operations"].values()
    started = sum(c["started"] for c in ops)
    return round(sum(c["failed"] + c["unfinished"] for c in ops) / started, 3) if started else None


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    old = {s["computer"]: s for s in before["servers"]}
    new = {s["computer"]: s for s in after["servers"]}
    servers = []
    for name in sorted(old.keys() | new.keys(), key=str.casefold):
        a, b = old.get(name), new.get(name)
        causes_a = [c["id"] for c in a["causes"]] if a else []
        causes_b = [c["id"] for c in b["causes"]] if b else []
        rate_a, rate_b = _failure_rate(a), _failure_rate(b)
        servers.append(
            {
                "server": name,
                "status_before": a["status"] if a else None,
                "status_after": b["status"] if b else None,
                "failure_rate_before": rate_a,
                "failure_rate_after": rate_b,
                "failure_rate_change": round(rate_b - rate_a, 3) if rate_a is not None and rate_b is not None else None,
                "resolved": [c for c in causes_a if c not in causes_b],
                "new": [c for c in causes_b if c not in causes_a],
                "persisting": [c for c in causes_b if c in causes_a],
            }
        )
    return {"schema_version": 1, "before": before.get("command"), "after": after.get("command"), "servers": servers}


def _cell(key: str, value: Any) -> Any:
    if value is None:
        if key == "status_before":
            return "not in BEFORE"
        return "not in AFTER" if key == "status_after" else "-"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float):
        return f"{value:+.0%}" if key == "failure_rate_change" else f"{value:.0%}"
    return value


# Columns a narrow terminal drops first.
DROP = ["failure_rate_before", "failure_rate_after", "status_before", "persisting", "resolved", "failure_rate_change"]
SHRINK = {"server": 16, "resolved": 12, "new": 12, "persisting": 12}


def render(diff: dict[str, Any], fmt: str, width: int | None = None) -> str:
    if fmt == "json":
        return json_text(json.dumps(diff, indent=2, ensure_ascii=False)) + "\n"
    rows = [[_cell(k, v) for k, v in s.items()] for s in diff["servers"]]
    labels = [k.replace("_", " ") for k in CHANGE_KEYS]
    if fmt == "markdown":
        from analyzer.reports.markdown import table

        return "\n".join(table(labels, rows, "en")).rstrip("\n") + "\n"
    from analyzer.reports.columns import grid

    return grid(CHANGE_KEYS, rows, width, drop=DROP, shrink=SHRINK, labels=labels) + "\n"
