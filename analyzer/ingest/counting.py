"""Records that are only counted: the rust engine's judgement of a batch of pyevtx-rs records, and
what is kept of the ones not parsed (`Coverage`: each computer's first and last time).

A record of a provider (or code) the diagnosis does not use is not parsed: it is counted, and its
computer and time noted. It is judged by a window of its start, as the XML pyevtx-rs prints for real
Windows events starts alike; a record is counted only when it is surely an event (a plain start with
a provider and an event id, a time where its first TimeCreated is, not zero), else it is parsed and
judged as every event is, so that records count the same whether a command parses them all or not.
"""

from __future__ import annotations

import re
from array import array
from html import unescape
from itertools import compress, repeat
from operator import add, getitem, itemgetter, not_, sub
from typing import TYPE_CHECKING, Any

from analyzer.errors import RecordError
from analyzer.ingest.normalize import canonical_time, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

_NUMBER_AND_XML = itemgetter("event_record_id", "data")
_XML = itemgetter("data")
_NUMBER = itemgetter("event_record_id")
# How pyevtx-rs starts every record of a real Windows log. Text after it is escaped XML, so a
# window of the record's start can be read without the rest of the record.
START = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="'
)
_KEY = itemgetter(slice(0, len(START) + 96))  # the start, provider name, and usually the event id
_HEAD = re.compile(
    re.escape(START) + r'([^"<&]+)"(?:[^>]*>(?:</Provider>)?<EventID(?: Qualifiers="\d*")?>(\d+)</EventID>)?'
)
_TIME, _TIME_AFTER = '<TimeCreated SystemTime="', '"></TimeCreated><EventRecordID>'
_STAMP = len("2026-09-10T00:00:09.017031Z")
_STAMPS = re.compile(  # times as pyevtx-rs prints them, one a line (ASCII digits: \d takes twice as long)
    r"(?:[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z\n)+"
)
_ZERO_STAMP = "1601-01-01T00:00:00.000000Z"


class Triage:
    """Decides which records of a batch are parsed, and accounts for the others.

    This runs for every record of every input, so the per-record work is done in C (`map`,
    `compress`, `str.find`): a record is judged by a window of its start (provider and event
    id, the same text for every record of that kind, so judged once), and a skipped record's
    time and computer are cut out at known places. A batch with any record of another shape
    is judged record by record, from its text.
    """

    def __init__(self, keep: Keep, coverage: Coverage) -> None:
        # Event ids compared as the text pyevtx-rs prints, to save an int() per record.
        self.wanted = {name: None if ids is None else frozenset(map(str, ids)) for name, ids in keep.items()}
        self.coverage = coverage
        self.verdicts: dict[str, bool | None] = {}  # record start -> parse it (None: can't tell)
        self.times: dict[str, int] = {}  # record start -> where its time was in the first such record

    def parse(self, batch: list[dict[str, Any]]) -> Iterator[tuple[int, str]]:
        """(number, XML) of the records to parse; the others are counted into coverage."""
        xmls = list(map(_XML, batch))
        keys = list(map(_KEY, xmls))
        verdicts = self.verdicts
        if len(verdicts) > 100_000:  # bound the memory on logs of very varied records
            verdicts.clear()
            self.times.clear()
        for key in set(keys).difference(verdicts):
            verdicts[key] = self._verdict(key)
            xml = xmls[keys.index(key)]
            at = xml.find(_TIME, len(START))
            # The time is where the first TimeCreated is (else: found record by record, below).
            self.times[key] = at if at == xml.find("<TimeCreated", len(START)) else len(xml)
        parse = list(map(verdicts.__getitem__, keys))
        skip = list(map(not_, parse))
        if None not in parse and self._count(batch, list(compress(xmls, skip)), list(compress(keys, skip)), skip):
            if True in parse:
                yield from map(_NUMBER_AND_XML, compress(batch, parse))
            return
        yield from self._one_by_one(batch)

    def _verdict(self, key: str) -> bool | None:
        """Parse records starting this way (True), count them only (False), or judge each (None:
        the start does not show a provider and a plain event id, which every event needs)."""
        head = _HEAD.match(key)
        if head is None or head[2] is None:
            return None
        ids = self.wanted.get(head[1], _NOT_KEPT)
        if ids is _NOT_KEPT or ids is None:
            return ids is None
        return head[2] in ids

    def _count(self, batch: list[dict[str, Any]], skipped: list[str], keys: list[str], skip: list[bool]) -> bool:
        """Note the skipped records' times and computers; False (nothing noted) if one has
        another shape."""
        if not skipped:
            return True
        at = list(map(self.times.__getitem__, keys))  # records of a kind have their time at one place
        if not all(map(str.startswith, skipped, repeat(_TIME), at)):
            at = list(map(str.find, skipped, repeat(_TIME), repeat(len(START))))
            if -1 in at or at != list(map(str.find, skipped, repeat("<TimeCreated"), repeat(len(START)))):
                return False
        starts = list(map(add, at, repeat(len(_TIME))))
        ends = list(map(add, starts, repeat(_STAMP)))  # as pyevtx-rs prints times
        alike = all(map(str.startswith, skipped, repeat(_TIME_AFTER), ends))
        if not alike:
            ends = list(map(str.find, skipped, repeat('"'), starts))
            if not all(map(str.startswith, skipped, repeat(_TIME_AFTER), ends)):
                return False
        stamps = list(map(getitem, skipped, map(slice, starts, ends)))
        try:
            if not alike and len(set(map(sub, ends, starts))) > 1:  # not all printed alike: compare them as times
                stamps = list(map(canonical_time, stamps))
            else:  # each a time (a zero time is damage: the record is judged on its own)
                printed = "\n".join(stamps) + "\n"
                if not _STAMPS.fullmatch(printed) or _ZERO_STAMP in printed:
                    return False
            extremes = {stamp: canonical_time(stamp) for stamp in (min(stamps), max(stamps))}
        except RecordError:
            return False
        at = skipped[0].find("<Computer>", ends[0]) + 10
        first = skipped[0][at : skipped[0].find("<", at)]
        if -1 in map(str.find, skipped, repeat(f"<Computer>{first}</Computer>"), ends):
            at = list(map(str.find, skipped, repeat("<Computer>"), ends))
            if -1 in at:
                return False
            starts = list(map(add, at, repeat(10)))
            computers = list(map(getitem, skipped, map(slice, starts, map(str.find, skipped, repeat("<"), starts))))
            for computer in set(computers):
                mine = [stamp for stamp, name in zip(stamps, computers, strict=True) if name == computer]
                self.coverage.span(computer, canonical_time(min(mine)), canonical_time(max(mine)))
        else:
            self.coverage.span(first, extremes[min(stamps)], extremes[max(stamps)])
        self.coverage.skipped.extend(compress(map(_NUMBER, batch), skip))
        return True

    def _one_by_one(self, batch: list[dict[str, Any]]) -> Iterator[tuple[int, str]]:
        """Each record judged on its own: counted only if it is surely an event of another
        provider (a plain start, an event id, a time where the first TimeCreated is); else parsed."""
        wanted, note = self.wanted, self.coverage.note
        for record in batch:
            xml = record["data"]
            head = _HEAD.match(xml)
            stamp = None
            if head is not None and head[2] is not None:
                ids = wanted.get(head[1], _NOT_KEPT)
                at = xml.find("<TimeCreated", len(START))
                if (ids is _NOT_KEPT or (ids is not None and head[2] not in ids)) and xml.startswith(_TIME, at):
                    at += len(_TIME)
                    try:
                        stamp = canonical_time(xml[at : xml.find('"', at)])
                    except RecordError:
                        stamp = None
            if stamp is None:
                yield record["event_record_id"], xml
                continue
            at = xml.find("<Computer>")
            note(xml[at + 10 : xml.find("<", at + 10)] if at >= 0 else "", stamp, record["event_record_id"])


_NOT_KEPT = object()
Keep = dict[str, "frozenset[int] | None"]


class Coverage:
    """What the reader learns from records it does not parse: first and last TimeCreated per
    computer (ISO strings compare in time order; converted once at the end) and their numbers."""

    def __init__(self) -> None:
        self.spans: dict[str, list[str]] = {}
        self.skipped = array("Q")

    def note(self, computer: str, stamp: str, number: int) -> None:
        """A record counted but not parsed."""
        self.span(computer, stamp, stamp)
        self.skipped.append(number)

    def span(self, computer: str, first: str, last: str) -> None:
        span = self.spans.get(computer)
        if span is None:
            self.spans[computer] = [first, last]
        else:
            span[0] = min(span[0], first)
            span[1] = max(span[1], last)

    def spans_by_computer(self) -> dict[str, tuple[datetime, datetime]]:
        return {
            (unescape(computer) if "&" in computer else computer): (parse_time(a), parse_time(b))
            for computer, (a, b) in self.spans.items()
        }
