"""writeback-analyzer: diagnose Entra Connect password writeback from exported event logs.

The library (`analyze`, `read_events`: see `analyzer.api`) is imported on first use, so that the
command line starts without it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "read_events"]


def __getattr__(name: str) -> Any:
    if name in ("analyze", "read_events"):
        from analyzer import api

        return getattr(api, name)
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
