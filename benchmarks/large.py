"""Large inputs: one 2 GB log and a directory of 5,000 small logs, through `wba triage`, with the
whole process tree's peak RSS.

    python benchmarks/large.py            # builds under benchmarks/.data/large once
"""

from __future__ import annotations

import shutil
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import application_log  # noqa: E402
from run import WBA, run  # noqa: E402

CHUNK, HEADER = 0x10000, 0x1000


def grow(source: Path, target: Path, size: int) -> int:
    """Repeat source's chunks (renumbering records and fixing CRCs) until target has `size` bytes."""
    data = source.read_bytes()
    chunks = [bytearray(data[i : i + CHUNK]) for i in range(HEADER, len(data), CHUNK)]
    last = struct.unpack_from("<Q", chunks[-1], 32)[0]
    copies, written = 0, 0
    with target.open("wb") as out:
        out.write(bytes(HEADER))
        while HEADER + written < size:
            shift = copies * last
            for chunk in chunks:
                block = bytearray(chunk)
                for field in (8, 16, 24, 32):
                    struct.pack_into("<Q", block, field, struct.unpack_from("<Q", block, field)[0] + shift)
                free = struct.unpack_from("<I", block, 48)[0]
                pos = 0x200
                while pos + 24 <= free:
                    number = struct.unpack_from("<Q", block, pos + 8)[0]
                    struct.pack_into("<Q", block, pos + 8, number + shift)
                    pos += struct.unpack_from("<I", block, pos + 4)[0]
                struct.pack_into("<I", block, 52, zlib.crc32(block[0x200:free]))
                struct.pack_into("<I", block, 124, zlib.crc32(bytes(block[:120]) + bytes(block[128:0x200])))
                out.write(block)
                written += CHUNK
            copies += 1
        count = written // CHUNK
        head = bytearray(data[:HEADER])
        struct.pack_into("<QQ", head, 16, count - 1, copies * last + 1)
        struct.pack_into("<H", head, 42, min(count, 0xFFFF))
        struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
        out.seek(0)
        out.write(head)
    return copies * last


def main() -> None:
    data = HERE / ".data" / "large"
    data.mkdir(parents=True, exist_ok=True)
    base = data / "base-20mb.evtx"
    if not base.exists():
        application_log(base, 20, seed=7, computer="AADC77.corp.example.com")
    big = data / "big-2gb.evtx"
    if not big.exists():
        grow(base, big, 2 << 30)
    small_dir = data / "small-5000"
    if not small_dir.exists():
        small_dir.mkdir()
        tiny = data / "tiny.evtx"
        application_log(tiny, 0.05, seed=8, computer="AADC88.corp.example.com")
        for i in range(5000):
            shutil.copyfile(tiny, small_dir / f"log{i:04d}.evtx")
    for name, paths in (("one 2 GB log", [big]), ("5,000 small logs", [small_dir])):
        seconds, rss = run([*WBA, "triage", *map(str, paths), "-q", "-f", "json", "-o", "/dev/null"])
        files = paths if paths[0].is_file() else list(paths[0].iterdir())
        size = sum(p.stat().st_size for p in files)
        print(
            f"{name}: {size / 1e6:,.0f} MB in {seconds:.1f} s ({size / 1e6 / seconds:,.0f} MB/s), "
            f"peak RSS of all processes {rss / 1e6:,.0f} MB"
        )


if __name__ == "__main__":
    main()
