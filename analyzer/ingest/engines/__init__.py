"""The two EVTX engines (pyevtx-rs and python-evtx), giving identical events."""
