"""The `rust` engine: pyevtx-rs (PyPI `evtx`) renders each record's XML, lxml reads it.

Known behaviour handled here (seen on the real logs of the test corpus):
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
from datetime import datetime
from functools import cache
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from analyzer.errors import InputError, RecordError
from analyzer.events import Event, Line, Lines, json_dict, json_list, json_string
from analyzer.evtx.layout import CHUNK_SIZE, FILE_HEADER_SIZE, ChunkView
from analyzer.ingest.counting import START, Coverage, Keep, Triage
from analyzer.ingest.normalize import El, from_lxml, parse_number, parse_time, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.evtx.layout import Chunk, Layout, Piece


log = logging.getLogger(__name__)
MAX_CONSECUTIVE_ERRORS = 10_000
# Characters XML 1.0 forbids or normalizes away (CR): mapped to unused private-use code points
# for parsing, and back afterwards.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_SPAN = 0x20 + 2  # private-use slots: one per C0 code point (see `_slot`), then U+FFFE and U+FFFF


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


@cache
def parser() -> Any:
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


class NotXml(RecordError):
    """pyevtx-rs printed a record that is not well-formed XML (names damaged into non-names)."""

    def __init__(self) -> None:
        super().__init__("record XML does not parse")


class _Rereader:
    """Records whose XML does not parse, read from their bytes by the python engine's decoder
    (which reads them as pyevtx-rs does, names need not be XML names): a chunk at a time, once."""

    def __init__(self, path: Path, layout: Layout, file: str) -> None:
        self.path, self.layout, self.file = path, layout, file
        self.read: dict[int, dict[int, Event | RecordError]] = {}

    def __call__(self, number: int) -> Event | RecordError:
        from analyzer.ingest.engines.python import decode_chunk

        for chunk in self.layout.own:
            if not (chunk.readable and chunk.first <= number <= chunk.last):
                continue
            found = self.read.get(chunk.index)
            if found is None:
                with self.path.open("rb") as fh:
                    fh.seek(chunk.offset)
                    found = self.read[chunk.index] = decode_chunk(fh.read(CHUNK_SIZE), chunk, self.file)
            if number in found:
                return found[number]
        return NotXml()


def xml_to_tree(xml: str) -> El:
    shield = _Shield(xml) if _UNSAFE.search(xml) else None
    if shield:
        xml = shield.hide(xml)
    from lxml import etree  # only records the regex cannot take come here (few): imported then

    try:
        root = etree.fromstring(xml.encode("utf-8", "surrogatepass"), parser())
    except etree.XMLSyntaxError as exc:
        raise NotXml from exc
    return from_lxml(root, shield.restore if shield else str)


def read(
    path: Path,
    file: str,
    layout: Layout,
    keep: Keep | None = None,
    coverage: Coverage | None = None,
    piece: Piece | None = None,
    lines: str | None = None,
) -> Iterator[tuple[int, Event | Line | Lines | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read).

    With `keep` (provider -> event ids, or None for all) and `coverage`, any other record is
    not parsed: only its computer and time go into `coverage`, and its number into
    `coverage.skipped` (so the reader still counts it). Records pyevtx-rs skips (inside a
    damaged chunk, or silently within one) are not returned at all; the reader counts them
    from the chunk headers.

    pyevtx-rs reads runs of sound chunks; a chunk whose name or template table would make it hang
    or lose the chunk is read by the python engine's decoder instead, and a chunk no engine reads
    (see `layout.scan`) is left out, so both engines read the same chunks.

    With `lines` ("json" or "row"), records of the plain shape come as `Line`s (their JSON line, or
    their row of column values), a batch's run of them as one `Lines` (number -1), not as events.
    """
    line = _Liner(file, lines) if lines else None
    triage = Triage(keep, coverage) if keep is not None and coverage is not None else None
    sound = all(chunk.readable and chunk.tables is None for chunk in layout.own)
    if piece is None and sound and layout.header_block == FILE_HEADER_SIZE:
        yield from _pyevtx(path, str(path), file, triage, _Rereader(path, layout, file), line)  # the usual case
        return
    wanted = (
        {name: None if ids is None else frozenset(map(str, ids)) for name, ids in keep.items()}
        if keep is not None and coverage is not None
        else None
    )
    for step in _plan(layout, piece):
        if isinstance(step, tuple):
            yield from _pyevtx(path, ChunkView(path, step), file, triage, _Rereader(path, layout, file), line)
            continue
        from analyzer.ingest.engines.python import read_chunk

        with path.open("rb") as fh:
            fh.seek(step.offset)
            buf = fh.read(CHUNK_SIZE)
        yield from read_chunk(buf, step, file, wanted, coverage)


def _plan(layout: Layout, piece: Piece | None) -> list[Piece | Chunk]:
    """What to read, in chunk order: runs of chunks pyevtx-rs may read, as pieces, and the
    chunks the python engine's decoder reads instead."""
    steps: list[Piece | Chunk] = []
    run: int | None = None
    for chunk in layout.own:
        if chunk.readable and chunk.tables is None:
            if run is None:
                run = chunk.index
            continue
        if run is not None:
            steps.append((run, chunk.index))
            run = None
        if chunk.readable:
            steps.append(chunk)
    if run is not None:
        steps.append((run, piece[1] if piece else None))
    return steps


def _pyevtx(
    path: Path,
    source: str | ChunkView,
    file: str,
    triage: Triage | None,
    reread: _Rereader,
    line: _Liner | None = None,
) -> Iterator[tuple[int, Event | Line | Lines | RecordError]]:
    from evtx import PyEvtxParser

    try:
        # One thread: spare cores read other files or pieces (pyevtx-rs's threads gain nothing here).
        records = PyEvtxParser(source, number_of_threads=1, indent=False).records()
    except (OSError, RuntimeError) as exc:
        raise InputError(path, f"pyevtx-rs cannot open it ({str(exc).splitlines()[0][:120]})") from None
    errors = 0
    while True:
        batch: list[dict[str, Any]] = []
        try:
            batch.extend(islice(records, _BATCH))  # keeps the records read before an error
        except RuntimeError:  # a damaged place: pyevtx-rs resumes at the next chunk
            log.debug("%s: pyevtx-rs skipped a damaged place", file)
            errors += 1
        else:
            if not batch:
                return
        pairs = triage.parse(batch) if triage else map(_NUMBER_AND_XML, batch)
        if line is not None:
            yield from _lines(list(pairs), line, file, reread)
            pairs = ()  # type: ignore[assignment]
        for number, xml in pairs:
            yield number, _event(number, xml, file, reread)
        if errors >= MAX_CONSECUTIVE_ERRORS:
            return


def _event(number: int, xml: str, file: str, reread: _Rereader) -> Event | RecordError:
    """One rendered record as its event: by the anchored regex, else lxml (the exact path)."""
    try:
        return plain_event(xml, file) or to_event(xml_to_tree(xml), file)
    except NotXml:  # damage made names into non-names: read the record's own bytes instead
        return reread(number)
    except RecordError as exc:
        return exc


def _lines(
    pairs: list[tuple[int, str]], line: _Liner, file: str, reread: _Rereader
) -> Iterator[tuple[int, Lines | Event | RecordError]]:
    """A batch with `Line`s for the records of the plain shape: each run of them as one `Lines`."""
    found = list(map(line, map(_XML_OF_PAIR, pairs)))
    if not found:
        return
    if None not in found:
        yield -1, Lines(list(map(_NUMBER_OF_PAIR, pairs)), found)  # type: ignore[arg-type]
        return
    run: list[int] = []
    for index, (number, xml) in enumerate(pairs):
        if found[index] is not None:
            run.append(index)
            continue
        if run:
            yield -1, Lines([pairs[i][0] for i in run], [found[i] for i in run])  # type: ignore[misc]
            run = []
        yield number, _event(number, xml, file, reread)
    if run:
        yield -1, Lines([pairs[i][0] for i in run], [found[i] for i in run])  # type: ignore[misc]


_BATCH = 1024
_NUMBER_OF_PAIR = itemgetter(0)
_XML_OF_PAIR = itemgetter(1)
_NUMBER_AND_XML = itemgetter("event_record_id", "data")
_XML = itemgetter("data")
_NUMBER = itemgetter("event_record_id")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#x[0-9A-Fa-f]+|#[0-9]+);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))


def _text(raw: str) -> str:
    return _ENTITY.sub(_entity, raw) if "&" in raw else raw


# A whole record in the shape pyevtx-rs gives real Windows events (classic or manifest-based
# System, then EventData of plain <Data> and <Binary> elements): read by one regex match.
_PLAIN = re.compile(
    re.escape(START) + r'([^"<&]*)"[^>]*>(?:</Provider>)?'
    r'<EventID(?: Qualifiers="([^"]*)")?>(\d+)</EventID>(?:<Version>[^<]*</Version>)?'
    r"<Level>([^<]*)</Level><Task>([^<]*)</Task>(?:<Opcode>[^<]*</Opcode>)?<Keywords>([^<]*)</Keywords>"
    r'<TimeCreated SystemTime="([^"]+)"></TimeCreated><EventRecordID>(\d+)</EventRecordID>'
    r"(?:<Correlation[^>]*>(?:</Correlation>)?)?(?:<Execution[^>]*>(?:</Execution>)?)?"
    r"<Channel>([^<]*)</Channel><Computer>([^<]*)</Computer>(?:<Security[^>]*>(?:</Security>)?)?</System>"
    r'(?:<EventData>((?:<Data(?: Name="[^"]*")?>[^<]*</Data>|<Binary>[^<]*</Binary>)*)</EventData>)?</Event>$'
)
_DATA = re.compile(r'<Data(?: Name="([^"]*)")?>([^<]*)</Data>')


def plain_event(xml: str, file: str) -> Event | None:
    """The event of a record in the plain shape, or None (the other readers then take it)."""
    match = _PLAIN.match(xml)
    if match is None or not match[1]:
        return None
    name, qualifiers, event_id, level, task, keywords, stamp, record, channel, computer, body = match.groups()
    data: list[str] = []
    fields: dict[str, str] = {}
    if body:
        for key, raw in _DATA.findall(body):
            value = _text(raw)
            data.append(value)
            if key:  # a `Name=""` attribute is no name: as the other readers see it
                fields[_text(key)] = value
    return Event(
        file=file,
        event_record_id=int(record),
        time_created=parse_time(stamp),
        provider=name,
        event_id=int(event_id),
        qualifiers=parse_number(qualifiers),
        level=parse_number(level),
        task=parse_number(task),
        keywords=parse_number(keywords),
        channel=_text(channel),
        computer=_text(computer),
        data=data,
        fields=fields,
    )


# Times as pyevtx-rs prints them (from a FILETIME, so the year is 1601 or later): an event's
# time in its JSON line is this very text (`iso_utc` of the parsed time gives it back).
_STAMP = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_ZERO = "1601-01-01T00:00:00.000000Z"


class _Liner:
    """A record of the plain shape straight into what `wba events` writes, without an event: its
    JSON line (`form` "json": `Event.as_json()` of `plain_event`, the same bytes) or its row of
    column values (`form` "row", for Parquet). This takes half the time of making the event and
    serializing it; the rest of `wba events` is mostly pyevtx-rs's. Text that repeats (names,
    numbers) is turned into JSON once. What this does not take (a time it would have to parse,
    say) is left to `plain_event`."""

    def __init__(self, file: str, form: str) -> None:
        self.file, self.json = file, form == "json"
        self.file_json = json_string(file)
        self.numbers: dict[str | None, Any] = {}
        self.texts: dict[str, tuple[str, str]] = {}

    def number(self, raw: str | None) -> Any:
        """The JSON of a System number (json) or the number (row)."""
        if len(self.numbers) > 10_000:
            self.numbers.clear()
        value = parse_number(raw)
        if self.json:
            value = "null" if value is None else str(value)
        self.numbers[raw] = value
        return value

    def text(self, raw: str) -> tuple[str, str]:
        """(the text, its JSON)."""
        if len(self.texts) > 10_000:
            self.texts.clear()
        value = _text(raw)
        found = self.texts[raw] = (value, json_string(value))
        return found

    def __call__(self, xml: str) -> tuple[Any, str, str, str, str] | None:
        match = _PLAIN.match(xml)
        if match is None or not match[1]:
            return None
        name, qualifiers, event_id, level, task, keywords, stamp, record, channel, computer, body = match.groups()
        if stamp == _ZERO or not _STAMP.fullmatch(stamp):
            return None
        try:
            datetime.fromisoformat(stamp[:-1])  # a real time (text in place of a FILETIME may not be)
        except ValueError:
            return None
        body = body or ""
        pairs = _DATA.findall(body) if body else []
        if "&" in body:
            pairs = [(_text(key), _text(value)) for key, value in pairs]
        numbers, texts, number = self.numbers, self.texts, self.number
        provider = texts.get(name) or self.text(name)
        channel_text = texts.get(channel) or self.text(channel)
        computer_text = texts.get(computer) or self.text(computer)
        q = numbers[qualifiers] if qualifiers in numbers else number(qualifiers)
        lv = numbers[level] if level in numbers else number(level)
        tk = numbers[task] if task in numbers else number(task)
        kw = numbers[keywords] if keywords in numbers else number(keywords)
        if not self.json:
            row = (
                self.file,
                int(record),
                stamp,  # made a time by Arrow, with the rest of its column
                name,
                int(event_id),
                q,
                lv,
                tk,
                kw,
                channel_text[0],
                computer_text[0],
                [value for _, value in pairs],
                list({key: value for key, value in pairs if key}.items()),
            )
            return row, stamp, name, channel_text[0], computer_text[0]
        data = json_list([value for _, value in pairs]) if pairs else "[]"
        fields = json_dict({key: value for key, value in pairs if key}) if 'Name="' in body else "{}"
        return (
            f'{{"file": {self.file_json}, "event_record_id": {int(record)}, "time_created": "{stamp}", '
            f'"provider": {provider[1]}, "event_id": {int(event_id)}, "qualifiers": {q}, "level": {lv}, '
            f'"task": {tk}, "keywords": {kw}, "channel": {channel_text[1]}, "computer": {computer_text[1]}, '
            f'"data": {data}, "fields": {fields}}}\n',
            stamp,
            name,
            channel_text[0],
            computer_text[0],
        )
