"""`wba events --format parquet -o DIR`: normalized events as Parquet, partitioned by server
(`DIR/server=<name>/part-<n>.parquet`, Hive style), for DuckDB or Spark over a fleet.
Needs the optional extra: pip install 'writeback-analyzer[parquet]'.

The partition key is `server`, not `computer`: Hive readers take a partition's value from its
folder name, which must be short and safe, while each file keeps the exact `computer` column.
A name that is not a plain host name (other characters, over 100 characters) becomes a readable
prefix and a hash of the exact name (`server=张三的服务器…-1f2e3d4c5b`).

Events are buffered per server and written in record batches, each batch to a new file that is
closed at once: memory stays flat and no file stays open, however many servers there are. The
files are written under a staging folder in DIR and moved into place at the end; on failure
nothing is left behind (nor DIR itself, if this run made it).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.events import Event

BATCH = 20_000  # events of one server per file at most
BUFFERED = 50_000  # events held in memory at most, over all servers: then every buffer is written
_PLAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_UNSAFE = re.compile(r"[^\w.-]+")
NULL = "__HIVE_DEFAULT_PARTITION__"  # what Hive readers take for a missing value


def partition(computer: str) -> str:
    """The folder name of a server's partition: the name itself when it is a plain host name,
    else a readable prefix (letters, digits, `.`, `-`, `_` of any script; 60 bytes at most) and a hash."""
    if not computer:
        return f"server={NULL}"
    if _PLAIN.fullmatch(computer):
        return f"server={computer}"
    prefix = _UNSAFE.sub("_", computer).strip("._").encode()[:60].decode("utf-8", "ignore").rstrip("._")
    digest = hashlib.blake2b(computer.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()
    return f"server={prefix}-{digest}" if prefix else f"server={digest}"


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("file", pa.string()),
            ("event_record_id", pa.int64()),
            ("time_created", pa.timestamp("us", tz="UTC")),
            ("provider", pa.string()),
            ("event_id", pa.int64()),
            ("qualifiers", pa.int64()),
            ("level", pa.int64()),
            ("task", pa.int64()),
            ("keywords", pa.uint64()),
            ("channel", pa.string()),
            ("computer", pa.string()),
            ("data", pa.list_(pa.string())),
            ("fields", pa.map_(pa.string(), pa.string())),
        ]
    )


class _Writer:
    """Buffers per server; each flush writes one file per buffer and closes it."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.schema = _schema()
        self.buffers: dict[str, list[Event]] = {}
        self.buffered = 0
        self.files = 0

    def add(self, event: Event) -> None:
        server = event.computer or ""
        rows = self.buffers.get(server)
        if rows is None:
            rows = self.buffers[server] = []
        rows.append(event)
        self.buffered += 1
        if len(rows) >= BATCH:
            self.flush(server)
        elif self.buffered >= BUFFERED:
            for name in list(self.buffers):
                self.flush(name)

    def flush(self, server: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self.buffers.pop(server, [])
        if not rows:
            return
        self.buffered -= len(rows)
        columns: dict[str, list[Any]] = {name: [getattr(e, name) for e in rows] for name in self.schema.names}
        columns["fields"] = [list(e.fields.items()) for e in rows]
        folder = self.staging / partition(server)
        folder.mkdir(exist_ok=True)
        # File names are unique over the run: two servers whose folders are one on a file system
        # that ignores case (AADC01, aadc01) never overwrite each other.
        try:
            table = pa.table(columns, schema=self.schema)
        except UnicodeEncodeError:  # a lone surrogate (damaged record): written as U+FFFD
            table = pa.table({name: _scrub(values) for name, values in columns.items()}, schema=self.schema)
        pq.write_table(table, folder / f"part-{self.files:05d}.parquet")
        self.files += 1


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def write(events: Iterable[Event], directory: Path) -> int:
    """Stream events into per-server Parquet files under `directory`; returns how many were written.
    A partition this run writes replaces the same partition of an earlier run in `directory`."""
    made = directory  # the topmost folder this run makes, removed again on failure
    while not made.parent.exists() and made.parent != made:
        made = made.parent
    made_any = not directory.exists()
    staging = directory / f".wba-partial-{secrets.token_hex(4)}"
    count = 0
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        writer = _Writer(staging)
        for event in events:
            writer.add(event)
            count += 1
        for server in list(writer.buffers):
            writer.flush(server)
        for folder in sorted(staging.iterdir()):
            target = directory / folder.name
            if target.exists():
                shutil.rmtree(target)
            folder.replace(target)
        staging.rmdir()
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if made_any:
            shutil.rmtree(made, ignore_errors=True)
        if isinstance(exc, OSError):
            raise AnalyzerError(f"{directory}: cannot write Parquet ({exc.strerror or type(exc).__name__})") from None
        raise
    return count
