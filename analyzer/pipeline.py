"""Inputs -> catalogue-classified events -> report document: what `wba report` and `wba timeline` share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.diagnosis import Collector
from analyzer.reader import read_inputs
from analyzer.reports import document

if TYPE_CHECKING:
    from collections.abc import Callable

    from analyzer.catalogue.loader import Catalogue
    from analyzer.reader import FileReport


@dataclass
class Analysis:
    catalogue: Catalogue
    collector: Collector
    inputs: list[FileReport] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)

    def report(self, lang: str = "en") -> dict[str, Any]:
        servers = self.collector.diagnose()
        return document.build(self.inputs, self.hashes, servers, self.collector.unknown, self.catalogue, lang)


def analyze(paths: list[Path], engine: str, catalogue: Catalogue, warn: Callable[[str], None]) -> Analysis:
    analysis = Analysis(catalogue, Collector(catalogue))
    for event in read_inputs(paths, engine, analysis.inputs, warn):
        analysis.collector.add(event)
    for report in analysis.inputs:
        if report.error is None:
            analysis.hashes[report.path] = document.file_sha256(Path(report.path))
    return analysis
