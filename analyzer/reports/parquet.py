"""`wba events --format parquet -o DIR`: normalized events as Parquet, partitioned by server
(`DIR/server=<name>/part-<n>.parquet`, Hive style), for DuckDB or Spark over a fleet.
Needs the optional extra: pip install 'writeback-analyzer[parquet]'.

The partition key is `server`, not `computer`: Hive readers take a partition's value from its
folder name, which must be short and safe, while each file keeps the exact `computer` column. An
event without a computer (an Event Viewer CSV has none) goes to the server the report names for
it, `(unknown computer: <file>)`, as a hash-suffixed folder: a folder of Hive's null value alone
would leave readers (pandas, pyarrow) nothing to infer the column's type from.
A name that is not a plain host name (other characters, over 100 characters) becomes a readable
prefix and a hash of the exact name (`server=张三的服务器…-1f2e3d4c5b`).

Events are buffered per server and written in record batches, each batch to a new file that is
closed at once: memory stays flat and no file stays open, however many servers there are. The
files are written under a staging folder in DIR and moved into place at the end; on failure
nothing is left behind (nor DIR itself, if this run made it). `wba events` has its workers make
the Arrow batches (`spill`); this process only sorts their rows into files (`Export`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from datetime import UTC, datetime
from itertools import groupby, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError
from analyzer.events import server_name

if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterable, Iterator

    from analyzer.events import Event, Lines

BATCH = 20_000  # events of one server per file at most
BUFFERED = 50_000  # events held in memory at most, over all servers: then every buffer is written
_PLAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_UNSAFE = re.compile(r"[^\w.-]+")


def partition(server: str) -> str:
    """The folder name of a server's partition: the name itself when it is a plain host name,
    else a readable prefix (letters, digits, `.`, `-`, `_` of any script; 60 bytes at most) and a hash."""
    if _PLAIN.fullmatch(server):
        return f"server={server}"
    prefix = _UNSAFE.sub("_", server).strip("._").encode()[:60].decode("utf-8", "ignore").rstrip("._")
    digest = hashlib.blake2b(server.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()
    return f"server={prefix}-{digest}" if prefix else f"server={digest}"


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("file", pa.string()),
            ("event_record_id", pa.int64()),
            ("time_created", pa.timestamp("us", tz="UTC")),
            ("time_local", pa.bool_()),
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


def to_batch(events: list[Event | Lines], local: Container[str] = ()) -> Any:
    """Events (`Lines`: their rows of column values) as an Arrow record batch of `_schema()`.

    `local`: the files whose times are an export's local wall-clock times, zone unknown: their
    `time_created` holds that wall-clock time as if it were UTC, and `time_local` says so."""
    import pyarrow as pa

    from analyzer.events import Lines

    rows: list[tuple[Any, ...]] = []
    flags: list[bool] = []
    events_too = False  # else every time is a text as `iso_utc` prints it, made a time by Arrow
    for item in events:
        if type(item) is Lines:
            rows += [line[0] for line in item.lines]
            flags += [False] * len(item.lines)  # a log's own times: UTC
        else:
            event: Event = item  # type: ignore[assignment]
            rows.append((*event.__reduce__()[1][:-1], list(event.fields.items())))
            flags.append(event.file in local)
            events_too = True
    schema = _schema()
    names = [name for name in schema.names if name != "time_local"]
    values = list(map(list, zip(*rows, strict=True))) if rows else [[] for _ in names]
    columns: dict[str, Any] = dict(zip(names, values, strict=True))
    columns["time_local"] = flags
    times = columns["time_created"]
    if events_too:
        columns["time_created"] = [_time(t) if isinstance(t, str) else t for t in times]
    else:
        columns["time_created"] = pa.array(times, pa.string()).cast(schema.field("time_created").type)
    try:
        return pa.record_batch(columns, schema=schema)
    except UnicodeEncodeError:  # a lone surrogate (damaged record): written as U+FFFD
        return pa.record_batch({name: _scrub(values) for name, values in columns.items()}, schema=schema)


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp[:-1]).replace(tzinfo=UTC)


def spill(frames: Iterable[list[Event | Lines]], path: Path, local: Callable[[], Container[str]]) -> None:
    """(In a worker.) Each frame of events into `path` as a batch of an Arrow stream, on disk as
    soon as it is made (a stopped worker leaves whole batches); `local()`: see `to_batch`, asked
    after each frame is read (an input's reader knows by then whether its times are local)."""
    import pyarrow as pa

    with path.open("wb") as sink, pa.ipc.new_stream(sink, _schema()) as stream:
        for frame in frames:
            stream.write_batch(to_batch(frame, local()))
            sink.flush()


def unspill(path: Path) -> Iterator[Any]:
    """The whole batches of a spill file (none if the worker died before it began)."""
    import pyarrow as pa

    try:
        with pa.ipc.open_stream(pa.OSFile(str(path))) as stream:
            while True:
                try:
                    yield stream.read_next_batch()
                except StopIteration:
                    return
    except (FileNotFoundError, pa.ArrowInvalid, OSError):  # none, or cut short by a stopped worker
        return


class Export:
    """Record batches into per-server Parquet files under `directory` (a context manager: the
    files are moved into place when it ends without an error, else nothing is left behind).

    Events are buffered per server, as references to runs of rows of their batches, and each flush
    writes one file and closes it; a server's file holds its events in input order.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.staging = directory / f".wba-partial-{secrets.token_hex(4)}"
        self.made = directory  # the topmost folder this run makes, removed again on failure
        while not self.made.parent.exists() and self.made.parent != self.made:
            self.made = self.made.parent
        self.made_any = not directory.exists()
        self.schema = _schema()
        self.buffers: dict[str, list[tuple[Any, int, int]]] = {}  # server -> (batch, first row, rows) in order
        self.sizes: dict[str, int] = {}
        self.buffered = 0
        self.files = 0
        self.count = 0

    def __enter__(self) -> Export:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.staging.mkdir()
        except OSError as exc:
            self._undo()
            raise self._error(exc) from None
        return self

    def add(self, batch: Any) -> None:
        """Each event of the batch, in order: a server's buffer is written when it holds BATCH
        events, and every buffer when BUFFERED events are held in all (taken a run of one
        server's events at a time, up to the next of those limits)."""
        at = 0
        places = zip(batch.column("computer").to_pylist(), batch.column("file").to_pylist(), strict=True)
        for server, run in groupby(server_name(computer, file) for computer, file in places):
            left = sum(1 for _ in run)
            while left:
                segments = self.buffers.get(server)
                if segments is None:
                    segments = self.buffers[server] = []
                    self.sizes[server] = 0
                size = min(left, BATCH - self.sizes[server], BUFFERED - self.buffered)
                segments.append((batch, at, size))
                self.sizes[server] += size
                self.buffered += size
                at, left = at + size, left - size
                if self.sizes[server] >= BATCH:
                    self.flush(server)
                elif self.buffered >= BUFFERED:
                    for name in list(self.buffers):
                        self.flush(name)
        self.count += batch.num_rows

    def flush(self, server: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        segments = self.buffers.pop(server, [])
        self.buffered -= self.sizes.pop(server, 0)
        if not segments:
            return
        parts = [batch.slice(at, size) for batch, at, size in segments]
        table = pa.Table.from_batches(parts, schema=self.schema).combine_chunks()
        folder = self.staging / partition(server)
        folder.mkdir(exist_ok=True)
        # File names are unique over the run: two servers whose folders are one on a file system
        # that ignores case (AADC01, aadc01) never overwrite each other.
        pq.write_table(table, folder / f"part-{self.files:05d}.parquet")
        self.files += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            try:
                self._finish()
            except BaseException as late:
                self._undo()
                if isinstance(late, OSError):
                    raise self._error(late) from None
                raise
            return
        self._undo()
        if isinstance(exc, OSError):
            raise self._error(exc) from None

    def _finish(self) -> None:
        for server in list(self.buffers):
            self.flush(server)
        for folder in sorted(self.staging.iterdir()):
            target = self.directory / folder.name
            if target.exists():
                shutil.rmtree(target)
            folder.replace(target)
        self.staging.rmdir()

    def _undo(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.made_any:
            shutil.rmtree(self.made, ignore_errors=True)

    def _error(self, exc: OSError) -> AnalyzerError:
        return AnalyzerError(f"{self.directory}: cannot write Parquet ({exc.strerror or type(exc).__name__})")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def write(events: Iterable[Event], directory: Path, local: Container[str] = ()) -> int:
    """Stream events into per-server Parquet files under `directory`; returns how many were written.
    A partition this run writes replaces the same partition of an earlier run in `directory`.
    `local`: see `to_batch`."""
    iterator = iter(events)
    with Export(directory) as export:
        while chunk := list(islice(iterator, 1024)):
            export.add(to_batch(chunk, local))
    return export.count
