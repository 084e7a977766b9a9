"""`wba events` and `wba timeline` give the same bytes as before the speed work of issue 13.

The golden files were written by the code before that work (`pytest --update-golden` rewrites
them): the samples' events as JSONL and CSV, their Parquet files (layout and rows), their timeline
in three forms, and a digest per corpus file of its events as JSONL (the corpus holds damaged logs,
records of unusual shapes and every engine path). Both engines must give them, through the real
command line, with one worker and with several.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT, SAMPLES, corpus_files

GOLDEN = ROOT / "tests" / "golden" / "outputs"
ENGINES = ("rust", "python")


def _wba(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args, "-q"], cwd=cwd, capture_output=True, env=env, check=False
    )


def _check(name: str, produced: bytes, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(path, "wb", mtime=0) as out:  # mtime 0: the same bytes on every update
            out.write(produced)
        return
    expected = gzip.decompress(path.read_bytes())
    if produced != expected:
        got, want = produced.splitlines(), expected.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        raise AssertionError(f"{name}: output differs from the golden file first at line {first + 1}")


CASES = {
    "events.jsonl.gz": ["events", ".", "-f", "jsonl"],
    "events.csv.gz": ["events", ".", "-f", "csv"],
    "events-by-time.jsonl.gz": ["events", ".", "-f", "jsonl", "--sort", "time"],
    "timeline.json.gz": ["timeline", ".", "-f", "json"],
    "timeline-all.jsonl.gz": ["timeline", ".", "--all", "-f", "jsonl"],
    "timeline-operations.json.gz": ["timeline", ".", "--operations", "-f", "json"],
    "timeline-filtered.csv.gz": ["timeline", ".", "--level", "error", "--since", "24h", "-f", "csv"],
}


@pytest.mark.parametrize(("engine", "jobs"), [("rust", "1"), ("rust", "2"), ("python", "2")])
@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_outputs_are_unchanged(name: str, engine: str, jobs: str, update_golden: bool) -> None:
    """One worker, and two (each reading whole files: the samples are too small for pieces)."""
    args = [*CASES[name], "--engine", engine, "--jobs", jobs]
    done = _wba(args, SAMPLES)
    assert done.returncode == 0, done.stderr.decode()
    _check(name, done.stdout, update_golden and engine == "rust" and jobs == "1")


def _parquet_digest(directory: Path) -> bytes:
    """The partitions, their files and every row of each file, as JSON lines."""
    import pyarrow.parquet as pq

    lines = []
    for path in sorted(directory.rglob("*.parquet")):
        table = pq.read_table(path)
        rows = json.dumps(table.to_pylist(), default=str, ensure_ascii=False)
        lines.append(f"{path.relative_to(directory)} {table.num_rows} {table.schema.to_string()!r} {rows}")
    return "\n".join(lines).encode() + b"\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_sample_parquet_is_unchanged(engine: str, tmp_path: Path, update_golden: bool) -> None:
    done = _wba(["events", ".", "-f", "parquet", "-o", str(tmp_path / "out"), "--engine", engine], SAMPLES)
    assert done.returncode == 0, done.stderr.decode()
    _check("events.parquet.txt.gz", _parquet_digest(tmp_path / "out"), update_golden and engine == "rust")


@pytest.mark.parametrize("engine", ENGINES)
def test_corpus_events_are_unchanged(engine: str, update_golden: bool) -> None:
    """Per corpus file, the sha256 of its events' JSONL lines; and the warnings, line for line."""
    assert corpus_files()
    done = _wba(["events", ".", "-f", "jsonl", "--engine", engine], CORPUS)
    assert done.returncode == 4  # the corpus holds damaged logs
    per_file: dict[str, hashlib._Hash] = {}
    for line in done.stdout.splitlines():
        name = json.loads(line)["file"]
        per_file.setdefault(name, hashlib.sha256()).update(line + b"\n")
    digests = {name: h.hexdigest() for name, h in sorted(per_file.items())}
    produced = json.dumps({"events": digests, "stderr": done.stderr.decode().splitlines()}, indent=1).encode()
    _check("corpus-events.json.gz", produced, update_golden and engine == "rust")


def test_corpus_parquet_is_the_same_from_either_engine(tmp_path: Path) -> None:
    """The rust engine's rows made straight from records (mixed with events where a record is not
    of the plain shape) give the files the python engine's events give."""
    digests = []
    for engine in ENGINES:
        out = tmp_path / engine
        done = _wba(["events", ".", "-f", "parquet", "-o", str(out), "--engine", engine], CORPUS)
        assert done.returncode == 4, done.stderr.decode()
        digests.append(_parquet_digest(out))
    assert digests[0] == digests[1]
    assert digests[0].count(b"\n") > 50  # files
