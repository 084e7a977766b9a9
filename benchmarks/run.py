"""Speed and memory benchmarks (issue 5). Builds its inputs with the project's EVTX writer, then
measures whole processes side by side in one run and prints a table with the target ratios.

    python benchmarks/run.py                 # everything (builds ~1.1 GB under benchmarks/.data once)
    python benchmarks/run.py --skip-fleet    # P1 and P2 only

P1  wba report over five 20 MB logs (rust engine, whole process) / bare pyevtx-rs pass   target <= 2.0
P2  naive python-evtx (record.xml() for every record) / wba report --engine python (2 MB) target >= 20
P3  wba triage --jobs 1 / --jobs 2 on the 1 GB set (medians)                            target >= 1.7
    peak RSS of the whole process tree (all workers) on 1 GB                             target <= 400 MB
Issue 13, with as many processes as wba uses (one per core) on the five 20 MB logs:
I1  wba report -f json / bare pyevtx-rs records() pass                                  target <= 1.5
I2  wba events -f jsonl -o FILE / bare pyevtx-rs records_json() pass                    target <= 3
I3  wba events -f parquet -o DIR / the same bare records_json() pass                    target <= 3
    peak RSS of events (JSONL, Parquet) over five logs / over one                        target ~1 (flat)
I4  wba timeline -f json / wba report -f json                                           target <= 1.5

`python benchmarks/floor.py` shows, per log, what I1-I3 leave for wba's own work and the least that
work costs (README.md: why these three goals are out of reach of the Python side).

Each ratio is given twice: of wall times, and of CPU times (user + system, of the whole process
tree): the machine is shared, so wall times are noise when others work; CPU time much less so.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import application_log  # noqa: E402

PYTHON = sys.executable
WBA = [PYTHON, "-m", "analyzer"]
BARE = (
    "import sys\nfrom evtx import PyEvtxParser\nn = 0\nfor f in sys.argv[1:]:\n"
    "    for r in PyEvtxParser(f).records():\n        n += 1\nprint(n)"
)
# The same pass with `jobs` worker processes, a file to each (as a tool built on pyevtx-rs would).
BARE_POOL = (
    "import sys\nfrom multiprocessing import Pool\nfrom evtx import PyEvtxParser\n"
    "def count(job):\n    path, method = job\n"
    "    return sum(1 for _ in getattr(PyEvtxParser(path, number_of_threads=1), method)())\n"
    "if __name__ == '__main__':\n    jobs, method, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]\n"
    "    with Pool(jobs) as pool:\n        print(sum(pool.imap_unordered(count, [(f, method) for f in files])))"
)
NAIVE = (
    "import sys\nfrom Evtx.Evtx import Evtx\nn = 0\nwith Evtx(sys.argv[1]) as log:\n"
    "    for r in log.records():\n        r.xml()\n        n += 1\nprint(n)"
)


def build(data: Path, fleet: bool) -> dict[str, list[Path]]:
    data.mkdir(parents=True, exist_ok=True)
    sets: dict[str, list[Path]] = {"five": [], "small": [data / "small-2mb.evtx"], "fleet": []}
    count = 50 if fleet else 5
    for i in range(count):
        path = data / "fleet" / f"srv{i + 1:02d}.evtx"
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            application_log(path, 20, seed=i + 1, computer=f"AADC{i + 1:02d}.corp.example.com")
        (sets["five"] if i < 5 else sets["fleet"]).append(path)
    sets["fleet"] = sets["five"] + sets["fleet"]
    if not sets["small"][0].exists():
        application_log(sets["small"][0], 2, seed=99, computer="AADC99.corp.example.com")
    return sets


def run(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) summed over the process and all its children. Sampling the
    process tree costs CPU; time whole-machine runs with `timed` instead."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if process.returncode not in (0, 4):
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return elapsed, peak


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process waited for, workers too
    return used.ru_utime + used.ru_stime


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (of the whole process tree) of a run without RSS sampling."""
    start, cpu = time.perf_counter(), _cpu()
    code = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    if code not in (0, 4):
        raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return time.perf_counter() - start, _cpu() - cpu


CPU: dict[str, float] = {}  # median CPU seconds of each command, by its words


def interleaved(commands: list[list[str]], runs: int, rss: bool = True) -> list[tuple[float, int]]:
    """Median wall time of each command over `runs` interleaved timed runs (all see the same
    machine), and its peak RSS from one more, sampled, run (0 without `rss`). Median CPU times go
    to `CPU`."""
    times: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(runs):
        for i, command in enumerate(commands):
            times[i].append(timed(command))
    for t, command in zip(times, commands, strict=True):
        CPU[" ".join(command)] = statistics.median(cpu for _, cpu in t)
    return [
        (statistics.median(wall for wall, _ in t), run(command)[1] if rss else 0)
        for t, command in zip(times, commands, strict=True)
    ]


def cpu_of(command: list[str]) -> float:
    return CPU[" ".join(command)]


def records(paths: list[Path]) -> int:
    out = subprocess.run([PYTHON, "-c", BARE, *map(str, paths)], capture_output=True, text=True, check=True)
    return int(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HERE / ".data")
    parser.add_argument("--skip-fleet", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only-issue-13", action="store_true", help="only the ratios of issue 13 (I1-I4)")
    args = parser.parse_args()
    sets = build(args.data, not (args.skip_fleet or args.only_issue_13))
    # Measure the tool as pip installs it, with its modules byte-compiled: where PYTHONDONTWRITEBYTECODE
    # is set (it is on these machines), an editable install would otherwise compile every module
    # from source on every run (~25 ms). pyevtx-rs, the other side, is compiled code anyway.
    import analyzer

    compileall.compile_dir(Path(analyzer.__file__).parent, quiet=1)
    rows, ratios = [], []

    def row(case: str, paths: list[Path], seconds: float, rss: int, count: int) -> None:
        size = sum(p.stat().st_size for p in paths) / 1e6
        rows.append(
            (
                case,
                len(paths),
                f"{size:,.0f}",
                f"{count:,}",
                f"{seconds:.2f}",
                f"{count / seconds:,.0f}",
                f"{size / seconds:,.1f}",
                f"{rss / 1e6:,.0f}",
            )
        )

    five = sets["five"]
    n5 = records(five)
    if args.only_issue_13:
        ratios += issue_13(five, n5, args.runs, row)
        show(rows, ratios)
        return
    (bare, bare_rss), (report, report_rss) = interleaved(
        [
            [PYTHON, "-c", BARE, *map(str, five)],
            [*WBA, "report", *map(str, five), "--engine", "rust", "-f", "json", "-o", "/dev/null"],
        ],
        args.runs,
    )
    row("bare pyevtx-rs pass, 5 x 20 MB", five, bare, bare_rss, n5)
    row("wba report --engine rust, 5 x 20 MB", five, report, report_rss, n5)
    ratios.append(("P1 report / bare pass", report / bare, "<= 2.0"))

    small = sets["small"]
    n_small = records(small)
    naive, naive_rss = run([PYTHON, "-c", NAIVE, str(small[0])])  # One process leaves a core free for sampling.
    ((fast, fast_rss),) = interleaved(
        [[*WBA, "report", str(small[0]), "--engine", "python", "-f", "json", "-o", "/dev/null"]], args.runs
    )
    row("naive python-evtx xml(), 2 MB", small, naive, naive_rss, n_small)
    row("wba report --engine python, 2 MB", small, fast, fast_rss, n_small)
    ratios.append(("P2 naive / wba python engine", naive / fast, ">= 20"))

    ratios += issue_13(five, n5, args.runs, row)
    if not args.skip_fleet:
        fleet = sets["fleet"]
        n_fleet = records(fleet)
        triage = [*WBA, "triage", "-q", "-f", "json", "-o", "/dev/null"]
        (one, one_rss), (two, two_rss) = interleaved(
            [[*triage, *map(str, fleet), "--jobs", "1"], [*triage, *map(str, fleet), "--jobs", "2"]], args.runs
        )
        small_fleet, small_rss = run([*triage, *map(str, five), "--jobs", "2"])
        row("wba triage --jobs 1, 1 GB", fleet, one, one_rss, n_fleet)
        row("wba triage --jobs 2, 1 GB", fleet, two, two_rss, n_fleet)
        row("wba triage --jobs 2, 100 MB", five, small_fleet, small_rss, n5)
        ratios.append(("P3 triage jobs 1 / jobs 2", one / two, ">= 1.7"))
        ratios.append(("P3 peak RSS, 1 GB (MB)", two_rss / 1e6, "<= 400"))
        ratios.append(("RSS 1 GB / RSS 100 MB", two_rss / small_rss, "~1 (flat)"))

    show(rows, ratios)


def show(rows: list[tuple[str, ...]], ratios: list[tuple[str, float, str]]) -> None:
    from tabulate import tabulate

    print(
        tabulate(
            rows,
            headers=["case", "files", "MB", "records", "wall s", "records/s", "MB/s", "peak RSS MB"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    print()
    print(
        tabulate(
            [(name, f"{value:.2f}", target) for name, value, target in ratios],
            headers=["ratio", "measured", "target"],
            tablefmt="github",
        )
    )
    print(
        f"\nmachine: {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"python {sys.version.split()[0]}"
    )


def issue_13(five: list[Path], n5: int, runs: int, row: Callable[..., None]) -> list[tuple[str, float, str]]:
    """The ratios of issue 13: every path against the bare pass with as many processes as wba uses."""
    jobs = str(os.cpu_count() or 1)
    files = list(map(str, five))
    out = Path(tempfile.mkdtemp(prefix="wba-bench-"))
    bare_xml = [PYTHON, "-c", BARE_POOL, jobs, "records", *files]
    bare_json = [PYTHON, "-c", BARE_POOL, jobs, "records_json", *files]
    report = [*WBA, "report", "-q", *files, "-f", "json", "-o", "/dev/null"]
    jsonl = [*WBA, "events", "-q", *files, "-f", "jsonl", "-o", str(out / "events.jsonl")]
    parquet = [*WBA, "events", "-q", *files, "-f", "parquet", "-o", str(out / "parquet")]
    timeline = [*WBA, "timeline", "-q", *files, "-f", "json", "-o", "/dev/null"]
    try:
        commands = [bare_xml, bare_json, report, jsonl, parquet, timeline]
        measured = interleaved(commands, runs)
        alone = [[word for word in command if word not in files[1:]] for command in (jsonl, parquet)]
        one = interleaved(alone, 1)  # the first log alone: memory should not grow with the input
    finally:
        shutil.rmtree(out, ignore_errors=True)
    names = [
        f"bare pyevtx-rs records(), {jobs} processes",
        f"bare pyevtx-rs records_json(), {jobs} processes",
        "wba report -f json",
        "wba events -f jsonl -o FILE",
        "wba events -f parquet -o DIR",
        "wba timeline -f json",
    ]
    for name, (seconds, rss) in zip(names, measured, strict=True):
        row(f"{name}, 5 x 20 MB", five, seconds, rss, n5)
    wall = {name: seconds for name, (seconds, _) in zip(names, measured, strict=True)}
    cpu = {name: cpu_of(command) for name, command in zip(names, commands, strict=True)}
    ratios = []
    for label, top, bottom, target in (
        ("I1 report / bare records()", names[2], names[0], "<= 1.5"),
        ("I2 events jsonl / bare records_json()", names[3], names[1], "<= 3"),
        ("I3 events parquet / bare records_json()", names[4], names[1], "<= 3"),
        ("I4 timeline / report", names[5], names[2], "<= 1.5"),
    ):
        ratios.append((f"{label}, wall", wall[top] / wall[bottom], target))
        ratios.append((f"{label}, CPU", cpu[top] / cpu[bottom], target))
    ratios.append(("events jsonl RSS, 5 logs / 1 log", measured[3][1] / one[0][1], "~1 (flat)"))
    ratios.append(("events parquet RSS, 5 logs / 1 log", measured[4][1] / one[1][1], "~1 (flat)"))
    return ratios


if __name__ == "__main__":
    main()
