"""Write the archive formats no Python library writes: Microsoft cabinet (.cab) and RAR 4 (.rar).

For tests: customers send both, and wba reads them through libarchive. The cabinet is
written as `makecab` writes it (MSZIP blocks of at most 32 KiB) or stored; the RAR archive
holds stored members (RAR's own compression is not free to implement), optionally marked
encrypted, which is how an encrypted RAR announces itself to a reader.
Formats: [MS-CAB] (Microsoft Open Specifications) and RARLAB's technote for RAR 4.x.
"""

from __future__ import annotations

import struct
import zlib

_DOS_DATE = ((2026 - 1980) << 9) | (11 << 5) | 20  # 2026-11-20
_DOS_TIME = (8 << 11) | (0 << 5)  # 08:00:00
CAB_BLOCK = 0x8000


def cab(members: list[tuple[str, bytes]], compress: bool = True) -> bytes:
    """A one-folder cabinet holding `members` (name with backslashes as Windows writes them)."""
    data = b"".join(body for _, body in members)
    blocks = []
    for start in range(0, len(data), CAB_BLOCK):
        raw = data[start : start + CAB_BLOCK]
        if compress:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = b"CK" + packer.compress(raw) + packer.flush()
        else:
            packed = raw
        blocks.append(struct.pack("<IHH", 0, len(packed), len(raw)) + packed)  # checksum 0: not computed
    entries = []
    offset = 0
    for name, body in members:
        entries.append(
            struct.pack("<IIHHHH", len(body), offset, 0, _DOS_DATE, _DOS_TIME, 0x20)
            + name.replace("/", "\\").encode("utf-8")
            + b"\0"
        )
        offset += len(body)
    header_size, folder_size = 36, 8
    files_at = header_size + folder_size
    data_at = files_at + sum(map(len, entries))
    total = data_at + sum(map(len, blocks))
    header = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, total, 0, files_at, 0, 3, 1, 1, len(members), 0, 0x1234, 0)
    folder = struct.pack("<IHH", data_at, len(blocks), 1 if compress else 0)
    return header + folder + b"".join(entries) + b"".join(blocks)


def _rar_block(kind: int, flags: int, body: bytes, extra: bytes = b"") -> bytes:
    head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head + extra


def rar(members: list[tuple[str, bytes]], encrypted: bool = False) -> bytes:
    """A RAR 4 archive of stored members; `encrypted` marks each member password-protected (with
    a salt) as RAR does, without encrypting (no reader can then read it: as with a wrong key)."""
    out = [b"Rar!\x1a\x07\x00", _rar_block(0x73, 0, b"\0" * 6)]
    for name, body in members:
        flags = 0x8000 | (0x0404 if encrypted else 0)  # LONG_BLOCK; PASSWORD and SALT
        encoded = name.replace("/", "\\").encode("ascii")
        header = struct.pack(
            "<IIBIIBBHI",
            len(body),
            len(body),
            2,  # Windows
            zlib.crc32(body),
            (_DOS_DATE << 16) | _DOS_TIME,
            29,  # needs RAR 2.9 to unpack
            0x30,  # stored
            len(encoded),
            0x20,
        )
        header += encoded + (b"\x11" * 8 if encrypted else b"")
        out.append(_rar_block(0x74, flags, header, body))
    out.append(_rar_block(0x7B, 0x4000, b""))
    return b"".join(out)
