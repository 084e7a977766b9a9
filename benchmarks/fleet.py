"""Build a support bundle of N Connect servers (the five scenarios, renamed) for triage runs.

python benchmarks/fleet.py 10 /tmp/fleet10.zip
"""

from __future__ import annotations

import sys
from pathlib import Path

from analyzer.testkit.export_writer import fleet_zip, renamed
from analyzer.testkit.scenarios import SCENARIOS


def main(count: int, target: Path) -> None:
    makers = [make for make, _ in SCENARIOS.values()]
    servers = []
    for i in range(count):
        events = makers[i % len(makers)]()
        name = f"AADC{i + 1:02d}"
        servers.append((name, renamed(events, f"{name}.corp.example.com", record_offset=i * 1000)))
    target.write_bytes(fleet_zip(servers))
    print(f"{target}: {count} servers, {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
