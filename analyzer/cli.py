"""The `wba` command line: options, wiring, and errors -> exit codes. The work happens elsewhere.

Each command parses its options (the shared ones are declared once in `analyzer.options`), calls
one library function, renders and exits.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from analyzer import __version__
from analyzer.errors import AnalyzerError
from analyzer.exitcodes import ExitStatus
from analyzer.options import AnyCase, Options, check_scheduler, shared
from analyzer.reports.textsafe import clean

if TYPE_CHECKING:
    from collections.abc import Iterator

    from analyzer.events import Event
    from analyzer.ingest.read import FileReport
    from analyzer.run.pipeline import Analysis

# Plain Click help (no Rich panels): Typer escapes `[` for Rich even when Rich markup is off, and
# importing Rich costs start-up time. tests/test_cli.py checks the help text.
typer.core.HAS_RICH = False

app = typer.Typer(
    help="Diagnose password writeback from exported Entra Connect event logs (.evtx).",
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_state: dict[str, bool | int] = {"debug": False}

REPORT_FORMATS = ("table", "markdown", "json", "html")
TIMELINE_FORMATS = ("table", "markdown", "json", "csv", "jsonl")
DIFF_FORMATS = ("table", "markdown", "json")
EVENT_FORMATS = ("table", "jsonl", "csv", "parquet")
FILE_FORMATS = ("table", "json", "csv")
EXPLAIN_FORMATS = ("table", "markdown", "json")
CODES_FORMATS = ("table", "json")

PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Logs, exports, archives or directories (searched recursively); - for stdin.",
        exists=True,
        allow_dash=True,
        metavar="PATH...",
        show_default=False,
    ),
]


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
    from analyzer.run.progress import clear

    clear()
    typer.echo(clean(line), err=True)


def _say_local_times(reports: list[FileReport]) -> None:
    """A line per input whose times are an export's local wall clock (the listings show them
    without `Z`; reports say it in their banner)."""
    for r in reports:
        if r.times == "local":
            _warn(
                f"note: {r.path}: times are the exporting machine's local time, time zone unknown, "
                "not UTC (give --input-tz to convert them)"
            )


def _exit_for(reports: list[FileReport]) -> None:
    if any(r.status != "ok" for r in reports):
        raise typer.Exit(ExitStatus.INPUT_PROBLEMS)


def _analyze(paths: list[Path], options: Options, **extra: object) -> Analysis:
    from analyzer.ingest.read import resolve_engine
    from analyzer.run.pipeline import analyze

    return analyze(
        paths,
        resolve_engine(options.engine),
        options.catalogue(),
        _warn,
        jobs=options.workers,
        limits=options.limits,
        options=options.reading(),
        progress=options.progress(summary=bool(extra.pop("summary", False))),
        timeout=options.timeout,
        **extra,  # type: ignore[arg-type]
    )


def _read_all(
    paths: list[Path], options: Options, reports: list[FileReport], streamed: bool = False
) -> Iterator[Event]:
    """Events of every input; a progress line on a terminal, unless the output streams onto it."""
    from analyzer.ingest.read import resolve_engine
    from analyzer.run.stream import read_inputs

    engine = resolve_engine(options.engine)
    events = read_inputs(paths, engine, reports, _warn, options.limits, options.reading(), options.timeout)
    meter = options.progress()(0)
    if not meter.live or (streamed and not options.to_file and sys.stdout.isatty()):
        return events
    return meter.follow(events, reports)  # type: ignore[return-value]


def _write(text: str, options: Options) -> None:
    from analyzer.reports.destination import open_output

    with open_output(options.output) as out:
        out.write(text)


@app.command(options_metavar="[-f table|jsonl|csv|parquet] [-o FILE|DIR] [--sort file|time] [OPTIONS]")
@shared(formats=EVENT_FORMATS, parallel=True)
def events(
    paths: PathsArg,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="file: inputs in path order, records in file order; time: by (time, file, record id).",
            click_type=AnyCase(("file", "time")),
        ),
    ] = "file",
    *,
    options: Options,
) -> None:
    """Every record of every input as a normalized event.

    \b
    Example:
      wba events Application.evtx -f jsonl -o events.jsonl
    """
    from contextlib import nullcontext

    from analyzer.ingest.read import resolve_engine
    from analyzer.reports.destination import open_output
    from analyzer.run.export import export, export_by_time

    if options.fmt == "parquet":
        if not options.to_file or options.output is None:
            raise typer.BadParameter("parquet needs a directory: -o DIR", param_hint="--format")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise typer.BadParameter("needs pyarrow: pip install 'writeback-analyzer[parquet]'") from None
    reports: list[FileReport] = []
    if sort.casefold() == "time":
        export_by_time(_read_all(paths, options, reports), reports, options.fmt, options.output, options.width)
        _say_local_times(reports)
        _exit_for(reports)
        return
    # In file order: read and serialized by the workers, written here as they finish.
    onto_terminal = not options.to_file and sys.stdout.isatty()
    with nullcontext(options.output) if options.fmt == "parquet" else open_output(options.output) as out:
        export(
            paths,
            resolve_engine(options.engine),
            options.fmt,
            out,  # type: ignore[arg-type]
            reports,
            _warn,
            jobs=options.workers,
            width=options.width,
            limits=options.limits,
            options=options.reading(),
            timeout=options.timeout,
            progress=None if onto_terminal else options.progress(),
        )
    _say_local_times(reports)
    _exit_for(reports)


@app.command(options_metavar="[-f table|json|csv] [-o FILE] [OPTIONS]")
@shared(formats=FILE_FORMATS)
def files(paths: PathsArg, *, options: Options) -> None:
    """One row per input: chunks, records read and unreadable, time span, computers, providers.

    \b
    Example:
      wba files bundle.zip -f csv -o files.csv
    """
    from analyzer.reports.destination import open_output
    from analyzer.reports.listing import write_files

    reports: list[FileReport] = []
    for _ in _read_all(paths, options, reports):
        pass
    with open_output(options.output) as out:
        write_files(reports, options.fmt, out, options.width)
    _say_local_times(reports)
    _exit_for(reports)


@app.command(options_metavar="[-f table|markdown|json|html] [-o FILE] [--lang en|zh-CN] [--redact] [OPTIONS]")
@shared(formats=REPORT_FORMATS, parallel=True, codes=True, lang=True, redact=True)
def report(paths: PathsArg, *, options: Options) -> None:
    """Per server: coverage, operations, root causes ranked by impact with fixes, service health, status.

    \b
    Example:
      wba report Application.evtx -o report.html
    """
    from analyzer.reports import render

    redactor = options.redactor(_warn)
    analysis = _analyze(paths, options)
    doc = analysis.report(options.lang, options.command_line("report", paths), details=options.fmt in ("html", "json"))
    if redactor:
        doc = redactor.model(doc)
    _write(render(doc, options.fmt, options.lang, options.width), options)
    _exit_for(analysis.inputs)


@app.command(
    options_metavar="[-f table|markdown|json|html] [-o FILE] [--jobs N] [--quiet] [--redact] [--lang en|zh-CN] "
    "[OPTIONS]"
)
@shared(formats=REPORT_FORMATS, parallel=True, codes=True, lang=True, redact=True)
def triage(
    paths: PathsArg,
    scheduler: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--scheduler", help="Read and diagnose on a Dask cluster: tcp://HOST:PORT, or `local`."),
    ] = None,
    *,
    options: Options,
) -> None:
    """Many servers at once (files, directories, archives): one row per server, worst first.

    \b
    Example:
      wba triage bundle.zip -f html -o triage.html
    """
    from analyzer.reports import document, render

    redactor = options.redactor(_warn)
    analysis = _analyze(paths, options, scheduler=check_scheduler(scheduler), summary=True)
    command = options.command_line("triage", paths)
    doc = document.triage(analysis.report(options.lang, command, details=options.fmt in ("html", "json")))
    if redactor:
        doc = redactor.model(doc)
    _write(render(doc, options.fmt, options.lang, options.width), options)
    _exit_for(analysis.inputs)


@app.command(
    options_metavar="[--operations] [--all] [--since T] [--until T] [--code 31001,32000-32015] [--level error] "
    "[--computer NAME] [--user UPN-PART] [--tracking-id ID] [-f table|markdown|json|csv|jsonl] [OPTIONS]"
)
@shared(formats=TIMELINE_FORMATS, parallel=True, codes=True, redact=True)
def timeline(
    paths: PathsArg,
    operations: Annotated[bool, typer.Option("--operations", help="One row per stitched operation.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Also heartbeats (31019) and pings, hidden otherwise.")
    ] = False,
    since: Annotated[Optional[str], typer.Option(help="ISO time, or 24h/7d/30m before the newest event.")] = None,  # noqa: UP045
    until: Annotated[Optional[str], typer.Option(help="ISO time, or relative like --since.")] = None,  # noqa: UP045
    code: Annotated[Optional[str], typer.Option("--code", help="Event ids and ranges: 31001,32000-32015.")] = None,  # noqa: UP045
    level: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--level",
            help="info, warning or error (repeatable).",
            click_type=AnyCase(("info", "warning", "error")),
        ),
    ] = None,
    computer: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--computer", help="Server name, in any case, or its short name (repeatable)."),
    ] = None,
    user: Annotated[Optional[list[str]], typer.Option("--user", help="Part of a user's UPN (repeatable).")] = None,  # noqa: UP045
    tracking_id: Annotated[list[str] | None, typer.Option("--tracking-id", help="A TrackingId (repeatable).")] = None,
    *,
    options: Options,
) -> None:
    """Writeback events in time order (time, server, code, name, level, user, tracking id, meaning).

    \b
    Example:
      wba timeline logs/ --since 24h --level error --computer aadc01
    """
    from analyzer.analysis.timeline import FilterError, Filters, check_options, event_rows, operation_rows
    from analyzer.reports.listing import timeline_text

    try:
        codes = check_options(code, since, until)  # before anything is read
    except FilterError as exc:
        raise typer.BadParameter(str(exc), param_hint=exc.option) from None
    redactor = options.redactor(_warn)
    # Every catalogued code; heartbeats kept compact unless --all lists them (as report keeps them).
    analysis = _analyze(paths, options, everything=True, compact=not everything)
    try:
        filters = Filters.build(
            analysis.collector,
            since=since,
            until=until,
            codes=codes,
            levels={v.casefold() for v in level or []},
            computers=computer or [],
            users=user or [],
            tracking_ids=tracking_id or [],
            routine=everything,
        )
    except FilterError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since/--until") from None
    local = {r.path for r in analysis.inputs if r.times == "local"}
    if operations:
        rows = operation_rows(analysis.collector.diagnose(), filters, local)
    else:
        rows = event_rows(analysis.collector, filters, local)
    if not rows:
        _warn(f"no {'operations' if operations else 'events'} match; {filters.describe(analysis.collector)}")
    if redactor:
        rows = redactor.document(rows)
    _write(timeline_text(rows, options.fmt, options.width, local=bool(local)), options)
    _say_local_times(analysis.inputs)
    _exit_for(analysis.inputs)


SideArg = Annotated[
    Path, typer.Argument(help="A JSON report, or logs (file, directory or archive).", exists=True, show_default=False)
]


@app.command(options_metavar="[-f table|markdown|json] [-o FILE] [OPTIONS]")
@shared(formats=DIFF_FORMATS, parallel=True, codes=True)
def diff(
    before: SideArg,
    after: Annotated[Path, typer.Argument(help="The same, after the fix.", exists=True, show_default=False)],
    *,
    options: Options,
) -> None:
    """Compare two runs per server: status change, causes resolved/new/persisting, failure-rate change.

    \b
    Example:
      wba diff before.json after-fix/
    """
    from analyzer.analysis.diff import NotAReport, compare, load_report
    from analyzer.reports import render

    sides, problems = [], []
    for name, side in (("BEFORE", before), ("AFTER", after)):
        try:
            found = load_report(side)
        except NotAReport as exc:
            raise typer.BadParameter(str(exc), param_hint=name) from None
        if found is None:
            analysis = _analyze([side], options)
            problems += analysis.inputs
            if not any(r.events for r in analysis.inputs):
                raise typer.BadParameter(f"{side}: neither a wba JSON report nor readable logs", param_hint=name)
            found = analysis.report()
        sides.append(found)
    _write(render(compare(sides[0], sides[1]), options.fmt, options.lang, options.width), options)
    _exit_for(problems)


@app.command(options_metavar="[-f table|markdown|json] [--code ID] [--provider NAME] [--lang en|zh-CN] [OPTIONS]")
@shared(formats=EXPLAIN_FORMATS, reading=False, codes=True, lang=True)
def explain(
    source: Annotated[
        str, typer.Argument(help="A file holding the pasted events, or - (the default) for standard input.")
    ] = "-",
    code: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--code", min=0, help="The event id of a bare message text (no labels, no XML)."),
    ] = None,
    provider: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--provider", help="With --code, when the id exists for several sources (ADSync, ...)."),
    ] = None,
    *,
    options: Options,
) -> None:
    """What pasted events mean, the cause the catalogue picks (and the evidence that picked it), the fixes.

    Reads Event Viewer's "Copy details as text" blocks (labels in English, German, French, Spanish,
    Japanese, Chinese and more; with or without their Event Xml), the XML of events, or a bare
    message text with --code. Exits 1 when the catalogue knows none of the pasted events.

    \b
    Examples:
      wba explain ticket.txt
      wba explain --code 32002 < message.txt
    """
    from analyzer.analysis import explain as explaining
    from analyzer.ingest.sniff import decode_head
    from analyzer.reports import render

    if provider and code is None:
        raise typer.BadParameter("goes with --code", param_hint="--provider")
    raw = sys.stdin.buffer.read() if source == "-" else _pasted(Path(source))
    text = decode_head(raw)[1]
    catalogue = options.catalogue()
    doc = explaining.explain(explaining.read(text, catalogue, code, provider), catalogue, options.lang)
    _write(render(doc, options.fmt, options.lang, options.width), options)
    if not explaining.recognized(doc):
        unknown = [f"{i.provider} {i.event_id}" for i in doc.events if i.entry is None]
        what = f"not in the catalogue: {', '.join(unknown)}" if unknown else "no event could be read from the text"
        raise AnalyzerError(f"{source}: {what}")


def _pasted(path: Path) -> bytes:
    if not path.is_file():
        raise typer.BadParameter(f"{path}: no such file", param_hint="SOURCE")
    if path.stat().st_size > 16 << 20:
        raise AnalyzerError(f"{path}: over 16 MiB: not a pasted event (read logs and exports with wba report)")
    return path.read_bytes()


@app.command("codes", options_metavar="[-f table|json] [--search WORDS] [--lang en|zh-CN] [--codes DIR]")
@shared(formats=CODES_FORMATS, reading=False, output=False, codes=True, lang=True)
def codes_command(
    code: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="An event id, HRESULT, cause or entry id; or `check`.", show_default=False),
    ] = None,
    directory: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="With `check`: the catalogue directory.", metavar="[DIR]", show_default=False),
    ] = None,
    search: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--search", help="Entries whose text mentions all these words."),
    ] = None,
    *,
    options: Options,
) -> None:
    """The code catalogue: list it, show one entry, search it, or `wba codes check DIR` to validate one.

    \b
    Examples:
      wba codes 33004
      wba codes 0x80230626
      wba codes --search "access denied"
    """
    from analyzer.catalogue import view
    from analyzer.catalogue.loader import check

    if code == "check":
        if directory is None:
            raise typer.BadParameter("give the catalogue directory to check", param_hint="DIR")
        catalogue = check(directory)
        typer.echo(
            f"{directory}: valid, {len(catalogue.entries)} entries, {len(catalogue.signatures)} signatures, "
            f"{len(catalogue.causes)} causes, every example as expected"
        )
        return
    if directory is not None:
        raise typer.BadParameter("a second argument goes only with `check`", param_hint="DIR")
    catalogue = options.catalogue()
    if code is not None:
        found = catalogue.find(code)
        if not found:
            raise typer.BadParameter(f"no catalogue entry for {code!r}", param_hint="CODE")
        if options.fmt == "json":
            typer.echo(view.as_json(found, catalogue, options.lang), nl=False)
            return
        typer.echo("\n\n".join(view.entry(e, catalogue, options.lang) for e in found))
        return
    entries = catalogue.search(search) if search else catalogue.all_entries()
    if search and not entries:
        _warn(f"no catalogue entry mentions all of: {search}")
        return
    if options.fmt == "json":
        typer.echo(view.as_json(entries, catalogue, options.lang), nl=False)
        return
    typer.echo(view.listing(entries, options.lang))


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and turns every outcome into an exit code (`analyzer.process`)."""
    from analyzer.process import run_app

    return run_app(app, argv, debug=lambda: bool(_state["debug"]))


def run() -> None:
    sys.exit(main())
