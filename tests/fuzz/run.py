"""Fuzz the readers: mutated sample logs read by both engines, each case in a guarded worker (a time
limit per case), and checked for agreement. Prints the figures.

    python tests/fuzz/run.py --cases 5000 --seed 1

Half the cases are structure-aware mutations (`structure.py`: fields by meaning, checksums fixed in
~70 % of cases), half byte-level ones (`mutate.py`). Every case is read as `wba files` reads (every
record parsed) and as `wba report` reads (records of other providers only counted), by both engines,
and by the rust engine a chunk per piece too (as big logs are read in parallel). A case agrees when
the engines give the same events and the same account (records, unreadable, problems, error) in
both ways, the two ways give the same account, the report's partial results are the same, and the
pieces merge into the whole read.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analyzer.catalogue.loader import load  # noqa: E402
from analyzer.evtx.layout import chunks_in  # noqa: E402
from analyzer.ingest.inputs import Input  # noqa: E402
from analyzer.ingest.read import FileReport, merge_pieces, read_file  # noqa: E402
from analyzer.run import pool  # noqa: E402
from analyzer.run.pipeline import read_input  # noqa: E402
from tests.fuzz import mutate as bytewise  # noqa: E402
from tests.fuzz import structure  # noqa: E402

LIMIT = 20.0  # seconds per case (four reads per engine); a case over it is a hang
CATALOGUE = load()  # loaded before the workers fork: each has it


def base_inputs(chunks: int = 3) -> list[bytes]:
    """The samples cut to their first chunks (fast cases, every structure still there)."""
    return [p.read_bytes()[: 0x1000 + chunks * 0x10000] for p in sorted((ROOT / "samples").glob("*.evtx"))]


def _account(report: FileReport) -> tuple[Any, ...]:
    return (report.events, report.unreadable, report.expected, report.chunks, report.problems, report.error)


def check_case(path: str) -> tuple[str, str, list[str]]:
    """Read one case every way; returns (status, first disagreement or "", every disagreement)."""
    source = Path(path)
    item = Input(path, source, "evtx")
    full: dict[str, tuple[list[Any], FileReport]] = {}
    found: list[str] = []
    for engine in ("rust", "python"):
        report = FileReport(path, engine)
        events = list(read_file(source, engine, report))
        full[engine] = (events, report)
        skipped, partial, _ = read_input(item, engine, CATALOGUE, CATALOGUE.wanted())
        if _account(skipped) != _account(report):
            found.append(f"report-account-{engine}")
        full[engine + "-partial"] = (partial.events, skipped)  # type: ignore[assignment]
        full[engine + "-coverage"] = (sorted(partial.coverage.items()), skipped)  # type: ignore[assignment]
    (rust, rust_report), (python, python_report) = full["rust"], full["python"]
    if rust != python:
        found.append("events")
    if _account(rust_report) != _account(python_report):
        found.append("account")
    if full["rust-partial"][0] != full["python-partial"][0] or full["rust-coverage"][0] != full["python-coverage"][0]:
        found.append("report-events")
    if not _pieces_agree(source, rust_report, rust):
        found.append("pieces")
    if rust_report.error is None and rust_report.events + rust_report.unreadable != rust_report.expected:
        found.append("invariant")  # records read + unreadable = records the chunk headers declare
    status = rust_report.status
    differing = [f for f in found if f != "invariant"]
    return status, (differing[0] if differing else ""), found


def _pieces_agree(path: Path, whole: FileReport, events: list[Any]) -> bool:
    """Read a chunk per piece with the rust engine: merged, the pieces must equal the whole read."""
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


def make_case(bases: list[bytes], rng: random.Random, index: int, sites: list[list[Any]]) -> tuple[bytes, str]:
    """Case `index`: even ones structure-aware, odd ones byte-level."""
    choice = rng.randrange(len(bases))
    if index % 2 == 0:
        data, changed = structure.mutate(bases[choice], rng, sites[choice])
        return data, "+".join(changed)
    kind = bytewise.KINDS[(index // 2) % len(bytewise.KINDS)]
    return bytewise.mutate(bases[choice], kind, rng), kind


def run(cases: int, seed: int, workers: int = 2, chunks: int = 3, show: bool = False) -> dict[str, Any]:
    rng = random.Random(seed)
    bases = base_inputs(chunks)
    sites = [structure.sites(b) for b in bases]
    outcomes: Counter[str] = Counter()
    differences: Counter[str] = Counter()
    hangs = crashes = 0
    with tempfile.TemporaryDirectory(prefix="wba-fuzz-") as folder:
        tasks, labels = [], []
        for i in range(cases):
            data, label = make_case(bases, rng, i, sites)
            path = Path(folder) / f"case{i:05d}.evtx"
            path.write_bytes(data)
            tasks.append((str(path),))
            labels.append(label)
        started = time.monotonic()
        for (path,), label, result in zip(tasks, labels, pool.run(check_case, tasks, workers, LIMIT), strict=True):
            if isinstance(result, pool.Failed):
                if "longer than" in result.reason:
                    hangs += 1
                else:
                    crashes += 1
                print(f"{result.reason}: {Path(path).name} ({label})", file=sys.stderr)
                continue
            status, first, found = result
            outcomes[status if not first else "disagree"] += 1
            differences.update(found)
            if found and show:
                print(f"{Path(path).name} ({label}): {', '.join(found)}", file=sys.stderr)
        seconds = time.monotonic() - started
    return {
        "cases": cases,
        "hangs": hangs,
        "crashes": crashes,
        "disagreements": outcomes["disagree"],
        "outcomes": dict(sorted(outcomes.items())),
        "differences": dict(sorted(differences.items())),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="one stderr line per disagreeing case")
    args = parser.parse_args()
    figures = run(args.cases, args.seed, args.workers, show=args.show)
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
