"""Mutations of real-shaped EVTX files for fuzzing the readers (fixed seeds, reproducible)."""

from __future__ import annotations

import random
import struct

HEADER, CHUNK = 0x1000, 0x10000
KINDS = ("bit_flips", "byte_run", "truncate", "chunk_swap", "oversized_length", "template_loop", "zero_run")


def _records(data: bytes, chunk: int) -> list[int]:
    """Offsets of the records of one chunk."""
    found, pos, end = [], HEADER + chunk * CHUNK + 0x200, min(HEADER + (chunk + 1) * CHUNK, len(data))
    while pos + 28 <= end:
        magic, size = struct.unpack_from("<II", data, pos)
        if magic != 0x2A2A or size < 28:
            break
        found.append(pos)
        pos += size
    return found


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    out = bytearray(data)
    chunks = max(1, (len(out) - HEADER) // CHUNK)
    chunk = rng.randrange(chunks)
    records = _records(data, chunk) or [HEADER + 0x200]
    if kind == "bit_flips":
        for _ in range(rng.randint(1, 20)):
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
    elif kind == "byte_run":
        at, length = rng.randrange(len(out)), rng.randint(1, 512)
        out[at : at + length] = bytes([rng.randrange(256)]) * len(out[at : at + length])
    elif kind == "zero_run":
        at = rng.choice(records) + rng.randrange(64)
        out[at : at + rng.randint(2, 64)] = bytes(len(out[at : at + 64]))[: len(out[at : at + rng.randint(2, 64)])]
    elif kind == "truncate":
        return bytes(out[: rng.randrange(len(out))])
    elif kind == "chunk_swap" and chunks > 1:
        a, b = rng.sample(range(chunks), 2)
        sa, sb = HEADER + a * CHUNK, HEADER + b * CHUNK
        out[sa : sa + CHUNK], out[sb : sb + CHUNK] = out[sb : sb + CHUNK], out[sa : sa + CHUNK]
    elif kind == "oversized_length":
        record = rng.choice(records)
        target = rng.choice([record + 4, record + 24 + 4 + 10, record + 24 + rng.randrange(16, 200)])
        if target + 4 <= len(out):
            struct.pack_into("<I", out, target, rng.choice([0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 0x10001, 0]))
    elif kind == "template_loop":
        record = rng.choice(records)
        instance = record + 24 + 4  # after the fragment header: the template instance token
        if instance + 10 <= len(out) and out[instance] & 0x0F == 0x0C:
            chunk_start = HEADER + chunk * CHUNK
            struct.pack_into(
                "<I",
                out,
                instance + 6,
                rng.choice(
                    [instance - chunk_start, record - chunk_start + 24, 0x200, 0xFFF0, rng.randrange(0x200, 0x10000)]
                ),
            )
    return bytes(out)
