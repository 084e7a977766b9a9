"""Inputs -> catalogue-classified events -> report document: shared by report, timeline and triage.

Each input is read on its own (in a worker process when `jobs` > 1) into a `Partial`;
partials are merged in input order, so the result does not depend on `jobs`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from analyzer.analysis.collect import Collector, Partial
from analyzer.analysis.diagnosis import ServerDiagnosis
from analyzer.events import server_name, server_of
from analyzer.evtx.layout import chunks_in
from analyzer.ingest.inputs import file_sha256, open_inputs
from analyzer.ingest.read import DEFAULT_TIMEOUT, FileReport, merge_pieces, read_file, refused
from analyzer.reports import document

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from analyzer.catalogue.loader import Catalogue
    from analyzer.evtx.layout import Piece
    from analyzer.ingest.inputs import Input, Limits, Options
    from analyzer.reports.model import Report
    from analyzer.run.progress import Progress


@dataclass
class Analysis:
    catalogue: Catalogue
    collector: Collector
    inputs: list[FileReport] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    servers: list[ServerDiagnosis] | None = None  # diagnosed already (on a Dask cluster)

    def report(self, lang: str = "en", command: str | None = None, details: bool = False) -> Report:
        servers = self.servers if self.servers is not None else self.collector.diagnose()
        return document.build(
            self.inputs,
            self.hashes,
            servers,
            self.collector.unknown,
            self.catalogue,
            lang,
            command=command,
            duplicates=self.collector.duplicates,
            details=details,
        )


def read_input(
    item: Input,
    engine: str,
    catalogue: Catalogue,
    wanted: dict[str, frozenset[int] | None],
    piece: Piece | None = None,
    compact: bool = False,
) -> tuple[FileReport, Partial, str | None]:
    """Read one input (or one piece of its chunks) completely: its account, its partial, and its
    sha256 (None if unreadable; the first piece hashes the whole file). `compact`: heartbeats
    travel in their short form (see `Partial.classify`), for reports (not for the timeline).

    Only events of catalogue providers are kept; the rust engine does not even parse the others
    (their computer and time still count for coverage). The file is hashed in a thread meanwhile.
    """
    from analyzer.ingest.counting import Coverage

    report = FileReport(item.display, engine)
    partial = Partial()
    coverage = Coverage()
    with ThreadPoolExecutor(max_workers=1) as hasher:
        digest = hasher.submit(file_sha256, item.path) if piece is None or piece[0] == 0 else None
        for event in read_file(item, engine, report, wanted, coverage, piece):
            ids = wanted.get(event.provider, ())
            if ids is None or event.event_id in ids:  # an engine may return more than was asked
                partial.observe(event, catalogue.providers)
            else:
                partial.extend(server_of(event), event.time_created, event.time_created)
        for computer, (first, last) in coverage.spans_by_computer().items():
            partial.extend(server_name(computer, item.display), first, last)
        try:
            sha = digest.result() if digest is not None and report.error is None else None
        except OSError:
            sha = None
    partial.seen = {}  # only needed while reading this input
    partial.classify(catalogue, compact)
    return report, partial, sha


def _read_task(
    catalogue: Catalogue,
    engine: str,
    wanted: dict[str, frozenset[int] | None],
    compact: bool,
    item: Input,
    piece: Piece | None,
) -> tuple[FileReport, Partial, str | None]:
    return read_input(item, engine, catalogue, wanted, piece, compact)


PIECES_PER_WORKER = 4  # enough that no worker idles long at the end of a batch
MIN_PIECE = 32  # chunks (2 MiB): smaller pieces cost more in overhead than they balance


def _size(item: Input) -> int:
    try:
        return item.path.stat().st_size
    except OSError:
        return 0  # read whole: the reader reports why it cannot


def split(items: list[Input], jobs: int, engine: str = "rust") -> list[list[Piece | None]]:
    """How to read each input: whole ([None]), or as pieces of its chunks when there are too few
    inputs to keep `jobs` workers busy to the end (a few big logs, or one). Only for the rust
    engine: the python engine reuses a template's plan from earlier chunks, which can rescue
    records of a damaged chunk, so its result for a chunk may depend on the chunks before it."""
    if engine != "rust":
        return [[None] for _ in items]
    places = [chunks_in(_size(item)) if item.kind == "evtx" else 0 for item in items]
    per_piece = max(MIN_PIECE, -(-sum(places) // (jobs * PIECES_PER_WORKER)))
    plans: list[list[Piece | None]] = []
    for count in places:
        parts = -(-count // per_piece) if jobs > 1 else 1
        if parts <= 1:
            plans.append([None])
            continue
        bounds = [count * i // parts for i in range(parts + 1)]
        plans.append([(bounds[i], bounds[i + 1] if i + 1 < parts else None) for i in range(parts)])
    return plans


def analyze(
    paths: list[Path],
    engine: str,
    catalogue: Catalogue,
    warn: Callable[[str], None],
    jobs: int = 1,
    progress: Callable[[int], Progress] | None = None,
    everything: bool = False,
    compact: bool | None = None,
    scheduler: str | None = None,
    limits: Limits | None = None,
    options: Options | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Analysis:
    """Read, classify and (on demand) diagnose the inputs; each file read in a guarded worker
    with a time limit of `timeout` seconds (locally, or on each Dask worker). `everything`: every
    catalogued code, not only those the diagnosis uses; `compact`: plain heartbeats kept as tuples
    (`Partial.classify`; by default unless `everything`), for whoever does not list them."""
    compact = not everything if compact is None else compact
    analysis = Analysis(catalogue, Collector(catalogue))
    with open_inputs(paths, limits, options) as inputs:
        analysis.inputs += refused(inputs, engine, warn)
        # Logs before exports: a record found in both is kept as the log has it (exact UTC time, data
        # values), whichever order the inputs came in (see analysis/dedupe.py).
        files = sorted(inputs.files, key=lambda item: item.kind != "evtx")
        meter = progress(len(files)) if progress else None
        if scheduler:
            with _dask(scheduler, jobs) as client:
                results = iter(_read_on_dask(client, files, engine, catalogue, everything, compact, timeout))
                _merge_all(analysis, files, results, warn, meter)
                scattered = client.scatter(catalogue, broadcast=True)
                analysis.servers = analysis.collector.diagnose(
                    lambda f, catalogues, *rest: client.gather(
                        client.map(f, [scattered] * len(catalogues), *rest, pure=False)
                    )
                )
        else:
            reading = _read_all(files, engine, catalogue, jobs, everything, compact, timeout, meter)
            _merge_all(analysis, files, reading, warn)
        if meter:
            meter.finish()
    if any(r.events for r in analysis.inputs) and not analysis.collector.found_writeback():
        providers = ", ".join(sorted(catalogue.providers))
        warn(
            f"warning: no password writeback events ({providers}) in these logs: "
            "ask for the Application log of the Entra Connect server"
        )
    return analysis


def _merge_all(
    analysis: Analysis,
    items: list[Input],
    results: Iterator[tuple[FileReport, Partial, str | None]],
    warn: Callable[[str], None],
    meter: Progress | None = None,
) -> None:
    """Each input's result into the analysis, in input order (`meter`: when the reader does not
    tell it itself)."""
    for item, (report, found, digest) in zip(items, results, strict=True):
        analysis.inputs.append(report)
        if meter:
            meter.update(report.events + report.unreadable)
        if digest:
            analysis.hashes[item.display] = digest
        message = report.message()
        if message:
            warn(message)
        for note in analysis.collector.merge(found, item.display, local=report.times == "local"):
            report.notes.append(note)
            warn(f"warning: {item.display}: {note}")


def _read_all(
    items: list[Input],
    engine: str,
    catalogue: Catalogue,
    jobs: int,
    everything: bool,
    compact: bool,
    timeout: float = DEFAULT_TIMEOUT,
    meter: Progress | None = None,
) -> Iterator[tuple[FileReport, Partial, str | None]]:
    """Each input read in a guarded worker process (a time limit per file; a crash or hang costs
    that file only), results in input order as they come; `meter` hears of every piece and file."""
    from analyzer.run import pool

    wanted = catalogue.wanted(everything)
    plans = split(items, jobs, engine)
    if meter:
        meter.plan(sum(map(len, plans)))
    # The catalogue goes to each worker once (bound at start), not with every file.
    reader = partial(_read_task, catalogue, engine, wanted, compact)
    tasks = [(item, piece) for item, plan in zip(items, plans, strict=True) for piece in plan]
    results = pool.run(reader, tasks, jobs, timeout)
    for item, plan in zip(items, plans, strict=True):
        parts = []
        for _ in plan:
            parts.append(next(results))
            if meter:
                meter.piece(0 if isinstance(parts[-1], pool.Failed) else parts[-1][0].events + parts[-1][0].unreadable)
        if meter:
            meter.file()
        failed = next((r for r in parts if isinstance(r, pool.Failed)), None)
        if failed is not None:  # a piece that failed fails its file, as reading it whole would
            yield FileReport(item.display, engine, error=failed.reason), Partial(), None
        elif len(parts) == 1:
            yield parts[0]
        else:
            yield _merge(parts)


def _merge(parts: list[tuple[FileReport, Partial, str | None]]) -> tuple[FileReport, Partial, str | None]:
    whole = parts[0][1]
    for _, piece, _ in parts[1:]:
        whole.absorb(piece)
    report = merge_pieces([report for report, _, _ in parts])
    return report, whole, parts[0][2] if report.error is None else None


@contextmanager
def _dask(scheduler: str, jobs: int) -> Iterator[Any]:
    """A client of the cluster at `scheduler`, or of one started here for `local`."""
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        with dask.config.set({"distributed.worker.daemon": False}):  # so that they may have guarded readers
            cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster or scheduler)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _read_on_dask(
    client: Any,
    items: list[Input],
    engine: str,
    catalogue: Catalogue,
    everything: bool,
    compact: bool,
    timeout: float,
) -> list[tuple[FileReport, Partial, str | None]]:
    """Per-file reading on a Dask cluster; results are gathered in input order, so the report is
    the same as a local run (each server's diagnosis then runs on the cluster too: see `analyze`).
    Workers must see the input paths (archives are unpacked here: share the temporary directory,
    or give plain paths on a shared file system)."""
    wanted = catalogue.wanted(everything)
    futures = [
        client.submit(_dask_read, item, engine, catalogue, wanted, compact, timeout, pure=False) for item in items
    ]
    return client.gather(futures)


def _dask_read(
    item: Input,
    engine: str,
    catalogue: Catalogue,
    wanted: dict[str, frozenset[int] | None],
    compact: bool,
    timeout: float,
) -> tuple[FileReport, Partial, str | None]:
    """(On a Dask worker.) `read_input` in a guarded process with the time limit."""
    from analyzer.run import pool

    result = pool.run_one(read_input, (item, engine, catalogue, wanted, None, compact), timeout)
    if isinstance(result, pool.Failed):
        return FileReport(item.display, engine, error=result.reason, kind=item.kind), Partial(), None
    return result
