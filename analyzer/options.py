"""The options the commands share, declared once (as sqlite-utils' `output_options`).

`@shared(...)` adds the chosen groups of options to a command and hands it one `Options` value:
reading (engine, archive caps, progress, parallel jobs), output (format, `-o`, `--wide`) and
analysis (catalogue, language, redaction). Only the CLI uses this module: it reads the
environment and the terminal.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import click
import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from analyzer.catalogue.loader import Catalogue
    from analyzer.ingest.inputs import Limits
    from analyzer.ingest.inputs import Options as InputOptions
    from analyzer.reports.redact import Redactor
    from analyzer.run.progress import Progress

# Format names a user may type for another (any case is accepted too).
ALIASES = {"md": "markdown", "txt": "table", "text": "table", "htm": "html", "ndjson": "jsonl"}
# `-o NAME.SUFFIX` without `-f` picks the format its suffix names, when the command has it.
SUFFIXES = {".html": "html", ".htm": "html", ".json": "json", ".md": "markdown", ".csv": "csv", ".jsonl": "jsonl"}


class AnyCase(click.Choice):
    """A choice typed in any case, shown in help as declared (`zh-CN`)."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        super().__init__(choices, case_sensitive=False)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(self.choices) + "]"

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return f"{value!r} is not one of {', '.join(map(repr, self.choices))}."


class FormatChoice(AnyCase):
    """`-f`: the command's formats, in any case, and `md` for markdown."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip().casefold()
        return super().convert(ALIASES.get(text, text), param, ctx)


@dataclass
class Options:
    """Every shared option's value; a command reads the ones it declared."""

    engine: str = "auto"
    quiet: bool = False
    jobs: int | None = None
    max_members: int = 10_000
    max_mb: int = 64 << 10
    max_ratio: int = 200
    archive_password: str | None = None
    date_order: str | None = None
    input_tz: str | None = None
    timeout: float = 600.0
    fmt: str = "table"
    output: Path | None = None
    wide: bool = False
    codes: Path | None = None
    lang: str = "en"
    redact: bool = False
    redact_key: str | None = None
    redact_hosts: bool = False

    @property
    def limits(self) -> Limits:
        from analyzer.ingest.inputs import Limits

        return Limits(max_members=self.max_members, max_total_bytes=self.max_mb << 20, max_ratio=self.max_ratio)

    def reading(self) -> InputOptions:
        """How inputs are read: the archive password, and the date order and zone of local times
        in exports (a zone that does not exist is a usage error)."""
        from analyzer.ingest.exports.common import Clock, zone_of
        from analyzer.ingest.inputs import Options as InputOptions

        if self.input_tz is not None:
            try:
                zone_of(self.input_tz)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--input-tz") from None
        return InputOptions(self.archive_password or None, Clock(self.date_order, self.input_tz))

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1

    @property
    def to_file(self) -> bool:
        return self.output is not None and str(self.output) != "-"

    @property
    def width(self) -> int | None:
        """The width tables fit: `COLUMNS`, else the terminal's; None (every column) with `--wide`
        or when the output is a file or a pipe."""
        if self.wide or self.to_file:
            return None
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return int(columns)
        try:
            return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
        except (OSError, ValueError):
            return None

    def catalogue(self) -> Catalogue:
        """The shipped catalogue, with `--codes` laid over it."""
        from analyzer.catalogue.loader import load

        return load(self.codes)

    def command_line(self, name: str, paths: list[Path]) -> str:
        """The command line that reproduces the content (no engine, jobs, output path or key: they
        do not change it)."""
        words = ["wba", name, *(str(p) for p in paths), "--format", self.fmt]
        if self.codes:
            words += ["--codes", str(self.codes)]
        if self.lang != "en":
            words += ["--lang", self.lang]
        if self.date_order:
            words += ["--date-order", self.date_order]
        if self.input_tz:
            words += ["--input-tz", self.input_tz]
        words += [flag for flag, on in (("--redact", self.redact), ("--redact-hosts", self.redact_hosts)) if on]
        return " ".join(words)

    def redactor(self, warn: Callable[[str], None]) -> Redactor | None:
        """The redactor `--redact` asks for; a random key is told through `warn`."""
        from analyzer.reports.redact import Redactor, new_key

        if not self.redact:
            if self.redact_key or self.redact_hosts:
                raise typer.BadParameter("needs --redact", param_hint="--redact-key/--redact-hosts")
            return None
        key = self.redact_key
        if key is not None and not key.strip():
            raise typer.BadParameter("an empty key gives pseudonyms anyone can recompute", param_hint="--redact-key")
        if key is None:
            key = new_key()
            warn(f"redaction key: {key} (give it as --redact-key to get the same pseudonyms again)")
        return Redactor(key, hosts=self.redact_hosts)

    def progress(self, summary: bool = False) -> Callable[[int], Progress]:
        """A progress line on stderr when it is a terminal (and `--quiet` is not given); with
        `summary`, a one-line summary at the end."""
        from analyzer.run.progress import Progress

        live = sys.stderr.isatty()
        return lambda total: Progress(total, live=live, quiet=self.quiet, summary=summary)


_DEFAULTS = Options()


def _option(kind: Any, *names: str, help: str, **extra: Any) -> Any:
    return Annotated[kind, typer.Option(*names, help=help, **extra)]


# Each shared option once: (parameter name, annotation). Defaults come from `Options`.
READING = {
    "engine": _option(
        str,
        "--engine",
        help="Parser: rust (pyevtx-rs), python (pure Python); auto = rust if installed.",
        click_type=AnyCase(("auto", "rust", "python")),
    ),
    "max_members": _option(int, "--max-archive-members", min=1, help="Archive members allowed."),
    "max_mb": _option(int, "--max-archive-mb", min=1, help="Unpacked size allowed per archive (MB)."),
    "max_ratio": _option(int, "--max-ratio", min=1, help="Compression ratio allowed for a member."),
    "archive_password": _option(
        Optional[str],  # noqa: UP045
        "--archive-password",
        envvar="WBA_ARCHIVE_PASSWORD",
        help="Password of encrypted archives (zip, 7z).",
    ),
    "date_order": _option(
        Optional[str],  # noqa: UP045
        "--date-order",
        click_type=AnyCase(("dmy", "mdy")),
        help="Day/month order of local dates in exports, when their values do not tell.",
    ),
    "input_tz": _option(
        Optional[str],  # noqa: UP045
        "--input-tz",
        help="Time zone of local times in exports (Europe/Berlin, +02:00): converted to UTC.",
    ),
    "timeout": _option(float, "--timeout", min=1, help="Seconds one input may take to read before it is stopped."),
    "quiet": _option(bool, "--quiet", "-q", help="No progress line (nor summary) on stderr."),
}
PARALLEL = {
    "jobs": _option(
        Optional[int],  # noqa: UP045
        "--jobs",
        "-j",
        min=1,
        max=256,
        help="Files read in parallel (default: cores).",
    ),
}
OUTPUT = {
    "output": _option(
        Optional[Path],  # noqa: UP045
        "--output",
        "-o",
        help="Write here instead of stdout (`-`: stdout); its suffix (.html, .json, .md, .csv) picks -f.",
    ),
    "wide": _option(bool, "--wide", help="Every column, whole, however narrow the terminal."),
}
CODES = {
    "codes": _option(
        Optional[Path],  # noqa: UP045
        "--codes",
        help="A catalogue directory (laid out like codes/) that adds or overrides entries.",
    ),
}
LANG = {
    "lang": _option(
        str,
        "--lang",
        help="Language of the report.",
        click_type=AnyCase(("en", "zh-CN")),
    ),
}
REDACT = {
    "redact": _option(bool, "--redact", help="Replace users, DNs and anchors with stable pseudonyms."),
    "redact_key": _option(
        Optional[str],  # noqa: UP045
        "--redact-key",
        help="Key for the pseudonyms (same key, same pseudonyms); random if not given.",
    ),
    "redact_hosts": _option(
        bool, "--redact-hosts", help="With --redact: also computer names and Service Bus namespaces."
    ),
}


def _format(formats: tuple[str, ...]) -> dict[str, Any]:
    return {
        "fmt": _option(
            Optional[str],  # noqa: UP045
            "--format",
            "-f",
            help=f"Output format (default: {formats[0]}, or what the suffix of -o names).",
            click_type=FormatChoice(formats),
            show_default=False,
        )
    }


def check_scheduler(address: str | None) -> str | None:
    """`local`, or a reachable `tcp://HOST:PORT` (or `tls://`): a usage error when malformed, an
    error when nothing answers there; checked before any input is read."""
    import socket
    from urllib.parse import urlsplit

    from analyzer.errors import AnalyzerError

    if address is None or address.strip().casefold() == "local":
        return None if address is None else "local"
    try:
        parts = urlsplit(address)
        scheme, host, port, path = parts.scheme, parts.hostname, parts.port, parts.path
    except ValueError:
        scheme = host = port = path = None
    if scheme not in ("tcp", "tls") or not host or not port or path not in ("", "/"):
        raise typer.BadParameter(f"{address!r}: give `local` or tcp://HOST:PORT", param_hint="--scheduler")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise typer.BadParameter(
            "needs Dask: pip install 'writeback-analyzer[dask]'", param_hint="--scheduler"
        ) from None
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise AnalyzerError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None
    return address


def resolve_format(options: Options, formats: tuple[str, ...]) -> str:
    """`-f` as given; else the format the `-o` suffix names (`report.html` -> html); else the first."""
    if options.fmt is not None:
        return options.fmt
    if options.to_file and options.output is not None:
        implied = SUFFIXES.get(options.output.suffix.lower())
        if implied in formats:
            return implied
    return formats[0]


def shared(
    formats: tuple[str, ...] = (),
    reading: bool = True,
    parallel: bool = False,
    codes: bool = False,
    lang: bool = False,
    redact: bool = False,
    output: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared options it asks for; it receives them as `options: Options`."""
    chosen: dict[str, Any] = {}
    for wanted, group in (
        (bool(formats), _format(formats) if formats else {}),
        (output, OUTPUT),
        (reading, READING),
        (parallel, PARALLEL),
        (codes, CODES),
        (lang, LANG),
        (redact, REDACT),
    ):
        if wanted:
            chosen.update(group)

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "options"]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=getattr(_DEFAULTS, name))
            for name, kind in chosen.items()
        ]
        if "fmt" in chosen:
            added[0] = added[0].replace(default=None)

        @functools.wraps(command)
        def wrapper(**values: Any) -> Any:
            given = {name: values.pop(name) for name in chosen}
            options = Options(**given)
            if formats:
                options.fmt = resolve_format(options, formats)
            if reading:
                options.reading()  # a bad --input-tz stops the run before anything is read
            if options.to_file and options.fmt != "parquet" and options.output is not None:
                from analyzer.reports.destination import check

                check(options.output)  # before anything is read
            return command(**values, options=options)

        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {}
        return wrapper

    return decorate
