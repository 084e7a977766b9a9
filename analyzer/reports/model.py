"""The documents wba renders, as typed values: the report, the triage (a report with its fleet), the
explanation of pasted events and the comparison of two reports. Every renderer reads these; the
JSON output is written from them, and a JSON report loads back into them (`reports/json.py`).

These classes are the JSON contract (`schema_version` 1): each field is a key, in the order written
here, and its `doc` says what it holds (docs/report-contract.md shows them as tables; a test keeps
it current). Keys may be added; a key is never renamed or given another meaning without a new
`schema_version`.

Times are text: ISO 8601 UTC with microseconds and `Z` (`2026-11-18T00:00:08.385311Z`), or without
the `Z` when they are an export's local times with no zone known (see `Input.times`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NewType

from analyzer.catalogue.model import OPERATIONS, SCOPES, SEVERITIES
from analyzer.reports.json import Document, ReportFormatError, key

SCHEMA_VERSION = 1
STATUSES = ("failing", "degraded", "no-data", "healthy")  # Worst first, the order servers are listed in.
OUTCOMES = ("succeeded", "failed", "unfinished")
TIMES = ("utc", "local")
Time = NewType("Time", str)  # Times are text: see the module's docstring.


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Tool(Document):
    name: str = key("always `wba`")
    version: str = key("the version of wba that wrote the report")
    catalogue: str = key("the version of the event catalogue (codes/) used")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Span(Document):
    first_event: Time | None = key("the earliest event of any server")
    last_event: Time | None = key("the latest event of any server")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Input(Document):
    """One input: a file, an archive member or standard input."""

    path: str = key("as given (`archive!member` inside an archive)")
    kind: str = key(
        "what it was read as: `evtx`, `xml-export`, `csv-export`, ... (README: Inputs); `skipped`: not a log"
    )
    sha256: str | None = key("of the file; null when it could not be read")
    records: int = key("records read")
    unreadable: int = key("records that could not be read")
    error: str | None = key("why it was not read, or read only partly")
    note: str | None = key("facts about it that are not problems (what its format cannot carry, ...)")
    times: str = key("`local`: the export's wall-clock times, zone unknown, written without `Z`", one_of=TIMES)
    timezone: str | None = key("the zone local times were converted from (`--input-tz`)")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Cloud(Document):
    id: str = key("`global`, `china`, `usgov` (codes/clouds.yaml)")
    title: str = key("its name, in the report's language")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Counts(Document):
    """The operations of one kind."""

    started: int = key("operations seen (a start, or an outcome whose start is older than the log)")
    succeeded: int = key("operations that succeeded")
    failed: int = key("operations that failed")
    unfinished: int = key("operations with no outcome in the log")
    success_rate: float | None = key("succeeded / started, to three places; null when none started")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Cause(Document):
    """A root cause of one server, ranked by impact: failed or unfinished operations, then distinct
    users, then events."""

    id: str = key("the cause's id in the catalogue")
    title: str = key("its title, in the report's language")
    severity: str = key("from the catalogue", one_of=SEVERITIES)
    category: str = key("from the catalogue (connectivity, permissions, ...)")
    scope: str = key("`server`: breaks everyone's writeback; `user`: one user's", one_of=SCOPES)
    event_ids: list[int] = key("the event ids that named it, ascending")
    events: int = key("events that named it")
    operations: int = key("failed or unfinished operations it caused")
    users: int = key("distinct users of those operations")
    first_seen: Time | None = key("when it was first seen")
    last_seen: Time | None = key("when it was last seen")
    tracking_ids: list[str] = key("up to three tracking ids of its operations or events")
    evidence: list[str] = key("what in the event texts named it (at most three, most frequent first)")
    explanation: str = key("what it means, in the report's language")
    fixes: list[str] = key("the steps to fix it, in order, naming the server's cloud and namespace")
    references: list[str] = key("Microsoft documentation, in the report's language")
    checklist: str | None = key("the item of Microsoft's prerequisites checklist it points at")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ServiceEvent(Document):
    time: Time = key("when")
    provider: str = key("the event's provider")
    event_id: int = key("the event's id")
    name: str = key("the catalogue's name for it (`WriteBackServiceStopped`, ...)")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Gap(Document):
    start: Time = key("the heartbeat before the gap")
    end: Time = key("the heartbeat after it")
    minutes: float = key("its length, to one place")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Outage(Document):
    """A time the service could not reach Service Bus."""

    start: Time = key("the first connectivity error")
    end: Time = key("the last connectivity error")
    events: int = key("connectivity errors")
    cause: str | None = key("the cause the errors name")
    cause_title: str | None = key("that cause's title")
    recovered: Time | None = key("the first sign of recovery; null: not by the end of the log")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Health(Document):
    service_events: list[ServiceEvent] = key("service starts and stops, in time order")
    heartbeats: int = key("heartbeats (31019)")
    last_heartbeat: Time | None = key("the last heartbeat")
    longest_heartbeat_gap: Gap | None = key("the longest time between two heartbeats")
    outages: list[Outage] = key("connectivity outages, in time order")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ChecklistItem(Document):
    item: str = key("the item's id (`permissions`, ...)")
    text: str = key("the item, in the report's language")
    causes: list[str] = key("the ids of the causes that point at it")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class NamespaceHost(Document):
    """A Service Bus host the server's events name (every one: a namespace may change mid-log)."""

    host: str = key("the host, lower case (`ns.servicebus.windows.net`)")
    first_seen: Time = key("the first event that names it")
    last_seen: Time = key("the last event that names it")
    events: int = key("events that name it: heartbeats, errors, service events")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Operation(Document):
    """One stitched operation."""

    start: Time = key("its start (or its first event, when the start is older than the log)")
    end: Time | None = key("its outcome; null when unfinished")
    kind: str = key("`reset` (31001), `change` (31006) or `admin_reset` (31009)", one_of=OPERATIONS)
    user: str | None = key("the user (UPN, or an anchor when no UPN is named)")
    outcome: str = key("how it ended", one_of=OUTCOMES)
    cause: str | None = key("the cause of a failed or unfinished operation")
    tracking_id: str | None = key("its tracking id")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Server(Document):
    """One server: the events' `Computer`, whatever the files are called."""

    computer: str = key("the server's name (exports without one: `(unknown computer: FILE)`)")
    status: str = key(
        "`failing`: writeback broken for everyone at the end of the log (a server-scope cause, three "
        "or more failed operations in a row of two or more users, or the service stopped or disconnected); "
        "`degraded`: failures or outages, working at the end; `healthy`; `no-data`: no writeback events",
        one_of=STATUSES,
    )
    first_event: Time | None = key("the log's coverage: its first event")
    last_event: Time | None = key("its last event")
    cloud: Cloud | None = key("the Azure cloud its events name; null when none does")
    incomplete: str | None = key("why its operation counts cannot be trusted (a filtered export)")
    operations: dict[str, Counts] = key("per kind: `reset`, `change`, `admin_reset`")
    causes: list[Cause] = key("root causes, most impact first")
    health: Health = key("service starts and stops, heartbeats, outages")
    checklist: list[ChecklistItem] = key("the prerequisites the evidence points at")
    client_versions: list[str] = key("the Entra Connect versions its events name")
    namespaces: list[str] = key("the Service Bus namespaces its events name, sorted")
    namespace_hosts: list[NamespaceHost] = key(
        "every Service Bus host its events name, with first and last seen, in order of first seen",
        default_factory=list,
    )
    last_success: Time | None = key("the end of its last successful operation")
    last_heartbeat: Time | None = key("its last heartbeat")
    logs: list[str] = key("the inputs that hold its events")
    operation_list: list[Operation] | None = key(
        "every operation in time order (JSON and HTML only: absent in the other formats)", omit_none=True, default=None
    )


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class UnknownEvent(Document):
    provider: str = key("a writeback provider")
    event_id: int = key("an event id the catalogue does not know")
    count: int = key("how many")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Report(Document):
    """`wba report -f json`: the same inputs give byte-identical JSON on every run and either engine."""

    KIND: ClassVar[str] = "report"
    schema_version: int = key("1")
    tool: Tool = key("the tool and catalogue that wrote it")
    command: str | None = key("the command line (paths as given)")
    span: Span = key("the time span of all servers")
    inputs: list[Input] = key("every input, in the order read")
    duplicate_events: int = key("events read twice (the same log exported twice) and counted once")
    servers: list[Server] = key("worst status first, then by name")
    unknown_events: list[UnknownEvent] = key("writeback events the catalogue does not know")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class FleetCause(Document):
    id: str = key("the cause's id")
    title: str = key("its title")
    severity: str = key("its severity", one_of=SEVERITIES)
    servers: int = key("servers it affects")
    operations: int = key("failed or unfinished operations it caused, on all servers")
    events: int = key("events that named it, on all servers")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Fleet(Document):
    causes: list[FleetCause] = key("ranked by servers affected, then operations, then events")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Triage(Report):
    """`wba triage -f json`: the report, and the fleet's causes."""

    KIND: ClassVar[str] = "triage"
    fleet: Fleet = key("the causes of all servers")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Entry(Document):
    id: str = key("the catalogue entry's id")
    name: str = key("the event's name (`ADPermissionsError`, ...)")
    title: str = key("its title, in the language asked for")
    meaning: str = key("what the event means")
    level: str = key("`info`, `warning` or `error`")
    documented: bool = key("whether Microsoft documents the event")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ExplainedCause(Document):
    id: str = key("the cause's id")
    title: str = key("its title")
    severity: str = key("its severity", one_of=SEVERITIES)
    scope: str = key("`server` or `user`", one_of=SCOPES)
    explanation: str = key("what it means")
    specific: bool = key("whether the text named it (else the event's default cause)")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Explained(Document):
    """One pasted event."""

    provider: str = key("its provider")
    event_id: int = key("its id")
    computer: str | None = key("its computer, when the paste names one")
    tracking_id: str | None = key("its tracking id")
    hresult: str | None = key("the HRESULT its text names")
    entry: Entry | None = key("the catalogue's entry; null when the catalogue does not know the event")
    cause: ExplainedCause | None = key("the cause the catalogue picks")
    evidence: str | None = key("what in the text picked it")
    fixes: list[str] = key("the steps to fix it, in order")
    references: list[str] = key("Microsoft documentation")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Explanation(Document):
    """`wba explain -f json`."""

    KIND: ClassVar[str] = "explain"
    events: list[Explained] = key("the pasted events, in the order pasted")
    unreadable: list[str] = key("what could not be read, and why")
    catalogue: str = key("the catalogue's version")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ServerChange(Document):
    server: str = key("the server's name")
    status_before: str | None = key("null: not in BEFORE", one_of=STATUSES)
    status_after: str | None = key("null: not in AFTER", one_of=STATUSES)
    failure_rate_before: float | None = key("(failed + unfinished) / started, before")
    failure_rate_after: float | None = key("the same, after")
    failure_rate_change: float | None = key("after - before")
    resolved: list[str] = key("causes before, not after")
    new: list[str] = key("causes after, not before")
    persisting: list[str] = key("causes before and after")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Diff(Document):
    """`wba diff -f json`: per server, what changed between two reports."""

    KIND: ClassVar[str] = "diff"
    schema_version: int = key("1")
    before: str | None = key("the command of the report before")
    after: str | None = key("the command of the report after")
    servers: list[ServerChange] = key("every server of either side, by name")


def load(value: Any) -> Report:
    """A report or triage from its parsed JSON: a triage when it has a `fleet`."""
    if not isinstance(value, dict):
        raise ReportFormatError("the document: not an object")
    if "schema_version" not in value:
        raise ReportFormatError("schema_version: missing")
    if value["schema_version"] != SCHEMA_VERSION:
        raise ReportFormatError(f"schema_version: not {SCHEMA_VERSION}")
    return (Triage if "fleet" in value else Report).from_json(value)


def contract() -> str:
    """docs/report-contract.md: every document's keys, from these classes."""
    from analyzer.reports.json import contract as described

    intro = (
        "# The JSON documents of wba\n\n"
        "Generated from `analyzer/reports/model.py` (`pytest tests/test_report.py --update-golden` rewrites it). "
        f"`schema_version` {SCHEMA_VERSION}: keys appear in the order listed; keys may be added, never renamed. "
        "A `time` is text: ISO 8601 UTC with microseconds and `Z`, or without the `Z` for an export's local times "
        "(`Input.times`)."
    )
    return described([Report, Triage, Explanation, Diff], intro)
