"""The same record exported twice counts once, and only when it is the same record.

Records are matched by (computer, channel, EventRecordID). A record with the key of one taken
before is dropped only when its content is the same too (time, provider, event id, level, data);
otherwise both are kept and the pair of inputs is noted: a rebuilt server with the same name, a
log cleared and restarted, or a decoy must not hide the events of the other log.

An export carries less than the log (customers often send both): PowerShell's and Event Viewer's
times are local wall clocks to the second, and PowerShell keeps the formatted message instead of the
data values. So a record is also the same when one of the two times is to the whole second and they
differ by a whole number of quarter hours (a time zone, up to 14 h) give or take the lost fraction
of a second, its provider, event id and level are equal, and its data are the other's or a message
that holds every data value. The record read first is kept, and logs are read before exports
(run/pipeline.py), so it is the log's.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING, Union

from analyzer.sentences import OTHER_INPUT, SAME_KEY, THIS_INPUT

if TYPE_CHECKING:
    from datetime import datetime

    from analyzer.events import Event

Key = tuple[str, "str | None", int]
# What is kept of a record taken: the event itself, or for a heartbeat in its short form (see
# `Partial.classify`) its time, its fingerprint and its input.
Taken = Union["Event", tuple["datetime", bytes, str]]


def dedupe_key(event: Event) -> Key | None:
    """The same record exported twice has the same computer, channel and EventRecordID."""
    if event.computer and event.event_record_id is not None:
        return event.computer.casefold(), event.channel, event.event_record_id
    return None


def fingerprint(event: Event) -> bytes:
    """A digest of what the report reads of a record besides its time (provider, event id, level,
    data). Line ends are normalized: an XML export of a log has LF where its records have CR LF."""
    data = event.data
    if "\r" in "".join(data):
        data = [value.replace("\r\n", "\n").replace("\r", "\n") for value in data]
    content = repr((event.provider, event.event_id, event.level, data))
    return hashlib.blake2b(content.encode(), digest_size=16).digest()


def same(first: Taken, second: Taken) -> bool:
    """Whether two records with one key are the same record (two events are compared as they
    are first, which needs no digest when they are)."""
    if isinstance(first, tuple) or isinstance(second, tuple):
        (one, digest), (other, digest_other) = _content(first), _content(second)
        return digest == digest_other and (
            one == other or (0 in (one.microsecond, other.microsecond) and _zone_apart(one, other))
        )
    if first.provider != second.provider or first.event_id != second.event_id or first.level != second.level:
        return False
    one, other = first.time_created, second.time_created
    if one == other:
        return first.data == second.data or fingerprint(first) == fingerprint(second)
    # A time to the whole second is an export's: compare at what it keeps.
    return 0 in (one.microsecond, other.microsecond) and _zone_apart(one, other) and _holds(first.data, second.data)


QUARTER_HOUR = 900.0
WIDEST_OFFSET = 14 * 3600.0  # UTC+14 (Kiribati) is the widest time zone offset


def _zone_apart(one: datetime, other: datetime) -> bool:
    """Whether two times of one record differ by a time zone offset (whole quarter hours, up to 14
    h), give or take a second lost to an export that keeps whole seconds."""
    apart = abs((one - other).total_seconds())
    rest = apart % QUARTER_HOUR
    return apart <= WIDEST_OFFSET + 1 and (rest < 1 or rest > QUARTER_HOUR - 1)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _holds(data: list[str], other: list[str]) -> bool:
    """Whether two records' data are the same values, or one is a message holding the other's."""
    if [_flat(v) for v in data] == [_flat(v) for v in other]:
        return True
    for message, values in ((data, other), (other, data)):
        if len(message) == 1 and any(values):
            text = _flat(message[0])
            if all(_flat(v) in text for v in values if v.strip()):
                return True
    return False


def _content(taken: Taken) -> tuple[datetime, bytes]:
    return (taken[0], taken[1]) if isinstance(taken, tuple) else (taken.time_created, fingerprint(taken))


def _source(taken: Taken) -> str:
    return taken[2] if isinstance(taken, tuple) else taken.file


class Seen:
    """Every record taken so far, by key, across inputs (in the main process)."""

    def __init__(self) -> None:
        self.taken: dict[Key, Taken] = {}
        self.others: dict[Key, list[Taken]] = {}  # further records of a key, after a collision
        self.collisions: Counter[tuple[str, str]] = Counter()  # (earlier input, later input) -> records
        self._noted: set[tuple[str, str]] = set()

    def take(self, key: Key, record: Taken) -> bool:
        """Whether to keep `record`: False when a record with its key and content was taken."""
        first = self.taken.get(key)
        if first is None:
            self.taken[key] = record
            return True
        return self.again(key, first, record)

    def again(self, key: Key, first: Taken, record: Taken) -> bool:
        """`take` for a record whose key was taken before (`first`)."""
        if same(first, record):
            return False
        others = self.others.setdefault(key, [])
        if any(same(other, record) for other in others):
            return False
        others.append(record)
        self.collisions[_source(first), _source(record)] += 1
        return True

    def notes(self, source: str) -> list[str]:
        """What to say of `source` (just merged) about records that share a key with other content."""
        found = []
        for pair, count in self.collisions.items():
            if pair[1] != source or pair in self._noted:
                continue
            self._noted.add(pair)
            where = THIS_INPUT.say() if pair[0] == source else OTHER_INPUT.say(path=pair[0])
            found.append(SAME_KEY.say(count=count, where=where))
        return found
