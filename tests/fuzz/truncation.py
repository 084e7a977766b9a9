"""Truncation sweep: each sample cut at every 4 KiB boundary, read with both engines. Every record of
every complete chunk must come back, and what was lost must be counted.

    python tests/fuzz/truncation.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analyzer.evtx import layout  # noqa: E402
from analyzer.ingest.read import FileReport, read_file  # noqa: E402


def sweep(samples: list[Path], step: int = 0x1000) -> dict[str, int]:
    totals = {"cuts": 0, "runs": 0, "expected": 0, "recovered": 0, "accounted": 0, "declared": 0}
    with tempfile.TemporaryDirectory(prefix="wba-cut-") as folder:
        for sample in samples:
            data = sample.read_bytes()
            chunks = layout.scan(sample).chunks
            for cut in range(0x1000, len(data), step):
                path = Path(folder) / f"{sample.stem}-{cut}.evtx"
                path.write_bytes(data[:cut])
                complete = sum(c.expected for c in chunks if c.offset + 0x10000 <= cut)
                totals["cuts"] += 1
                for engine in ("rust", "python"):
                    report = FileReport(str(path), engine)
                    got = sum(1 for _ in read_file(path, engine, report))
                    totals["runs"] += 1
                    totals["expected"] += complete
                    totals["recovered"] += min(got, complete)
                    totals["accounted"] += got + report.unreadable
                    totals["declared"] += report.expected
    return totals


def main() -> None:
    totals = sweep(sorted((ROOT / "samples").glob("*.evtx")))
    for key, value in totals.items():
        print(f"{key}: {value:,}")
    print(f"recovered / in complete chunks: {totals['recovered'] / totals['expected']:.2%}")
    print(f"events + unreadable = declared by chunk headers: {totals['accounted'] == totals['declared']}")


if __name__ == "__main__":
    main()
