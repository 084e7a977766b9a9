"""Fuzz the readers: mutated sample logs through `wba`'s reading with both engines, each file under
the guard (worker process, time limit). Prints the figures.

    python tests/fuzz/run.py --cases 10000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analyzer import guard  # noqa: E402
from analyzer.errors import AnalyzerError  # noqa: E402
from analyzer.reader import FileReport, merge_pieces, read_file  # noqa: E402
from analyzer.sources.layout import chunks_in  # noqa: E402
from tests.fuzz.mutate import KINDS, mutate  # noqa: E402

LIMIT = 10.0


def base_inputs(chunks: int = 3) -> list[bytes]:
    """The samples cut to their first chunks (fast cases, every structure still there)."""
    return [p.read_bytes()[: 0x1000 + chunks * 0x10000] for p in sorted((ROOT / "samples").glob("*.evtx"))]


def read_case(path: str, engine: str) -> tuple[str, int, int]:
    """One case: read everything; an exception escaping here is an uncaught one. With the rust
    engine, the file is read again a chunk per piece (as big logs are read in parallel): merged,
    the pieces must give exactly the whole read's events and account."""
    report = FileReport(path, engine)
    started = time.monotonic()
    try:
        events = list(read_file(Path(path), engine, report))
    except AnalyzerError as exc:
        return f"own-error: {type(exc).__name__}", 0, 0
    elapsed = time.monotonic() - started
    status = "failed" if report.error else ("partial" if report.unreadable or report.problems else "ok")
    if engine == "rust" and not _pieces_agree(Path(path), report, events):
        status = "pieces-differ"
    return status, len(events), int(elapsed * 1000)


def _pieces_agree(path: Path, whole: FileReport, events: list) -> bool:
    places = chunks_in(path.stat().st_size)
    parts, got = [], []
    for start in range(places):
        part = FileReport(whole.path, "rust")
        got += read_file(path, "rust", part, piece=(start, start + 1 if start + 1 < places else None))
        parts.append(part)
    if len(parts) < 2:
        return True
    merged = merge_pieces(parts)
    return merged == whole and (got == events or whole.error is not None)


def run(cases: int, seed: int, workers: int = 2) -> dict[str, object]:
    rng = random.Random(seed)
    bases = base_inputs()
    outcomes: Counter[str] = Counter()
    slow = uncaught = 0
    longest = 0
    with tempfile.TemporaryDirectory(prefix="wba-fuzz-") as folder:
        tasks = []
        for i in range(cases):
            kind = KINDS[i % len(KINDS)]
            data = mutate(rng.choice(bases), kind, rng)
            path = Path(folder) / f"case{i:05d}-{kind}.evtx"
            path.write_bytes(data)
            for engine in ("rust", "python"):
                tasks.append((str(path), engine))
        started = time.monotonic()
        for task, result in zip(tasks, guard.run(read_case, tasks, workers, LIMIT), strict=True):
            if isinstance(result, guard.Failed):
                if "longer than" in result.reason:
                    slow += 1
                    print(f"over {LIMIT:g} s: {task}", file=sys.stderr)
                else:
                    uncaught += 1
                    print(f"uncaught: {task}: {result.reason}", file=sys.stderr)
                continue
            status, _, millis = result
            outcomes[f"{task[1]}:{status.split(':')[0]}"] += 1
            longest = max(longest, millis)
        seconds = time.monotonic() - started
    return {
        "cases": cases,
        "runs": len(tasks),
        "uncaught": uncaught,
        "over_10s": slow,
        "longest_ms": longest,
        "outcomes": dict(sorted(outcomes.items())),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    figures = run(args.cases, args.seed)
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
