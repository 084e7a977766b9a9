"""writeback-analyzer: diagnose Entra Connect password writeback from exported event logs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
