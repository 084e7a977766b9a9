"""Exports customers make (Event Viewer XML/CSV/text, PowerShell) -> events."""
