"""The `wba` command line: options, wiring, and errors -> exit codes. The work happens elsewhere."""

from __future__ import annotations

import os
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import click
import typer

from analyzer import __version__
from analyzer.errors import AnalyzerError
from analyzer.status import ExitStatus

if TYPE_CHECKING:
    from collections.abc import Iterator

    from analyzer.catalogue.loader import Catalogue
    from analyzer.events import Event
    from analyzer.reader import FileReport
    from analyzer.redact import Redactor
    from analyzer.sources.bundles import Limits, Options

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
    parquet = "parquet"


class FileFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class Sort(str, Enum):
    file = "file"
    time = "time"


PathsArg = Annotated[
    list[Path], typer.Argument(help="Logs, exports, archives or directories (searched recursively); - for stdin.")
]
EngineOpt = Annotated[
    Engine,
    typer.Option("--engine", help="Parser: rust (pyevtx-rs), python (python-evtx); auto = rust if installed."),
]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")]  # noqa: UP045


class DateOrder(str, Enum):
    dmy = "dmy"
    mdy = "mdy"


# How inputs are read (archive passwords, local times in exports): every command that reads logs.
PasswordOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--archive-password",
        envvar="WBA_ARCHIVE_PASSWORD",
        help="Password of encrypted archives (zip, 7z).",
    ),
]
DateOrderOpt = Annotated[
    Optional[DateOrder],  # noqa: UP045
    typer.Option("--date-order", help="Day/month order of local dates in exports, when their values do not tell."),
]
InputTzOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--input-tz", help="Time zone of local times in exports (Europe/Berlin, +02:00): converted to UTC."),
]


def _options(password: str | None, date_order: DateOrder | None, input_tz: str | None) -> Options:
    from analyzer.sources.bundles import Options
    from analyzer.sources.exported import Clock, zone_of

    if input_tz is not None:
        try:
            zone_of(input_tz)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--input-tz") from None
    return Options(password or None, Clock(date_order.value if date_order else None, input_tz))


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


def _warn(line: str) -> None:
    typer.echo(line, err=True)


def _read_all(paths: list[Path], engine: str, reports: list[FileReport], options: Options) -> Iterator[Event]:
    from analyzer.reader import read_inputs

    return read_inputs(paths, engine, reports, _warn, options=options)


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
    archive_password: PasswordOpt = None,
    date_order: DateOrderOpt = None,
    input_tz: InputTzOpt = None,
) -> None:
    """Every record of every input as a normalized event."""
    from analyzer.listing import write_events
    from analyzer.output import open_output
    from analyzer.reader import resolve_engine

    reports: list[FileReport] = []
    options = _options(archive_password, date_order, input_tz)
    stream = _read_all(paths, resolve_engine(engine.value), reports, options)
    if sort is Sort.time:
        stream = iter(sorted(stream, key=lambda e: (e.time_created, e.file, e.event_record_id or 0)))
    if fmt is EventFormat.parquet:
        if output is None or str(output) == "-":
            raise typer.BadParameter("parquet needs a directory: -o DIR", param_hint="--format")
        try:
            from analyzer import parquet
        except ImportError:
            raise typer.BadParameter("needs pyarrow: pip install 'writeback-analyzer[parquet]'") from None
        parquet.write(stream, output)
        _exit_for(reports)
        return
    with open_output(output) as out:
        write_events(stream, fmt.value, out)
    _exit_for(reports)


@app.command()
def files(
    paths: PathsArg,
    fmt: Annotated[FileFormat, typer.Option("--format", "-f", help="Output format.")] = FileFormat.table,
    engine: EngineOpt = Engine.auto,
    output: OutputOpt = None,
    archive_password: PasswordOpt = None,
    date_order: DateOrderOpt = None,
    input_tz: InputTzOpt = None,
) -> None:
    """One row per input: chunks, records read and unreadable, time span, computers, providers."""
    from analyzer.listing import write_files
    from analyzer.output import open_output
    from analyzer.reader import resolve_engine

    reports: list[FileReport] = []
    options = _options(archive_password, date_order, input_tz)
    for _ in _read_all(paths, resolve_engine(engine.value), reports, options):
        pass
    with open_output(output) as out:
        write_files(reports, fmt.value, out)
    _exit_for(reports)


class ReportFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    html = "html"


class TimelineFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    csv = "csv"
    jsonl = "jsonl"


class Lang(str, Enum):
    en = "en"
    zh_cn = "zh-CN"


CodesOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--codes", help="A catalogue directory (laid out like codes/) that adds or overrides entries."),
]


def _catalogue(codes: Path | None) -> Catalogue:
    from analyzer.catalogue.loader import load

    return load(codes)


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
RedactOpt = Annotated[bool, typer.Option("--redact", help="Replace users, DNs and anchors with stable pseudonyms.")]
RedactKeyOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--redact-key", help="Key for the pseudonyms (same key, same pseudonyms); random if not given."),
]
RedactHostsOpt = Annotated[
    bool, typer.Option("--redact-hosts", help="With --redact: also computer names and Service Bus namespaces.")
]


MembersOpt = Annotated[int, typer.Option("--max-archive-members", min=1, help="Archive members allowed.")]
BytesOpt = Annotated[int, typer.Option("--max-archive-mb", min=1, help="Unpacked size allowed per archive (MB).")]
RatioOpt = Annotated[int, typer.Option("--max-ratio", min=1, help="Compression ratio allowed for a member.")]


def _limits(members: int, megabytes: int, ratio: int) -> Limits:
    from analyzer.sources.bundles import Limits

    return Limits(max_members=members, max_total_bytes=megabytes << 20, max_ratio=ratio)


def _command(name: str, paths: list[Path], **options: Any) -> str:
    """The command line that reproduces the content (no engine, jobs, output path or key: they do not change it)."""
    words = ["wba", name, *(str(p) for p in paths)]
    for option, value in options.items():
        flag = "--" + option.replace("_", "-")
        if value is True:
            words.append(flag)
        elif value not in (None, False):
            words += [flag, str(value.value if isinstance(value, Enum) else value)]
    return " ".join(words)


def _redactor(redact: bool, key: str | None, hosts: bool) -> Redactor | None:
    from analyzer.redact import Redactor, new_key

    if not redact:
        if key or hosts:
            raise typer.BadParameter("needs --redact", param_hint="--redact-key/--redact-hosts")
        return None
    if key is None:
        key = new_key()
        _warn(f"redaction key: {key} (give it as --redact-key to get the same pseudonyms again)")
    return Redactor(key, hosts=hosts)


def _default_jobs() -> int:
    return os.cpu_count() or 1


@app.command()
def report(
    paths: PathsArg,
    max_members: MembersOpt = 10_000,
    max_mb: BytesOpt = 64 << 10,
    max_ratio: RatioOpt = 200,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.table,
    engine: EngineOpt = Engine.auto,
    codes: CodesOpt = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the report.")] = Lang.en,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    redact_hosts: RedactHostsOpt = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Files read in parallel (default: cores).")
    ] = None,
    output: OutputOpt = None,
    archive_password: PasswordOpt = None,
    date_order: DateOrderOpt = None,
    input_tz: InputTzOpt = None,
) -> None:
    """Per server: coverage, operations, root causes ranked by impact with fixes, service health, status."""
    from analyzer.output import open_output
    from analyzer.pipeline import analyze
    from analyzer.reader import resolve_engine
    from analyzer.reports import renderer

    redactor = _redactor(redact, redact_key, redact_hosts)
    analysis = analyze(
        paths,
        resolve_engine(engine.value),
        _catalogue(codes),
        _warn,
        jobs=jobs or _default_jobs(),
        limits=_limits(max_members, max_mb, max_ratio),
        options=_options(archive_password, date_order, input_tz),
    )
    command = _command(
        "report",
        paths,
        format=fmt,
        codes=codes,
        lang=lang if lang is not Lang.en else None,
        redact=redact,
        redact_hosts=redact_hosts,
        date_order=date_order,
        input_tz=input_tz,
    )
    doc = analysis.report(lang.value, command, details=fmt is ReportFormat.html)
    if redactor:
        doc = redactor.document(doc)
    with open_output(output) as out:
        out.write(renderer(fmt.value)(doc, lang.value))
    _exit_for(analysis.inputs)


class TriageFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    html = "html"


@app.command()
def triage(
    paths: PathsArg,
    max_members: MembersOpt = 10_000,
    max_mb: BytesOpt = 64 << 10,
    max_ratio: RatioOpt = 200,
    fmt: Annotated[TriageFormat, typer.Option("--format", "-f", help="Output format.")] = TriageFormat.table,
    engine: EngineOpt = Engine.auto,
    codes: CodesOpt = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the report.")] = Lang.en,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Files read in parallel (default: cores).")
    ] = None,
    quiet: QuietOpt = False,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    redact_hosts: RedactHostsOpt = False,
    scheduler: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--scheduler", help="Read and diagnose on a Dask cluster: tcp://HOST:PORT, or `local`."),
    ] = None,
    output: OutputOpt = None,
    archive_password: PasswordOpt = None,
    date_order: DateOrderOpt = None,
    input_tz: InputTzOpt = None,
) -> None:
    """Many servers at once (files, directories, archives of any kind): one row per server, worst first."""
    from analyzer.output import open_output
    from analyzer.pipeline import analyze
    from analyzer.progress import Progress
    from analyzer.reader import resolve_engine
    from analyzer.reports import renderer
    from analyzer.reports import triage as triage_report

    redactor = _redactor(redact, redact_key, redact_hosts)
    if scheduler:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise typer.BadParameter(
                "needs Dask: pip install 'writeback-analyzer[dask]'", param_hint="--scheduler"
            ) from None
    live = sys.stderr.isatty()
    analysis = analyze(
        paths,
        resolve_engine(engine.value),
        _catalogue(codes),
        _warn,
        jobs=jobs or _default_jobs(),
        progress=lambda total: Progress(total, live=live, quiet=quiet),
        scheduler=scheduler,
        limits=_limits(max_members, max_mb, max_ratio),
        options=_options(archive_password, date_order, input_tz),
    )
    command = _command(
        "triage",
        paths,
        format=fmt,
        codes=codes,
        lang=lang if lang is not Lang.en else None,
        redact=redact,
        redact_hosts=redact_hosts,
        date_order=date_order,
        input_tz=input_tz,
    )
    doc = triage_report.build(analysis.report(lang.value, command, details=fmt is TriageFormat.html))
    if redactor:
        doc = redactor.document(doc)
    with open_output(output) as out:
        out.write(renderer(fmt.value, triage=True)(doc, lang.value))
    _exit_for(analysis.inputs)


@app.command()
def timeline(
    paths: PathsArg,
    fmt: Annotated[TimelineFormat, typer.Option("--format", "-f", help="Output format.")] = TimelineFormat.table,
    engine: EngineOpt = Engine.auto,
    codes: CodesOpt = None,
    operations: Annotated[bool, typer.Option("--operations", help="One row per stitched operation.")] = False,
    since: Annotated[Optional[str], typer.Option(help="ISO time, or 24h/7d/30m before the newest event.")] = None,  # noqa: UP045
    until: Annotated[Optional[str], typer.Option(help="ISO time, or relative like --since.")] = None,  # noqa: UP045
    code: Annotated[Optional[str], typer.Option("--code", help="Event ids and ranges: 31001,32000-32015.")] = None,  # noqa: UP045
    level: Annotated[Optional[list[str]], typer.Option("--level", help="info, warning or error (repeatable).")] = None,  # noqa: UP045
    computer: Annotated[Optional[list[str]], typer.Option("--computer", help="Server name (repeatable).")] = None,  # noqa: UP045
    user: Annotated[Optional[list[str]], typer.Option("--user", help="Part of a user's UPN (repeatable).")] = None,  # noqa: UP045
    tracking_id: Annotated[list[str] | None, typer.Option("--tracking-id", help="A TrackingId (repeatable).")] = None,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    redact_hosts: RedactHostsOpt = False,
    output: OutputOpt = None,
    archive_password: PasswordOpt = None,
    date_order: DateOrderOpt = None,
    input_tz: InputTzOpt = None,
) -> None:
    """Writeback events in time order (time, server, code, name, level, user, tracking id, meaning)."""
    from analyzer.output import open_output
    from analyzer.pipeline import analyze
    from analyzer.reader import resolve_engine
    from analyzer.timeline import FilterError, Filters, event_rows, operation_rows, parse_codes, parse_when, render

    for value in level or []:
        if value not in ("info", "warning", "error"):
            raise typer.BadParameter(f"{value!r} is not info, warning or error", param_hint="--level")
    redactor = _redactor(redact, redact_key, redact_hosts)
    options = _options(archive_password, date_order, input_tz)
    analysis = analyze(paths, resolve_engine(engine.value), _catalogue(codes), _warn, everything=True, options=options)
    times = [span[1] for span in analysis.collector.coverage.values()]
    newest = max(times) if times else None
    try:
        filters = Filters(
            since=parse_when(since, newest) if since else None,
            until=parse_when(until, newest) if until else None,
            codes=parse_codes(code) if code else [],
            levels=set(level or []),
            computers={c.casefold() for c in computer or []},
            users=[u.casefold() for u in user or []],
            tracking_ids={t.casefold() for t in tracking_id or []},
        )
    except FilterError as exc:
        raise typer.BadParameter(str(exc)) from None
    if operations:
        rows = operation_rows(analysis.collector.diagnose(), filters)
    else:
        rows = event_rows(analysis.collector, filters)
    if redactor:
        rows = redactor.document(rows)
    with open_output(output) as out:
        out.write(render(rows, fmt.value))
    _exit_for(analysis.inputs)


class DiffFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    before: Annotated[Path, typer.Argument(help="A JSON report, or logs (file, directory or archive).")],
    after: Annotated[Path, typer.Argument(help="The same, after the fix.")],
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.table,
    engine: EngineOpt = Engine.auto,
    codes: CodesOpt = None,
    output: OutputOpt = None,
) -> None:
    """Compare two runs per server: status change, causes resolved/new/persisting, failure-rate change."""
    import json

    from analyzer.diff import compare, render
    from analyzer.output import open_output
    from analyzer.pipeline import analyze
    from analyzer.reader import resolve_engine

    sides, problems = [], []
    for side in (before, after):
        if side.suffix.lower() == ".json" and side.is_file():
            try:
                sides.append(json.loads(side.read_text(encoding="utf-8")))
            except (ValueError, UnicodeDecodeError):
                raise AnalyzerError(f"{side}: not a JSON report") from None
            if not isinstance(sides[-1], dict) or "servers" not in sides[-1]:
                raise AnalyzerError(f"{side}: not a wba JSON report (no servers)")
        else:
            analysis = analyze([side], resolve_engine(engine.value), _catalogue(codes), _warn)
            problems += analysis.inputs
            sides.append(analysis.report())
    with open_output(output) as out:
        out.write(render(compare(sides[0], sides[1]), fmt.value))
    _exit_for(problems)


@app.command("codes")
def codes_command(
    code: Annotated[Optional[str], typer.Argument(help="An event id, HRESULT or entry id; or `check`.")] = None,  # noqa: UP045
    directory: Annotated[Optional[Path], typer.Argument(help="With `check`: the catalogue directory.")] = None,  # noqa: UP045
    search: Annotated[Optional[str], typer.Option("--search", help="Entries whose text mentions this.")] = None,  # noqa: UP045
    codes: CodesOpt = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of titles, causes and fixes.")] = Lang.en,
) -> None:
    """The code catalogue: list it, show one entry, search it, or `wba codes check DIR` to validate one."""
    from analyzer.catalogue import view
    from analyzer.catalogue.loader import CatalogueError, example_problems, load

    if code == "check":
        if directory is None:
            raise typer.BadParameter("give the catalogue directory to check", param_hint="DIR")
        # A whole catalogue (it has providers.yaml) is checked alone; anything else as an overlay.
        catalogue = load(directory, shipped=not (directory / "providers.yaml").is_file())
        problems = example_problems(catalogue)
        if problems:
            raise CatalogueError(problems)
        typer.echo(
            f"{directory}: valid, {len(catalogue.entries)} entries, {len(catalogue.signatures)} signatures, "
            f"{len(catalogue.causes)} causes, every example as expected"
        )
        return
    catalogue = _catalogue(codes)
    if code is not None:
        found = catalogue.find(code)
        if not found:
            raise typer.BadParameter(f"no catalogue entry for {code!r}", param_hint="CODE")
        typer.echo("\n\n".join(view.entry(e, catalogue, lang.value) for e in found))
        return
    entries = catalogue.search(search) if search else catalogue.all_entries()
    typer.echo(view.listing(entries, lang.value))


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and turns every outcome into an exit code."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="wba", standalone_mode=False)
    except (typer.Exit, click.exceptions.Exit) as exc:
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort, click.exceptions.Abort):
        sys.stderr.write("interrupted\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): stop quietly
        return ExitStatus.OK
    except AnalyzerError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return ExitStatus.ERROR
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # Click's (or Typer's vendored Click's) usage errors
            exc.show()
            return int(exc.exit_code)
        if _state["debug"]:
            traceback.print_exc()
        else:
            sys.stderr.write(f"error: internal error ({type(exc).__name__}); run with --debug for a traceback\n")
        return ExitStatus.ERROR
    return code if isinstance(code, int) else ExitStatus.OK


def run() -> None:
    sys.exit(main())
