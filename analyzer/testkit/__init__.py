"""The project's own EVTX writer: builds samples/, benchmark inputs and test fixtures."""

from analyzer.testkit.evtx_writer import write_evtx

__all__ = ["write_evtx"]
