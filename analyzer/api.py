"""The library without the command line: `analyze` reads logs and diagnoses them, with the results
as Python objects and, for a notebook, as pandas DataFrames.

    from analyzer import analyze
    result = analyze("Application.evtx", "bundle.zip")
    result.report()                 # the report model (`.to_json()`: what `wba report -f json` prints)
    result.operations()             # DataFrame: one row per stitched operation
    result.writeback_events()       # DataFrame: one row per writeback event, with its cause

Problems with inputs do not raise: they are in `result.problems` (one line each, as the CLI
prints them); `result.inputs` accounts for every input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from analyzer.analysis.diagnosis import ServerDiagnosis
    from analyzer.catalogue.catalogue import Catalogue
    from analyzer.ingest.read import FileReport
    from analyzer.reports.model import Report
    from analyzer.run.pipeline import Analysis

OPERATION_COLUMNS = {
    "server": "string",
    "kind": "string",
    "user": "string",
    "tracking_id": "string",
    "start": "datetime64[us, UTC]",
    "end": "datetime64[us, UTC]",
    "seconds": "Float64",
    "outcome": "string",
    "cause": "string",
    "events": "Int64",
}
EVIDENCE_COLUMNS = {
    "server": "string",
    "time": "datetime64[us, UTC]",
    "provider": "string",
    "event_id": "Int64",
    "record_id": "Int64",
    "role": "string",
    "cause": "string",
    "specific": "boolean",
    "evidence": "string",
    "tracking_id": "string",
    "user": "string",
}


@dataclass
class Result:
    """What `analyze` found: the diagnosis of every server, and how each input was read."""

    analysis: Analysis
    problems: list[str] = field(default_factory=list)
    _servers: list[ServerDiagnosis] | None = None

    @property
    def inputs(self) -> list[FileReport]:
        return self.analysis.inputs

    @property
    def catalogue(self) -> Catalogue:
        return self.analysis.catalogue

    @property
    def servers(self) -> list[ServerDiagnosis]:
        """One diagnosis per server (computer), in name order."""
        if self._servers is None:
            self._servers = self.analysis.servers or self.analysis.collector.diagnose()
        return self._servers

    def report(self, lang: str = "en") -> Report:
        """The report (analyzer/reports/model.py); its `to_json()` is what `wba report -f json` writes."""
        return self.analysis.report(lang)

    def operations(self) -> pd.DataFrame:
        """One row per operation (reset, change, admin reset) of every server."""
        rows = [
            {
                "server": server.computer,
                "kind": op.kind,
                "user": op.user,
                "tracking_id": op.tracking_id,
                "start": op.start,
                "end": op.end,
                "seconds": (op.end - op.start).total_seconds() if op.start and op.end else None,
                "outcome": op.outcome,
                "cause": op.cause,
                "events": len(op.evidence),
            }
            for server in self.servers
            for op in server.operations
        ]
        return _frame(rows, OPERATION_COLUMNS)

    def writeback_events(self) -> pd.DataFrame:
        """One row per writeback event (the catalogue knows its code) of every server, with the
        cause the catalogue picked for it and the evidence that picked it."""
        rows = [
            {
                "server": server.computer,
                "time": item.time,
                "provider": item.event.provider,
                "event_id": item.event.event_id,
                "record_id": item.event.event_record_id,
                "role": item.role,
                "cause": item.cause,
                "specific": item.specific,
                "evidence": item.found,
                "tracking_id": item.fields.tracking_id,
                "user": item.fields.user,
            }
            for server in self.servers
            for item in server.evidence
        ]
        # Heartbeats travel in a short form (time, record id, Service Bus host): the same columns.
        rows += [
            {"server": server.computer, "time": t, "provider": "PasswordResetService", "event_id": 31019}
            | {"record_id": rid, "role": "heartbeat", "specific": False}
            for server in self.servers
            for t, rid, _ in server.beats
        ]
        rows.sort(key=lambda row: (row["server"], row["time"], row["record_id"] or 0))
        return _frame(rows, EVIDENCE_COLUMNS)


def _frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=list(columns)).astype(columns)


def analyze(
    *paths: str | Path,
    engine: str = "auto",
    jobs: int = 1,
    codes: str | Path | None = None,
    timeout: float = 600.0,
) -> Result:
    """Read and diagnose logs (files, directories, archives, exports) as `wba report` does.
    `codes`: a catalogue directory that adds or overrides entries (as `--codes`)."""
    from analyzer.catalogue.loader import load
    from analyzer.ingest.read import resolve_engine
    from analyzer.run.pipeline import analyze as run

    problems: list[str] = []
    catalogue = load(Path(codes) if codes is not None else None)
    analysis = run(
        [Path(p) for p in paths], resolve_engine(engine), catalogue, problems.append, jobs=jobs, timeout=timeout
    )
    return Result(analysis, problems)


def read_events(*paths: str | Path, engine: str = "auto") -> pd.DataFrame:
    """Every record of the inputs as the event model (`analyzer.events`), in one DataFrame with the
    declared columns and dtypes: for looking at everything, not only writeback."""
    from analyzer.events import to_dataframe
    from analyzer.ingest.read import resolve_engine
    from analyzer.run.stream import read_inputs

    reports: list[FileReport] = []
    return to_dataframe(read_inputs([Path(p) for p in paths], resolve_engine(engine), reports, lambda line: None))
