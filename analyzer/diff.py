"""`wba diff BEFORE AFTER`: did the fix work? Per server: status change, causes gone/new/still there,
and the change in failure rate. Each side is a JSON report (`wba report/triage -f json`) or logs."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

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
        return "-"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float):
        return f"{value:+.0%}" if key == "failure_rate_change" else f"{value:.0%}"
    return value


def render(diff: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(diff, indent=2, ensure_ascii=False) + "\n"
    rows = [[_cell(k, v) for k, v in s.items()] for s in diff["servers"]]
    style = "github" if fmt == "markdown" else "simple"
    return tabulate(rows, headers=[k.replace("_", " ") for k in CHANGE_KEYS], tablefmt=style) + "\n"
