"""The EVTX format: its numbers declared once, and headers read without a parser."""
