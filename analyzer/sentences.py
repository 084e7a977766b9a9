"""The sentences the analysis and the readers write into a report, declared once: the evidence of
causes found by correlation (minimum age, protected objects, a cluster, an administrator action, what
the log lacks) and the notes on a server or an input (counts incomplete, records that share a key,
what an export could not carry, its local times). Shared by ingest and analysis, like `events`.

Each is built here from its values (`Sentence.say`). The report model and its JSON keep the English
text (the contract); `reports/i18n.py` renders a sentence in another language from the values it
reads back out of that text (`Sentence.read`), with the pattern made from the same template. The
English text is the carrier because the model is all a renderer sees, and `--redact` sends the
model through its JSON form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


def ago(seconds: float) -> str:
    """A time between two events as a reader wants it: `40 s`, `25 min`, `10.1 h`."""
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class Slot:
    """A value in a sentence: how it is written in English and the pattern that reads it back.
    `kind` tells a renderer how to write it in another language (`reports/i18n.py`)."""

    kind: str
    pattern: str

    def show(self, value: Any) -> str:
        if self.kind == "duration":
            return ago(value)
        if self.kind == "days":
            return f"{value:.1f}"
        if self.kind == "codes":
            return ", ".join(str(v) for v in value)
        if self.kind == "fields":  # names of columns: `computer`, `computer or channel`, `a, b or c`
            return value[0] if len(value) == 1 else ", ".join(value[:-1]) + " or " + value[-1]
        return str(value)


COUNT = Slot("count", r"\d+")
DURATION = Slot("duration", r"\d+(?:\.\d)? (?:s|min|h)")
DAYS = Slot("days", r"\d+\.\d")
CODES = Slot("codes", r"\d+(?:, \d+)*")
STAMP = Slot("stamp", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ORDER = Slot("order", r"before|after")
FIELDS = Slot("fields", r"[^;]+?")  # a note's values hold no "; ": notes are joined by it
NOTE_TEXT = Slot("text", r"[^;]+?")  # a name in a note, kept as it is
TEXT = Slot("text", r".+?")  # A name or title from the catalogue, or a path: kept as it is.
CLUSTER = Slot("cluster", r".+?")  # A cluster's English title (codes/clusters.yaml).

_PLACE = re.compile(r"\{(\w+)\}")


class Sentence:
    """One sentence: its key (the other languages' texts are kept under it), its English template
    with `{name}` places, and the slot of each place."""

    def __init__(self, key: str, english: str, **slots: Slot) -> None:
        self.key, self.english, self.slots = key, english, slots
        parts = _PLACE.split(english)  # Text, name, text, name, ..., text.
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{slots[part].pattern})" for i, part in enumerate(parts)
        )
        self.pattern = re.compile(pattern)

    def say(self, **values: Any) -> str:
        """The sentence in English, its values written as its slots write them."""
        return self.english.format(**{name: self.slots[name].show(values[name]) for name in self.slots})

    def read(self, text: str) -> dict[str, str] | None:
        """The values of `text` as written (None when `text` is not this sentence)."""
        found = self.pattern.fullmatch(text)
        return found.groupdict() if found else None


# The evidence of correlation and findings (analysis/correlate.py), and the notes of a server and an input.
MINIMUM_AGE = Sentence("minimum-age", "previous change of the same user {since} earlier", since=DURATION)
OTHERS_SUCCEED = Sentence(
    "others-succeed", "{count} operations of other users succeeded while these failed", count=COUNT
)
CLUSTER_SEEN = Sentence("cluster", "{title}: {codes} within {minutes} min", title=CLUSTER, codes=CODES, minutes=COUNT)
ADMIN_ACTION = Sentence(
    "admin-action",
    "{event_id} {name} at {stamp}, {order} it was first seen",
    event_id=COUNT,
    name=TEXT,
    stamp=STAMP,
    order=ORDER,
)
SYNC_ONLY = Sentence("sync-only", "the sync engine's events but none of the writeback service")
OFFBOARDED = Sentence("offboarded", "writeback disabled in the wizard (31012, 31013) and not enabled again")
QUIET = Sentence(
    "quiet",
    "{heartbeats} heartbeats and {changes} on-premises password changes (656) in {days} days, "
    "but no reset, change or admin reset",
    heartbeats=COUNT,
    changes=COUNT,
    days=DAYS,
)
# Shown after the label "Operation counts incomplete": the reason only, not the label again.
FILTERED = Sentence(
    "filtered", "the inputs hold failures but no starts, successes or heartbeats (an export filtered to errors?)"
)
# What `wba explain` says picked a cause when no text in the event did (analysis/explain.py).
DEFAULT_CAUSE = Sentence("default-cause", "the default cause of {provider} {event_id}", provider=TEXT, event_id=COUNT)
# A note on an input (analysis/dedupe.py), also printed as a warning.
SAME_KEY = Sentence(
    "same-key",
    "{count} events have the computer, channel and EventRecordID of {where} but other content"
    " (a rebuilt server with the same name, a cleared log, or a forgery): both kept",
    count=COUNT,
    where=TEXT,
)
# Notes on an export (ingest/exports/common.py, ingest/read.py).
NOT_CARRIED = Sentence("not-carried", "no {fields} in this export", fields=FIELDS)
LOCAL_TIMES = Sentence(
    "local-times", "times are the exporting machine's local time (no time zone; give --input-tz to convert)"
)
CONVERTED = Sentence("converted", "times converted to UTC from {zone}", zone=NOTE_TEXT)
THIS_INPUT = Sentence("this-input", "other events of this input")
OTHER_INPUT = Sentence("other-input", "events in {path}", path=TEXT)

SENTENCES = (
    MINIMUM_AGE,
    OTHERS_SUCCEED,
    CLUSTER_SEEN,
    ADMIN_ACTION,
    SYNC_ONLY,
    OFFBOARDED,
    QUIET,
    FILTERED,
    DEFAULT_CAUSE,
    SAME_KEY,
    NOT_CARRIED,
    LOCAL_TIMES,
    CONVERTED,
    THIS_INPUT,
    OTHER_INPUT,
)
