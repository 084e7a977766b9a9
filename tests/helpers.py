"""Shared test helpers: real events (the event model) for diagnosis tests, and running `wba`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from analyzer.events import Event

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_LEVEL = {"info": 4, "warning": 3, "error": 2}


def event(
    provider: str,
    event_id: int,
    text: str,
    seconds: float = 0,
    computer: str = "AADC01",
    level: str = "info",
    record: int = 0,
) -> Event:
    return Event(
        "t.evtx",
        record or 1000 + int(seconds * 10),
        T0 + timedelta(seconds=seconds),
        provider,
        event_id,
        0,
        _LEVEL[level],
        0,
        0x80000000000000,
        "Application",
        computer,
        [text],
        {},
    )


def prs(event_id: int, text: str, seconds: float = 0, **kw: object) -> Event:
    return event("PasswordResetService", event_id, text, seconds, **kw)  # type: ignore[arg-type]


def start(
    tid: str | None, user: str, seconds: float, token: str = "PasswordResetRequestStart", eid: int = 31001, **kw: object
) -> Event:
    head = f"TrackingId: {tid}, " if tid else ""
    return prs(eid, f"{head}{token}, Details: {user}", seconds, **kw)


def success(tid: str | None, user: str, seconds: float, eid: int = 31002, **kw: object) -> Event:
    head = f"TrackingId: {tid}, " if tid else ""
    return prs(
        eid,
        f"{head}PasswordResetSuccess, Details: Context: cloudAnchor: User_1, UserPrincipalName: {user}",
        seconds,
        **kw,
    )


def failure(tid: str | None, user: str, seconds: float, hr: str = "80230626", eid: int = 33004, **kw: object) -> Event:
    head = f"TrackingId: {tid}, " if tid else ""
    return prs(
        eid,
        f"{head}Reason: Synchronization Engine returned an error hr={hr}, message=x, Context: "
        f"cloudAnchor: User_1, SourceAnchorValue: abcdefgh12, UserPrincipalName: {user}, Details: y",
        seconds,
        level="error",
        **kw,
    )


def bail(hr: str, seconds: float, **kw: object) -> Event:
    text = f'An unexpected error has occurred during a password set operation. "BAIL: MMS(5716): 0x{hr} (x)"'
    return event("ADSync", 6329, text, seconds, level="error", **kw)  # type: ignore[arg-type]


def run_cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`wba ARGS` through the real entry point (`analyzer.cli.main`, where errors become exit codes and
    one line on stderr), with stdin, stdout and stderr of its own as CliRunner isolates them.

    Returns the exit code, stdout and stderr."""
    from typer.testing import CliRunner

    from analyzer.cli import main

    with CliRunner().isolation(input=stdin, env=env) as (out, err, _):
        code = main(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8", "backslashreplace")


def run_main(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """`wba ARGS` through the real entry point, its output captured by pytest's `capsys`."""
    from analyzer.cli import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
