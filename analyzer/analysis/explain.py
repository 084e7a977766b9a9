"""`wba explain`: the events a customer pasted into a ticket, each with what it means, the cause the
catalogue picks (and what in the text picked it) and the fixes in order.

Three forms are read: Event Viewer's "Copy details as text" block (labels in any display language
the readers know, with or without its Event Xml), the XML of one or more events, and a bare message
text (with `code`, and `provider` when the code alone is ambiguous; without a code, the entry whose
name or patterns the text shows, if exactly one does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.analysis.textfields import extract
from analyzer.catalogue.catalogue import localized
from analyzer.errors import AnalyzerError, RecordError
from analyzer.events import Event
from analyzer.reports import model as m
from analyzer.sentences import DEFAULT_CAUSE

if TYPE_CHECKING:
    from analyzer.catalogue.loader import Catalogue
    from analyzer.catalogue.model import Entry

PASTED = "(pasted)"
_EVENT_XML = re.compile(r"<Event[\s>].*?</Event>", re.DOTALL)


class NothingRecognized(AnalyzerError):
    """A text in which the catalogue recognizes no event."""


@dataclass
class Pasted:
    """What was read from the paste: events, and records that could not be read (with why)."""

    events: list[Event]
    problems: list[str]


def read(text: str, catalogue: Catalogue, code: int | None = None, provider: str | None = None) -> Pasted:
    """The events in a pasted text, in the order pasted."""
    from analyzer.ingest.exports import text_export
    from analyzer.ingest.exports.common import Clock

    found: list[Event] = []
    problems: list[str] = []
    if code is None and text_export.contains_details(text):
        # The date does not matter here: when the blocks cannot tell day/month order, either will do.
        tries = [list(text_export.parse_details(text, PASTED, Clock(order=o))) for o in (None, "mdy", "dmy")]
        for item in min(tries, key=lambda items: sum(isinstance(i, RecordError) for i in items)):
            if isinstance(item, RecordError):
                problems.append(str(item))
            else:
                found.append(item)
    elif code is None and "<Event" in text:
        for xml in _EVENT_XML.findall(text):
            try:
                found.append(text_export.event_from_xml(xml, PASTED))
            except RecordError as exc:
                problems.append(str(exc))
    else:
        entry = _entry_of(text, catalogue, code, provider)
        found.append(_bare(text, entry))
    return Pasted(found, problems)


def _entry_of(text: str, catalogue: Catalogue, code: int | None, provider: str | None) -> Entry:
    """The entry a bare message belongs to: by code (and provider), or the one entry it shows."""
    events = [e for e in catalogue.all_entries() if not e.is_signature]
    if code is not None:
        matches = [e for e in events if e.event_id == code and (provider is None or _same(e.provider, provider))]
        if not matches:
            raise NothingRecognized(
                f"{PASTED}: no catalogue entry for event {code}" + (f" of {provider}" if provider else "")
            )
        if len(matches) > 1:
            names = ", ".join(sorted(e.provider or "" for e in matches))
            raise NothingRecognized(f"{PASTED}: event {code} exists for {names}: give --provider")
        return matches[0]
    shown = [e for e in events if e.recognizes(text)]
    if len(shown) != 1:
        why = "no event of the catalogue" if not shown else f"{len(shown)} events of the catalogue"
        raise NothingRecognized(f"{PASTED}: the text shows {why}: give its event id with --code")
    return shown[0]


def _same(a: str | None, b: str) -> bool:
    return (a or "").casefold().replace(" ", "") == b.casefold().replace(" ", "")


def _bare(text: str, entry: Entry) -> Event:
    from datetime import UTC, datetime

    level = {"info": 4, "warning": 3, "error": 2}[entry.level]
    moment = datetime(1970, 1, 1, tzinfo=UTC)  # A bare message has no time; explain shows none.
    return Event(
        PASTED, None, moment, entry.provider or "", entry.event_id or 0, None, level, None, None, None, None, [text], {}
    )


def explain(pasted: Pasted, catalogue: Catalogue, lang: str = "en") -> m.Explanation:
    """What every format renders: one item per event, plus what could not be read."""
    items = []
    for event in pasted.events:
        entry = catalogue.entry_for(event.provider, event.event_id)
        text = "\n".join(event.data)
        fields = extract(text)
        item = m.Explained(
            provider=event.provider,
            event_id=event.event_id,
            computer=event.computer,
            tracking_id=fields.tracking_id,
            hresult=fields.hresult,
            entry=None,
            cause=None,
            evidence=None,
            fixes=[],
            references=[],
        )
        if entry is not None:
            item.entry = m.Entry(
                id=entry.id,
                name=entry.name,
                title=entry.title.get(lang),
                meaning=entry.meaning.get(lang),
                level=entry.level,
                documented=entry.documented,
            )
            item.references = [localized(r, lang) for r in entry.references]
            cause_id, specific, found = catalogue.explain(entry, text)
            cause = catalogue.causes.get(cause_id or "")
            if cause is not None:
                cloud = catalogue.cloud_of(fields.cloud_host)
                item.cause = m.ExplainedCause(
                    id=cause.id,
                    title=cause.title.get(lang),
                    severity=cause.severity,
                    scope=cause.scope,
                    explanation=cause.explanation.get(lang),
                    specific=specific,
                )
                default = DEFAULT_CAUSE.say(provider=entry.provider, event_id=entry.event_id)
                item.evidence = found.describe() if found else default
                item.fixes = [catalogue.fill(f.get(lang), cloud, fields.servicebus_host, lang) for f in cause.fixes]
                item.references = [localized(r, lang) for r in dict.fromkeys([*cause.references, *entry.references])]
        items.append(item)
    return m.Explanation(events=items, unreadable=pasted.problems, catalogue=catalogue.version)


def recognized(doc: m.Explanation) -> bool:
    """Whether every pasted event is one the catalogue knows (and something was pasted)."""
    return bool(doc.events) and all(item.entry is not None for item in doc.events)
