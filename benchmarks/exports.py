"""Exports are streamed: peak RSS reading a 300 MB Event Viewer CSV (and a 300 MB PowerShell JSON)
against a 30 MB one. Issue 12: a 300 MB CSV export was read whole (1.07 GB RSS).

    python benchmarks/exports.py          # builds under benchmarks/.data/exports once
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from data import application_log  # noqa: E402
from run import WBA, run  # noqa: E402

from analyzer.ingest.read import FileReport, read_file  # noqa: E402
from analyzer.testkit.export_writer import csv_export, powershell_json  # noqa: E402


def build(base: Path, target: Path, size: int, kind: str) -> None:
    """Copies of the base log's events, a day later each, until `target` holds `size` bytes."""
    events = list(read_file(base, "rust", FileReport(str(base), "rust")))
    with target.open("w", encoding="utf-8", newline="") as out:
        day = 0
        while out.tell() < size:
            moved = [replace(e, time_created=e.time_created + timedelta(days=day)) for e in events]
            if kind == "csv":
                text = csv_export(moved, region="en-GB")
                out.write(text if day == 0 else text.split("\r\n", 1)[1])
            else:  # One JSON array holds the copies, joined inside it.
                text = powershell_json(moved).strip()
                out.write(("[" if day == 0 else ",") + text[1:-1])
            day += 1
        if kind == "json":
            out.write("]")


def main() -> None:
    data = HERE / ".data" / "exports"
    data.mkdir(parents=True, exist_ok=True)
    base = data / "base-20mb.evtx"
    if not base.exists():
        application_log(base, 20, seed=11, computer="AADC55.corp.example.com")
    for kind in ("csv", "json"):
        for megabytes in (30, 300):
            path = data / f"export-{megabytes}mb.{kind}"
            if not path.exists():
                build(base, path, megabytes << 20, kind)
            for command in ("files", "report"):
                seconds, rss = run([*WBA, command, str(path), "-f", "json", "-o", str(data / "out.json")])
                print(
                    f"wba {command} {path.name}: {path.stat().st_size / 1e6:,.0f} MB in {seconds:.1f} s, "
                    f"peak RSS of all processes {rss / 1e6:,.0f} MB"
                )


if __name__ == "__main__":
    main()
