"""Bad input: one clear stderr line naming the file, exit code 4, every other input still read."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from analyzer.evtx import layout
from tests.conftest import SAMPLES, unavailable
from tests.helpers import run_cli

GOOD = SAMPLES / "healthy.evtx"
CHUNK = 0x10000


def _jsonl(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def _damaged(tmp_path: Path, name: str, change) -> Path:
    data = bytearray(GOOD.read_bytes())
    change(data)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(params=["rust", "python"])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


def _good_count() -> int:
    return layout.scan(GOOD).expected


def test_non_evtx_file(tmp_path: Path, engine: str) -> None:
    bad = tmp_path / "notes.evtx"
    bad.write_text("this is a text file, not an event log\n" * 20)
    code, out, err = run_cli("events", str(bad), str(GOOD), "-f", "jsonl", "--engine", engine)
    assert code == 4
    assert err.splitlines() == [f"error: {bad}: not an EVTX file (no ElfFile signature)"]
    assert len(_jsonl(out)) == _good_count()  # The other input is still read.


def test_empty_file(tmp_path: Path, engine: str) -> None:
    empty = tmp_path / "empty.evtx"
    empty.touch()
    code, out, err = run_cli("events", str(empty), str(GOOD), "-f", "jsonl", "--engine", engine)
    assert (code, err.splitlines()) == (4, [f"error: {empty}: empty file"])
    assert len(_jsonl(out)) == _good_count()


def test_missing_path_is_a_usage_error_before_reading(tmp_path: Path, engine: str) -> None:
    code, out, err = run_cli("events", str(tmp_path / "nope.evtx"), str(GOOD), "-f", "jsonl", "--engine", engine)
    assert (code, out) == (2, "") and f"Path '{tmp_path / 'nope.evtx'}' does not exist" in err


def test_truncated_mid_chunk(tmp_path: Path, engine: str) -> None:
    scan = layout.scan(GOOD)
    cut = 0x1000 + 2 * CHUNK + 30_000  # The cut falls inside the third chunk.
    path = tmp_path / "truncated.evtx"
    path.write_bytes(GOOD.read_bytes()[:cut])
    complete = sum(c.expected for c in scan.chunks[:2])
    lost = scan.chunks[2].expected
    code, out, err = run_cli("events", str(path), "-f", "jsonl", "--engine", engine)
    assert code == 4
    assert err.splitlines() == [
        f"warning: {path}: {lost} of {complete + scan.chunks[2].expected} records unreadable "
        f"(chunk 2: truncated: {cut - 0x1000 - 2 * CHUNK} of {CHUNK} bytes)"
    ]
    assert len(_jsonl(out)) == complete  # Every record of every complete chunk is read.


def test_bad_checksum_is_reported_but_records_are_kept(tmp_path: Path, engine: str) -> None:
    def flip(data: bytearray) -> None:
        head = 0x1000 + CHUNK
        data[head + 0x34] ^= 0xFF  # This is chunk 1's stored record-data CRC; its header CRC stays right.
        crc = zlib.crc32(bytes(data[head : head + 0x78]) + bytes(data[head + 0x80 : head + 0x200]))
        struct.pack_into("<I", data, head + 0x7C, crc)

    path = _damaged(tmp_path, "crc.evtx", flip)
    code, out, err = run_cli("events", str(path), "-f", "jsonl", "--engine", engine)
    assert code == 4
    assert err.splitlines() == [
        f"warning: {path}: 0 of {_good_count()} records unreadable (chunk 1: record data checksum mismatch)"
    ]
    assert len(_jsonl(out)) == _good_count()


def test_corrupt_record_loses_only_the_rest_of_its_chunk(tmp_path: Path, engine: str) -> None:
    scan = layout.scan(GOOD)
    chunk = scan.chunks[1]
    raw = GOOD.read_bytes()
    pos, index = chunk.offset + 0x200, 0
    while index < 10:  # Find the 11th record of chunk 1.
        pos += struct.unpack_from("<I", raw, pos + 4)[0]
        index += 1

    def smash(data: bytearray) -> None:
        data[pos : pos + 8] = b"\xde\xad\xbe\xef\xff\xff\xff\x7f"  # These are its signature and size.

    path = _damaged(tmp_path, "record.evtx", smash)
    code, out, err = run_cli("events", str(path), "-f", "jsonl", "--engine", engine)
    lost = chunk.expected - 10
    assert code == 4
    assert err.splitlines() == [
        f"warning: {path}: {lost} of {scan.expected} records unreadable (chunk 1: record data checksum mismatch)"
    ]
    assert len(_jsonl(out)) == scan.expected - lost


def test_unsupported_version(tmp_path: Path) -> None:
    def version(data: bytearray) -> None:
        struct.pack_into("<HH", data, 0x24, 7, 4)

    path = _damaged(tmp_path, "v4.evtx", version)
    code, _, err = run_cli("files", str(path))
    assert (code, err.splitlines()) == (4, [f"error: {path}: unsupported EVTX format version 4.7"])


def test_format_3_2_is_accepted(tmp_path: Path, engine: str) -> None:
    from analyzer.testkit.evtx_writer import file_header

    def version(data: bytearray) -> None:
        count = struct.unpack_from("<H", data, 0x2A)[0]
        next_record = struct.unpack_from("<Q", data, 0x18)[0]
        data[:0x1000] = file_header(count, next_record, minor_version=2)

    path = _damaged(tmp_path, "v32.evtx", version)
    code, out, err = run_cli("events", str(path), "-f", "jsonl", "--engine", engine)
    assert (code, err) == (0, "")
    assert len(_jsonl(out)) == _good_count()


def test_files_shows_the_accounting(tmp_path: Path) -> None:
    path = tmp_path / "t.evtx"
    path.write_bytes(GOOD.read_bytes()[: 0x1000 + CHUNK + 100])
    shutil.copy(GOOD, tmp_path / "good.evtx")
    code, out, _ = run_cli("files", str(tmp_path), "-f", "json")
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert code == 4
    assert rows["good.evtx"]["status"] == "ok" and rows["good.evtx"]["unreadable"] == 0
    first = layout.scan(GOOD).chunks[0].expected
    assert rows["t.evtx"]["status"] == "damaged"  # How many records chunk 1 held is unknown.
    assert rows["t.evtx"]["records"] == first
    assert rows["t.evtx"]["unreadable"] == 0  # Only 100 bytes of chunk 1 are there, not even its header.
    assert "truncated chunk header" in rows["t.evtx"]["error"]


def test_usage_error_is_exit_2() -> None:
    code, _, err = run_cli("events", str(GOOD), "--format", "pdf")
    assert code == 2 and "pdf" in err


def test_no_traceback_and_no_log_contents_on_errors(tmp_path: Path) -> None:
    bad = tmp_path / "x.evtx"
    bad.write_bytes(b"ElfFile\0" + b"TOPSECRET@contoso.com" * 10)
    code, _, err = run_cli("events", str(bad))
    assert code == 4
    assert "Traceback" not in err and "TOPSECRET" not in err


def _without_read_override() -> None:
    """In the child: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set, so that
    root (tests run as root in CI) obeys file modes like any user after exec."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # 24 is PR_CAPBSET_DROP.
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_unreadable_subdirectory_is_an_error_not_skipped(tmp_path: Path) -> None:
    """Issue 12: an unreadable subdirectory was skipped silently and the run exited 0."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    drop = _without_read_override if os.geteuid() == 0 else None
    if drop is not None:
        try:
            subprocess.run([sys.executable, "-c", "pass"], preexec_fn=drop, check=True)
        except subprocess.SubprocessError:
            unavailable("running as root without CAP_SETPCAP: no directory can be made unreadable to root here")
    shutil.copy(GOOD, tmp_path / "good.evtx")
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    shutil.copy(GOOD, hidden / "lost.evtx")
    hidden.chmod(0)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "analyzer", "files", str(tmp_path), "-f", "json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            preexec_fn=drop,
            check=False,
        )
    finally:
        hidden.chmod(0o755)
    assert result.returncode == 4
    assert result.stderr.splitlines() == [f"error: {hidden}: cannot read directory: Permission denied"]
    rows = {Path(r["path"]).name: r["status"] for r in json.loads(result.stdout)}
    assert rows == {"good.evtx": "ok", "hidden": "failed"}
