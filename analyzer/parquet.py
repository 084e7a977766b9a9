"""`wba events --format parquet -o DIR`: normalized events as Parquet, partitioned by server
(`DIR/computer=<name>/part-0.parquet`, Hive style), for DuckDB or Spark over a fleet.
Needs the optional extra: pip install 'writeback-analyzer[parquet]'."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Iterable

    from analyzer.events import Event

BATCH = 20_000


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


def write(events: Iterable[Event], directory: Path) -> int:
    """Stream events into per-server Parquet files; returns how many were written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema()
    writers: dict[str, Any] = {}
    batches: dict[str, list[Event]] = {}
    count = 0

    def flush(server: str) -> None:
        rows = batches.pop(server, [])
        if not rows:
            return
        if server not in writers:
            part = directory / f"computer={quote(server, safe='')}"
            part.mkdir(parents=True, exist_ok=True)
            writers[server] = pq.ParquetWriter(part / "part-0.parquet", schema)
        columns = {name: [getattr(e, name) for e in rows] for name in schema.names}
        columns["fields"] = [list(e.fields.items()) for e in rows]
        writers[server].write_table(pa.table(columns, schema=schema))

    directory.mkdir(parents=True, exist_ok=True)
    try:
        for event in events:
            server = event.computer or ""
            batches.setdefault(server, []).append(event)
            count += 1
            if len(batches[server]) >= BATCH:
                flush(server)
        for server in list(batches):
            flush(server)
    finally:
        for writer in writers.values():
            writer.close()
    return count
