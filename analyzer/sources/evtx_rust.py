"""The `rust` engine: pyevtx-rs (PyPI `evtx`) renders each record's XML, lxml reads it.

Known behaviour handled here (see ../shared/reference/parsers.md):
- a damaged chunk makes `next()` raise RuntimeError; calling `next()` again
  resumes, so the loop does that instead of a plain `for`;
- `event_record_id` in its dict is the record-header number, used only for
  accounting; the event's EventRecordID comes from the XML;
- it renders XML 1.0-invalid characters (and CR) raw; they are shielded before
  parsing so values come back exactly as stored.
"""

from __future__ import annotations

import logging
import re
from array import array
from html import unescape
from typing import TYPE_CHECKING

from lxml import etree

from analyzer.errors import InputError, RecordError
from analyzer.events import Event
from analyzer.sources.tree import El, from_lxml, parse_time, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from pathlib import Path


log = logging.getLogger(__name__)
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)
MAX_CONSECUTIVE_ERRORS = 10_000
# Characters XML 1.0 forbids or normalizes away (CR): mapped to unused private-use code points
# for parsing, and back afterwards.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_SPAN = 0x22


def _slot(char: str) -> int:
    code = ord(char)
    return code if code < 0x20 else 0x20 + code - 0xFFFE


def _unslot(slot: int) -> str:
    return chr(slot if slot < 0x20 else 0xFFFE + slot - 0x20)


class _Shield:
    def __init__(self, xml: str) -> None:
        used = {ord(c) for c in xml if ord(c) >= 0x100000}
        base = 0x100000
        while any(base + i in used for i in range(_SPAN)):
            base += _SPAN
        self.base = base

    def hide(self, xml: str) -> str:
        return _UNSAFE.sub(lambda m: chr(self.base + _slot(m.group())), xml)

    def restore(self, text: str) -> str:
        base = self.base
        return "".join(_unslot(ord(c) - base) if base <= ord(c) < base + _SPAN else c for c in text)


def xml_to_tree(xml: str) -> El:
    shield = _Shield(xml) if _UNSAFE.search(xml) else None
    if shield:
        xml = shield.hide(xml)
    start = xml.find("<Event")
    try:
        root = etree.fromstring(xml[start:].encode("utf-8", "surrogatepass"), PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError("record XML does not parse") from exc
    return from_lxml(root, shield.restore if shield else str)


def read(
    path: Path, file: str, keep: Keep | None = None, coverage: Coverage | None = None, threads: int = 1
) -> Iterator[tuple[int, Event | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read).

    With `keep` (provider -> event ids, or None for all) and `coverage`, any other record is
    not parsed: only its computer and time are read from the XML text into `coverage`, and
    its number is added to `coverage.skipped` (so the reader still counts it). Records
    pyevtx-rs skips (inside a damaged chunk, or silently within one) are not returned at all;
    the reader counts them from the chunk headers. This loop runs once per record of every
    input, so it is written for speed.
    """
    from evtx import PyEvtxParser

    try:
        records = PyEvtxParser(str(path), number_of_threads=threads, indent=False).records()
    except (OSError, RuntimeError) as exc:
        raise InputError(path, f"pyevtx-rs cannot open it ({str(exc).splitlines()[0][:120]})") from None
    # Event ids compared as the text pyevtx-rs prints, to save an int() per record.
    wanted = (
        {name: None if ids is None else frozenset(map(str, ids)) for name, ids in keep.items()}
        if keep is not None and coverage is not None
        else None
    )
    spans, skipped = (coverage.spans, coverage.skipped) if coverage is not None else ({}, array("Q"))
    errors = 0
    while True:
        try:
            for record in records:
                xml = record["data"]
                if wanted is not None:
                    at = xml.find('<Provider Name="') + 16
                    name = xml[at : xml.find('"', at)] if at >= 16 else ""
                    ids = wanted.get(unescape(name) if "&" in name else name, _NOT_KEPT)
                    if (
                        (ids is _NOT_KEPT or (ids is not None and _event_id(xml) not in ids))
                        and name
                        and (
                            "<EventRecordID>" in xml and 'SystemTime="' in xml  # else: let the full path judge it
                        )
                    ):
                        at = xml.find('SystemTime="') + 12
                        stamp = xml[at : xml.find('"', at)]
                        at = xml.find("<Computer>") + 10
                        computer = xml[at : xml.find("<", at)]
                        span = spans.get(computer)
                        if span is None:
                            spans[computer] = [stamp, stamp]
                        elif stamp < span[0]:
                            span[0] = stamp
                        elif stamp > span[1]:
                            span[1] = stamp
                        skipped.append(record["event_record_id"])
                        continue
                try:
                    yield record["event_record_id"], fast_event(xml, file) or to_event(xml_to_tree(xml), file)
                except RecordError as exc:
                    yield record["event_record_id"], exc
            return
        except RuntimeError:  # a damaged place: pyevtx-rs resumes at the next chunk
            log.debug("%s: pyevtx-rs skipped a damaged place", file)
            errors += 1
            if errors >= MAX_CONSECUTIVE_ERRORS:
                return


_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#x[0-9A-Fa-f]+|#[0-9]+);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))


def _text(raw: str) -> str:
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


def fast_event(xml: str, file: str) -> Event | None:
    """Read pyevtx-rs's compact XML with string searches (no XML parser): about five times faster
    than lxml. Returns None for anything outside the plain shape it renders (the lxml path then
    reads it); tests compare both engines on every record of the corpus."""
    end = xml.find("</System>")
    if end < 0 or "<![CDATA[" in xml:
        return None

    def element(name: str) -> tuple[str, str] | None:
        """(attributes, text) of the first <name ...>text</name> in System."""
        start = xml.find(f"<{name}", 0, end)
        if start < 0:
            return None
        head_end = xml.find(">", start)
        close = xml.find("</", head_end)
        text = xml[head_end + 1 : close]
        if "<" in text or xml[close + 2 : close + 3 + len(name)] != f"{name}>":
            raise ValueError
        return xml[start + 1 + len(name) : head_end], text

    def attribute(attrs: str, name: str) -> str | None:
        at = attrs.find(f' {name}="')
        if at < 0:
            return None
        at += len(name) + 3
        return _text(attrs[at : attrs.find('"', at)])

    try:
        provider = element("Provider")
        event_id = element("EventID")
        created = element("TimeCreated")
        record = element("EventRecordID")
        name = attribute(provider[0], "Name") if provider else None
        stamp = attribute(created[0], "SystemTime") if created else None
        if not name or not event_id or not event_id[1].isdigit() or not stamp or not record:
            return None
        if not record[1].isdigit():
            return None
        values = {key: element(key) for key in ("Level", "Task", "Keywords", "Channel", "Computer")}
        data: list[str] = []
        fields: dict[str, str] = {}
        start = xml.find("<EventData", end)
        if start >= 0:
            start = xml.find(">", start)
            if xml[start - 1] == "/":  # <EventData/>: no values
                start = -1
        stop = xml.find("</EventData>", start) if start >= 0 else -1
        at = start
        while start >= 0:
            at = xml.find("<", at + 1, stop)
            if at < 0:
                break
            head_end = xml.find(">", at)
            tag = xml[at + 1 : head_end]
            close = xml.find("<", head_end)
            if tag == "Data" or tag.startswith("Data "):
                if xml[close : close + 7] != "</Data>":
                    return None
                value = _text(xml[head_end + 1 : close])
                data.append(value)
                key = attribute(" " + tag[5:], "Name") if tag != "Data" else None
                if key is not None:
                    fields[key] = value
            elif not tag.startswith("/") and not tag.endswith("/"):
                closing = xml.find(f"</{tag.split(' ')[0]}>", head_end)
                if closing < 0:
                    return None
                close = closing
            at = close
    except (ValueError, TypeError):
        return None

    def number(key: str) -> int | None:
        found = values[key]
        text = found[1] if found else ""
        if not text:
            return None
        try:
            return int(text, 16) if text[:2] in ("0x", "0X") else int(text)
        except ValueError:
            return None

    qualifiers = attribute(event_id[0], "Qualifiers")
    return Event(
        file=file,
        event_record_id=int(record[1]),
        time_created=parse_time(stamp),
        provider=name,
        event_id=int(event_id[1]),
        qualifiers=int(qualifiers) if qualifiers and qualifiers.isdigit() else None,
        level=number("Level"),
        task=number("Task"),
        keywords=number("Keywords"),
        channel=_text(values["Channel"][1]) if values["Channel"] else None,
        computer=_text(values["Computer"][1]) if values["Computer"] else None,
        data=data,
        fields=fields,
    )


_NOT_KEPT = object()
Keep = dict[str, "frozenset[int] | None"]


def _event_id(xml: str) -> str:
    end = xml.find("</EventID>")
    return xml[xml.rfind(">", 0, end) + 1 : end]


class Coverage:
    """What the reader learns from records it does not parse: first and last TimeCreated per
    computer (ISO strings compare in time order; converted once at the end) and their numbers."""

    def __init__(self) -> None:
        self.spans: dict[str, list[str]] = {}
        self.skipped = array("Q")

    def note(self, computer: str, stamp: str, number: int) -> None:
        """A record counted but not parsed (the rust loop inlines this, for speed)."""
        span = self.spans.get(computer)
        if span is None:
            self.spans[computer] = [stamp, stamp]
        elif stamp < span[0]:
            span[0] = stamp
        elif stamp > span[1]:
            span[1] = stamp
        self.skipped.append(number)

    def spans_by_computer(self) -> dict[str, tuple[datetime, datetime]]:
        return {
            (unescape(computer) if "&" in computer else computer): (parse_time(a), parse_time(b))
            for computer, (a, b) in self.spans.items()
        }
