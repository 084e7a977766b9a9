"""One exception hierarchy; messages name the input and never quote log contents."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class AnalyzerError(Exception):
    """An expected failure, printed as one `error: ...` line."""


class InputError(AnalyzerError):
    """An input that cannot be read at all."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class RecordError(AnalyzerError):
    """One record that cannot be turned into an event (counted, not raised to the user)."""
