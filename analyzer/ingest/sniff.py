"""What a file is, from its first bytes (and its name only as a hint): a log, an export, an archive,
something wba cannot read, or not a log at all.

Customers rename files and compress them twice, so nothing is decided by the name
alone: `Application.txt` may be Event Viewer's "Save as Text" or a copied details
block, `events.csv` a PowerShell or an Event Viewer export, `logs.bin` a zip.
"""

from __future__ import annotations

import codecs
import csv
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TextIO

from analyzer.evtx.format import FILE_MAGIC
from analyzer.ingest.exports import labels

if TYPE_CHECKING:
    from collections.abc import Iterator

HEAD = 1 << 16  # bytes read to decide

# Kinds of log wba reads, each by the module named in `analyzer.ingest.read._read_export`.
LOGS = (
    "evtx",
    "xml-export",
    "csv-export",
    "text-export",
    "details-text",
    "powershell-csv",
    "powershell-json",
)
ARCHIVES = ("zip", "7z", "rar", "cab", "tar", "gzip", "bzip2", "xz")

_MAGIC: list[tuple[int, bytes, str]] = [
    (0, FILE_MAGIC, "evtx"),
    (0, b"PK\x03\x04", "zip"),
    (0, b"PK\x05\x06", "zip"),  # an empty zip
    (0, b"7z\xbc\xaf\x27\x1c", "7z"),
    (0, b"Rar!\x1a\x07", "rar"),
    (0, b"MSCF\0\0\0\0", "cab"),
    (0, b"\x1f\x8b", "gzip"),
    (0, b"BZh", "bzip2"),
    (0, b"\xfd7zXZ\0", "xz"),
]
# Recognised, but not read: each with the reason given to the user.
_UNSUPPORTED: list[tuple[int, bytes, str]] = [
    (4, b"LfLe", "a legacy .evt log (Windows 2003 and older): not supported; export it as .evtx or XML"),
    (0, b"\x28\xb5\x2f\xfd", "zstd-compressed: not supported; decompress it first"),
    (0, b"\x04\x22\x4d\x18", "lz4-compressed: not supported; decompress it first"),
    (0, b"\x60\xea", "an ARJ archive: not supported; repack it as .zip or .7z"),
    (0, b"MSWIM\0\0\0", "a WIM image: not supported"),
]
# Names that say "this should hold events": if the content is no format wba knows, the file
# is refused (exit 4), not passed over.
LOG_SUFFIXES = (".evtx", ".evt", ".etl", ".xml", ".csv", ".json", ".txt", ".log", ".tsv")
ARCHIVE_SUFFIXES = (
    ".zip",
    ".7z",
    ".rar",
    ".cab",
    ".tar",
    ".tgz",
    ".tbz2",
    ".txz",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".lz4",
    ".arj",
    ".z",
)
# Names that hold notes, settings or documents as often as events: refused only when the text
# mentions writeback (an XML or JSON event export names its events near the top: it is recognised).
_LOOSE = (".txt", ".log", ".xml", ".json")
# Documents that are zip files inside (attachments beside the logs), and Office/Outlook/MSI files.
_DOCUMENTS = (".docx", ".xlsx", ".pptx", ".vsdx", ".odt", ".ods", ".odp", ".epub", ".jar", ".apk", ".nupkg")
_COMPOUND = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What a Mac puts beside each file it zips or copies to a foreign disk (`__MACOSX/._Application.evtx`,
# `._Application.evtx`): the file's resource fork and attributes, never its data.
_APPLEDOUBLE = b"\x00\x05\x16\x07"
# wba's own JSON report (`wba report -f json -o case/report.json`), saved beside the logs it read.
_WBA_REPORT = re.compile(r'\s*\{\s*"schema_version":\s*\d+,\s*"tool":\s*\{\s*"name":\s*"wba"')
# A text without a file type (or a .txt/.log) that mentions these is about writeback even when its layout is not one
# wba knows (documents and scripts about writeback have a type: .md, .py, .docx).
_WRITEBACK = re.compile(r"PasswordResetService|ADSync|Directory Synchronization|<Event[\s>]", re.IGNORECASE)


# Properties only PowerShell's event objects have.
_POWERSHELL_ONLY = {
    "ProviderName",
    "TimeCreated",
    "RecordId",
    "LevelDisplayName",
    "TimeGenerated",
    "ReplacementStrings",
}


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # one of LOGS or ARCHIVES; None when not read
    reason: str = ""  # why not read (kind None)
    refused: bool = False  # True: could hold events but cannot be read (exit 4); False: not a log


def name_says_log(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(LOG_SUFFIXES + ARCHIVE_SUFFIXES)


def decode_head(head: bytes) -> tuple[str, str]:
    """(encoding, text) of the start of a text file: BOM first, then UTF-16 without BOM, UTF-8, or
    Windows-1252 (what PowerShell 5 and Event Viewer write besides UTF-16)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", head.decode("utf-8", "replace")[1:]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", head.decode("utf-16", "replace")
    sample = head[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le", head[: len(head) // 2 * 2].decode("utf-16-le", "replace")
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be", head[: len(head) // 2 * 2].decode("utf-16-be", "replace")
    try:
        return "utf-8", head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the end of the head
            return "utf-8", head[: exc.start].decode("utf-8")
        return "cp1252", head.decode("cp1252", "replace")


def _first_lines(text: str, count: int) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.strip():
            lines.append(line)
            if len(lines) == count:
                break
    return lines


def _is_tar(head: bytes) -> bool:
    if len(head) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
    except tarfile.TarError:
        return False
    return True


def text_kind(text: str) -> str | None:
    """The export a text is, from its start (BOM already removed), or None."""
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("<"):
        return "xml-export" if re.search(r"<Events?[\s>]", body[:HEAD]) else None
    if body.startswith(("[", "{")):
        keys = re.findall(r'"([A-Za-z]+)"\s*:', body[:HEAD])
        found = set(keys)
        if {"Id", "ProviderName"} <= found or {"EventID", "Source"} <= found or found & _POWERSHELL_ONLY:
            return "powershell-json"
        return "powershell-json" if keys[:1] == ["Message"] else None  # a long first message hides the rest
    lines = _first_lines(body, 2)
    if not lines:
        return None
    first = lines[0]
    if first.startswith("#TYPE") and len(lines) > 1:
        first = lines[1]
    if labels.looks_like_details(body):
        return "details-text"
    delimiter = max("\t;,", key=first.count)  # PowerShell's -UseCulture writes ";" in many regions
    header = next(csv.reader([first], delimiter=delimiter), [])
    names = {h.strip() for h in header}
    if {"Id", "TimeCreated"} <= names or {"EventID", "TimeGenerated"} <= names:
        return "powershell-csv"
    if labels.eventviewer_header(header) is not None:
        return "text-export" if delimiter == "\t" else "csv-export"
    return None


def classify(head: bytes, name: str) -> Verdict:
    """The verdict on a file that starts with `head` (up to HEAD bytes) and is called `name`."""
    if head.startswith(_APPLEDOUBLE):
        return Verdict(None, "a macOS resource fork (AppleDouble), not a log")
    if name.lower().endswith(".evtx") and not head.startswith(FILE_MAGIC):
        found = classify(head, name[:-5] + ".log") if head else Verdict(None)
        return found if found.kind else Verdict("evtx")  # the EVTX reader says what is wrong with it
    if not head:
        return Verdict(None, "empty file", refused=name_says_log(name))
    if head.startswith(_COMPOUND) or (head.startswith(b"PK") and name.lower().endswith(_DOCUMENTS)):
        return Verdict(None, "a document, not a log")
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return Verdict(kind)
    for offset, magic, reason in _UNSUPPORTED:
        if head[offset : offset + len(magic)] == magic:
            return Verdict(None, reason, refused=True)
    if _is_tar(head):
        return Verdict("tar")
    encoding, text = decode_head(head)
    if not encoding.startswith("utf-16") and b"\0" in head[:4096]:
        refused = name_says_log(name)
        return Verdict(None, "binary data of no log or archive format wba knows" if refused else "not a log", refused)
    kind = text_kind(text)
    if kind is not None:
        return Verdict(kind)
    if _WBA_REPORT.match(text):
        return Verdict(None, "a wba report, not a log")
    suffix = PurePosixPath(name.lower()).suffix
    if (name_says_log(name) and suffix not in _LOOSE) or (suffix in (*_LOOSE, "") and _WRITEBACK.search(text)):
        return Verdict(None, f"{suffix or 'text'} file in no log or export format wba knows", refused=True)
    return Verdict(None, "not a log")


def sniff(path: Path, name: str | None = None) -> Verdict:
    """The verdict on a file on disk: its first 512 bytes tell a log or an archive by its magic
    (thousands of small logs are judged by one small read each); text needs more."""
    with path.open("rb") as fh:
        head = fh.read(512)
        if len(head) == 512 and not any(head[o : o + len(m)] == m for o, m, _ in _MAGIC) and not _is_tar(head):
            head += fh.read(HEAD - 512)
    return classify(head, name or path.name)


def text_blocks(path: Path, block: int = 1 << 16) -> Iterator[str]:
    """A text file decoded block by block (encoding as `decode_head` decides): flat memory."""
    with path.open("rb") as fh:
        head = fh.read(HEAD)
        encoding, _ = decode_head(head)
        decoder = codecs.getincrementaldecoder(encoding)("replace")
        data = head
        while data:
            text = decoder.decode(data)
            if text:
                yield text
            data = fh.read(block)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def open_text(path: Path) -> TextIO:
    """A text file opened for streaming (newline-preserving), encoding as `decode_head` decides."""
    with path.open("rb") as fh:
        encoding, _ = decode_head(fh.read(HEAD))
    return path.open(encoding=encoding, errors="replace", newline="")
