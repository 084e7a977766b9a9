"""What issue 13's goals leave for wba's own work, against what that work costs at the least.

    python benchmarks/floor.py [--runs 7]

One 20 MB log of the benchmark set (built by `run.py`), one process, CPU seconds of each step timed
on its own (best of `--runs`). A goal of "k x the bare pass" leaves (k - 1) x the render time for
everything wba does beyond rendering; this prints that allowance per log and the cost of the steps
each path cannot do without, each measured alone, so that the sum is a floor (the real run also
pays for the glue between them, the start-up, and the main process).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evtx import PyEvtxParser

from analyzer.catalogue.loader import load
from analyzer.events import json_list
from analyzer.evtx.layout import scan
from analyzer.ingest.counting import _KEY, Coverage, Triage
from analyzer.ingest.engines.rust import _DATA, _PLAIN, _Liner, plain_event
from analyzer.ingest.inputs import open_inputs
from analyzer.run.export import _spill
from analyzer.run.pipeline import read_input

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent
LOG = HERE / ".data" / "fleet" / "srv01.evtx"


def best(step: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return min(times)


def render(method: str) -> list[dict[str, Any]]:
    records = getattr(PyEvtxParser(str(LOG), number_of_threads=1, indent=False), method)()
    batches: list[dict[str, Any]] = []
    while batch := list(islice(records, 1024)):  # as wba reads them
        batches.extend(batch)
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    if not LOG.exists():
        sys.exit(f"{LOG} is missing: run `python benchmarks/run.py --only-issue-13` once to build it")
    records = render("records")
    xmls = [r["data"] for r in records]
    batches = [records[i : i + 1024] for i in range(0, len(records), 1024)]
    catalogue = load()
    wanted = catalogue.wanted(False)
    kept = [x for x in xmls if (e := plain_event(x, "f")) and _wanted(e.provider, e.event_id, wanted)]
    n = len(xmls)

    def judge() -> None:  # wba's judgement of every record, and the coverage of the ones it skips
        triage = Triage(wanted, Coverage())
        for batch in batches:
            list(triage.parse(batch))

    def values() -> None:  # a record's data values as JSON: what any events line must hold
        for x in xmls:
            json_list([v for _, v in _DATA.findall(x)])

    rest, engine = ("rust", catalogue, wanted, None, True), ("rust",)
    with open_inputs([LOG]) as inputs, tempfile.TemporaryDirectory() as folder:
        item, spill = inputs.files[0], Path(folder)
        steps: dict[str, tuple[str, Callable[[], Any]]] = {
            "xml": ("render: pyevtx-rs records() (XML)", lambda: render("records")),
            "json": ("render: pyevtx-rs records_json()", lambda: render("records_json")),
            "sha": ("report needs: sha256 of the file (listed in the report)", lambda: _sha(LOG)),
            "scan": ("report needs: chunk scan (checksums, record accounting)", lambda: scan(LOG)),
            "slice": (
                "report needs: one slice of every record's start (the least judging)",
                lambda: list(map(_KEY, xmls)),
            ),
            "kept": (
                f"report needs: reading the {len(kept):,} kept records",
                lambda: [plain_event(x, "f") for x in kept],
            ),
            "judge": ("report does: wba's judging and coverage of every record", judge),
            "report": ("report does: read_input whole (a worker's work)", lambda: read_input(item, *rest)),
            "match": ("events needs: one regex match of every record", lambda: list(map(_PLAIN.match, xmls))),
            "values": ("events needs: every record's data values as JSON", values),
            "lines": (
                "events does: wba's JSON lines of every record",
                lambda: list(map(_Liner(str(LOG), "json"), xmls)),
            ),
            "jsonl": (
                "events does: a worker's whole JSONL spill",
                lambda: _spill(*engine, "jsonl", None, spill, 0, item, None),
            ),
            "parquet": (
                "events does: a worker's whole Parquet spill",
                lambda: _spill(*engine, "parquet", None, spill, 1, item, None),
            ),
        }
        cost = {key: best(step, runs) for key, (_, step) in steps.items()}
    labels = {key: label for key, (label, _) in steps.items()}
    labels["start"] = f"start-up: wba's on a non-log beyond a bare pool's, a fifth (of {FIVE} logs)"
    cost["start"] = (_startup(WBA) - _startup(BARE)) / FIVE
    print(f"one log: {LOG.name}, {LOG.stat().st_size / 2**20:.1f} MB, {n:,} records; CPU s, best of {runs}\n")
    print("| step | s | µs a record |\n|---|---|---|")
    for key, label in labels.items():
        print(f"| {label} | {cost[key]:.3f} | {cost[key] / n * 1e6:.2f} |")
    report_floor = sum(cost[k] for k in ("start", "sha", "scan", "slice", "kept"))
    events_floor = sum(cost[k] for k in ("start", "scan", "match", "values"))
    print("\n| goal | allowance beyond rendering, per log | floor of the needed steps | wba now |\n|---|---|---|---|")
    goals = (
        ("I1 report <= 1.5 x records()", 0.5 * cost["xml"], report_floor, cost["report"] - cost["xml"]),
        ("I2 JSONL <= 3 x records_json()", 2 * cost["json"], events_floor, cost["jsonl"] - cost["json"]),
        ("I3 Parquet <= 3 x records_json()", 2 * cost["json"], events_floor, cost["parquet"] - cost["json"]),
    )
    for goal, allowed, floor, now in goals:
        print(f"| {goal} | {allowed:.3f} | {floor:.3f} | {now:.3f} |")
    print("\n(the floor is the sum of the 'needs' steps and the share of start-up: no glue, no main process)")


def _wanted(provider: str, event_id: int, wanted: dict[str, frozenset[int] | None]) -> bool:
    if provider not in wanted:
        return False
    ids = wanted[provider]
    return ids is None or event_id in ids


FIVE = 5
WBA = [sys.executable, "-m", "analyzer", "report", "-q", __file__, "-f", "json", "-o", os.devnull]
BARE = [sys.executable, "-c", "from multiprocessing import Pool\nimport evtx\nwith Pool(2) as p: p.map(abs, [1, 2])"]


def _startup(command: list[str]) -> float:
    """CPU of a command's whole process tree, best of five."""
    times = []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, capture_output=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return min(times)


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


if __name__ == "__main__":
    main()
