"""The `wba` command line: options, wiring, and errors -> exit codes. The work happens elsewhere."""

from __future__ import annotations

import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import click
import typer

from analyzer import __version__
from analyzer.errors import AnalyzerError
from analyzer.status import ExitStatus

if TYPE_CHECKING:
    from collections.abc import Iterator

    from analyzer.events import Event
    from analyzer.reader import FileReport

app = typer.Typer(
    help="Diagnose password writeback from exported Entra Connect event logs (.evtx).",
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
)
_state = {"debug": False}


class Engine(str, Enum):
    auto = "auto"
    rust = "rust"
    python = "python"


class EventFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


class FileFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class Sort(str, Enum):
    file = "file"
    time = "time"


PathsArg = Annotated[list[Path], typer.Argument(help="EVTX files or directories (searched for *.evtx).")]
EngineOpt = Annotated[
    Engine,
    typer.Option("--engine", help="Parser: rust (pyevtx-rs), python (python-evtx); auto = rust if installed."),
]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")]  # noqa: UP045


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wba {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["debug"] = debug


def _read_all(paths: list[Path], engine: str, reports: list[FileReport]) -> Iterator[Event]:
    """Events of every input in sorted path order; one stderr line per problem input."""
    from analyzer.reader import FileReport, expand, read_file

    files, bad = expand(paths)
    for report in bad:
        reports.append(report)
        typer.echo(report.message(), err=True)
    for path in files:
        report = FileReport(str(path), engine)
        reports.append(report)
        yield from read_file(path, engine, report)
        message = report.message()
        if message:
            typer.echo(message, err=True)


def _exit_for(reports: list[FileReport]) -> None:
    if any(r.status != "ok" for r in reports):
        raise typer.Exit(ExitStatus.INPUT_PROBLEMS)


@app.command()
def events(
    paths: PathsArg,
    fmt: Annotated[EventFormat, typer.Option("--format", "-f", help="Output format.")] = EventFormat.table,
    engine: EngineOpt = Engine.auto,
    sort: Annotated[
        Sort,
        typer.Option(
            "--sort",
            help="file: inputs in path order, records in file order; time: by (time, file, record id).",
        ),
    ] = Sort.file,
    output: OutputOpt = None,
) -> None:
    """Every record of every input as a normalized event."""
    from analyzer.listing import write_events
    from analyzer.output import open_output
    from analyzer.reader import resolve_engine

    reports: list[FileReport] = []
    stream = _read_all(paths, resolve_engine(engine.value), reports)
    if sort is Sort.time:
        stream = iter(sorted(stream, key=lambda e: (e.time_created, e.file, e.event_record_id or 0)))
    with open_output(output) as out:
        write_events(stream, fmt.value, out)
    _exit_for(reports)


@app.command()
def files(
    paths: PathsArg,
    fmt: Annotated[FileFormat, typer.Option("--format", "-f", help="Output format.")] = FileFormat.table,
    engine: EngineOpt = Engine.auto,
    output: OutputOpt = None,
) -> None:
    """One row per input: chunks, records read and unreadable, time span, computers, providers."""
    from analyzer.listing import write_files
    from analyzer.output import open_output
    from analyzer.reader import resolve_engine

    reports: list[FileReport] = []
    for _ in _read_all(paths, resolve_engine(engine.value), reports):
        pass
    with open_output(output) as out:
        write_files(reports, fmt.value, out)
    _exit_for(reports)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and turns every outcome into an exit code."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="wba", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        sys.stderr.write("interrupted\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): stop quietly
        return ExitStatus.OK
    except AnalyzerError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return ExitStatus.ERROR
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        else:
            sys.stderr.write(f"error: internal error ({type(exc).__name__}); run with --debug for a traceback\n")
        return ExitStatus.ERROR
    return code if isinstance(code, int) else ExitStatus.OK


def run() -> None:
    sys.exit(main())
