"""The process around the command line: signals, interrupts, broken pipes and errors become exit
codes (documented in README.md), and an error is one line on stderr, never a traceback with log
contents (unless --debug asks for one)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING

import click
import typer

from analyzer.errors import AnalyzerError
from analyzer.exitcodes import ExitStatus
from analyzer.reports.textsafe import clean

if TYPE_CHECKING:
    from collections.abc import Callable

_signal: dict[str, int] = {}


def _quiet_stdout() -> None:
    """The reader of stdout went away (`| head`): send what is still buffered nowhere, so that
    Python's last flush at exit cannot fail and print a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _invoke(app: typer.Typer, argv: list[str] | None) -> object:
    """Run the command line as Click's `main` would, but let interrupts, broken pipes and errors
    through to `main` (Click and Typer turn Ctrl-C into a silent exit 130 and a broken pipe into 1)."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None and os.name == "nt":  # cmd.exe leaves wildcards to the program
        args = click.utils._expand_args(args)
    with command.make_context("wba", args) as ctx:
        return command.invoke(ctx)


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM and SIGHUP end a run as Ctrl-C does (temporary files removed, workers ended)."""
    _signal["number"] = signum
    raise KeyboardInterrupt


def run_app(app: typer.Typer, argv: list[str] | None, debug: Callable[[], bool]) -> int:
    """Run `app` on `argv` (None: the process's arguments) and turn every outcome into an exit code."""
    from analyzer.run.progress import clear

    _signal.pop("number", None)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and threading.current_thread() is threading.main_thread():
            signal.signal(getattr(signal, name), _stop)
    try:
        code = _invoke(app, argv)
    except (typer.Exit, click.exceptions.Exit) as exc:
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort, click.exceptions.Abort):
        clear()
        signum = _signal.get("number")
        if signum is not None:  # 128 + its number, as a shell says
            sys.stderr.write(f"interrupted ({signal.Signals(signum).name})\n")
            return 128 + signum
        sys.stderr.write("interrupted\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return ExitStatus.OK
    except AnalyzerError as exc:
        clear()
        sys.stderr.write(f"error: {clean(str(exc))}\n")
        return ExitStatus.ERROR
    except Exception as exc:
        clear()
        if isinstance(exc, click.ClickException) or (hasattr(exc, "show") and hasattr(exc, "exit_code")):
            exc.show()  # a usage error (Click's, or Typer's vendored Click's)
            return int(exc.exit_code)
        if debug():
            traceback.print_exc()
        else:
            sys.stderr.write(f"error: internal error ({type(exc).__name__}); run with --debug for a traceback\n")
        return ExitStatus.ERROR
    return code if isinstance(code, int) else ExitStatus.OK
