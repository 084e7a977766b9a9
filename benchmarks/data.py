"""Benchmark inputs built with the project's EVTX writer: Application logs of busy Connect servers.

A busy server's Application log is mostly ADSync sync-cycle chatter and other providers;
writeback events are a few percent. `application_log(target_bytes, ...)` writes one such log.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from analyzer.testkit import write_evtx
from analyzer.testkit.scenarios import ADSYNC, DIRSYNC, INFO, Server, _clock

CONNECTORS = ["contoso.com", "contoso.onmicrosoft.com - AAD", "fabrikam.com"]
RECORDS_PER_MB = 2_480  # Measured on this writer's output; it sizes the time span.


def _busy_day(server: Server, day: int) -> None:
    start = server.start + timedelta(days=day)
    for half_hour in range(48):
        cycle = server.jitter(start + timedelta(minutes=30 * half_hour), 60)
        for i, connector in enumerate(CONNECTORS):
            for j, stage in enumerate(("Delta Import", "Delta Synchronization", "Export")):
                at = cycle + timedelta(seconds=40 * (3 * i + j))
                server.add(
                    at,
                    ADSYNC,
                    6946,
                    INFO,
                    [
                        f'The management agent "{connector}" completed run profile '
                        f'"{stage}" with a delta of {server.rng.randrange(0, 40)} '
                        f"objects.",
                        "",
                    ],
                )
                server.add(
                    at + timedelta(seconds=1),
                    ADSYNC,
                    904,
                    INFO,
                    [f"Scheduler::SchedulerThreadMain : Completed {stage} on {connector}.", ""],
                )
        server.add(
            cycle + timedelta(minutes=8),
            DIRSYNC,
            654,
            INFO,
            [f"Provision credentials ping time: {cycle:%m/%d/%Y %H:%M:%S}"],
        )
    for _ in range(40):
        at = server.jitter(start, 86_400)
        server.add(
            at,
            "Microsoft-Windows-Security-SPP",
            16384,
            INFO,
            [
                f"Successfully scheduled Software Protection service for re-start at {at:%Y-%m-%dT%H:%M:%SZ}. "
                "Reason: RulesEngine."
            ],
            qualifiers=16384,
        )


def application_log(path: Path, target_mb: float, seed: int, computer: str) -> int:
    """Write a log of about `target_mb` MB; returns its record count."""
    records_per_day = 48 * (len(CONNECTORS) * 6 + 1) + 40
    days = max(1, round(target_mb * RECORDS_PER_MB / records_per_day))
    server = Server(
        computer,
        "contoso.com",
        seed=seed,
        start=_clock(1) - timedelta(days=days),
        hours=24 * days,
        first_record_id=1 + seed * 1_000_000,
    )
    rng = random.Random(seed)
    for day in range(days):
        _busy_day(server, day)
    server.service(server.start + timedelta(minutes=3), 31015, "WriteBackServiceStarted")
    server.heartbeats(server.start, server.end, every_minutes=60)
    outcomes = ["success"] * 8 + ["denied", "policy"]
    server.day_of_operations(server.start, server.end, 6 * days, lambda kind, user: rng.choice(outcomes))
    with path.open("wb") as fh:
        return write_evtx(fh, server.events())
