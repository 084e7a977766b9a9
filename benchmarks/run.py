"""Speed and memory benchmarks (issue 5). Builds its inputs with the project's EVTX writer, then
measures whole processes side by side in one run and prints a table with the target ratios.

    python benchmarks/run.py                 # everything (builds ~1.1 GB under benchmarks/.data once)
    python benchmarks/run.py --skip-fleet    # P1 and P2 only

P1  wba report over five 20 MB logs (rust engine, whole process) / bare pyevtx-rs pass   target <= 2.0
P2  naive python-evtx (record.xml() for every record) / wba report --engine python (2 MB) target >= 20
P3  wba triage --jobs 1 / --jobs 2 on the 1 GB set (medians)                            target >= 1.7
    peak RSS of the whole process tree (all workers) on 1 GB                             target <= 400 MB
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import application_log  # noqa: E402

PYTHON = sys.executable
WBA = [PYTHON, "-m", "analyzer"]
BARE = (
    "import sys\nfrom evtx import PyEvtxParser\nn = 0\nfor f in sys.argv[1:]:\n"
    "    for r in PyEvtxParser(f).records():\n        n += 1\nprint(n)"
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


def timed(command: list[str]) -> float:
    """Wall seconds of a run with nothing else on the machine (no RSS sampling)."""
    start = time.perf_counter()
    code = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    if code not in (0, 4):
        raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return time.perf_counter() - start


def interleaved(commands: list[list[str]], runs: int) -> list[tuple[float, int]]:
    """Median wall time of each command over `runs` interleaved timed runs (all see the same
    machine), and its peak RSS from one more, sampled, run."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for i, command in enumerate(commands):
            times[i].append(timed(command))
    return [(statistics.median(t), run(command)[1]) for t, command in zip(times, commands, strict=True)]


def records(paths: list[Path]) -> int:
    out = subprocess.run([PYTHON, "-c", BARE, *map(str, paths)], capture_output=True, text=True, check=True)
    return int(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HERE / ".data")
    parser.add_argument("--skip-fleet", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sets = build(args.data, not args.skip_fleet)
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


if __name__ == "__main__":
    main()
