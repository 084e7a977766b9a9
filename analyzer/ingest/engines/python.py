"""The `python` engine: python-evtx parses each chunk's records and BinXml; values are decoded here.

python-evtx reads the record headers (`Evtx.Evtx.Record`) and each record's fragment and templates
(`Evtx.Nodes`, through `nodes.py`); the project decodes the values (`values.py`, `tables.py`),
turns python-evtx's trees into elements and fills them (`filling.py`, `ingest/normalize.py`).
python-evtx's own walk and renderer (`Evtx.records()`, `Record.xml()`) are not used: on real logs
they stop at the file header's stale chunk count, fail whole files on its issue #40 and render
values otherwise than pyevtx-rs (as the corpus tests in tests/test_engines.py show). Records are
read by the rules pyevtx-rs follows, so that both engines return the same records from damaged files
as from clean ones:
- every chunk `layout.scan` finds is read (not the file header's possibly stale chunk count);
- records are read from the end of the chunk header up to the chunk's free-space offset, and no further than
  the record whose number is the chunk header's last one (a stale header hides the rest: counted
  by the reader, not returned);
- a record header that is not one (bad signature, size under 28 bytes, data past the chunk, a
  time pyevtx-rs cannot represent) ends the chunk's records;
- python-evtx's tree of a fragment is read in the order of its tokens and put together as
  pyevtx-rs puts tokens together (what pyevtx-rs refuses, such as an attribute after an element's
  start closed or a close without an open, makes the record undecodable);
- templates are compiled once per chunk and offset (never shared with another chunk);
- a record that does not decode by pyevtx-rs's rules (`Undecodable`, python-evtx's
  `OverrunBufferException`, nesting beyond Python's recursion) is not returned, as pyevtx-rs
  returns no such record: the reader counts it as missing from its chunk. Any other exception
  python-evtx raises on a record makes it unreadable, with the exception's name as the reason.
The rust engine hands chunks that would make pyevtx-rs hang or fail as a whole to `read_chunk`, and
records whose printed XML does not parse to `decode_chunk`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from Evtx import Nodes
from Evtx.BinaryParser import Block, ParseException
from Evtx.Evtx import Record

from analyzer.errors import RecordError
from analyzer.evtx.format import (
    CHUNK_HEADER_SIZE,
    CHUNK_SIZE,
    RECORD_HEADER,
    RECORD_MAGIC,
    RECORD_MIN_SIZE,
    T_END_OF_STREAM,
    T_FRAGMENT_HEADER,
    T_TEMPLATE_INSTANCE,
)
from analyzer.ingest.engines import nodes as bx
from analyzer.ingest.engines.filling import PROCESSING, Element, EntityRef, Placeholder, Plan, resolve_one
from analyzer.ingest.engines.tables import spans
from analyzer.ingest.engines.values import VALID_TYPES, Null, Undecodable
from analyzer.ingest.normalize import LACKS, El, parse_number, parse_time, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.events import Event
    from analyzer.evtx.layout import Chunk, Layout
    from analyzer.ingest.counting import Coverage, Keep

MAX_NESTING = 64  # BinXml fragments within fragments (as pyevtx-rs)
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")  # as canonical_time prints times
_MAX_TICKS = (253_402_207_200 + 11_644_473_600 + 1) * 10_000_000  # pyevtx-rs's last representable time


class EventRecord(Record):
    """python-evtx's `Record`: the record header (signature, size, number, time) and `root()`."""

    magic = bx.field("dword", 0x0)
    size = bx.field("dword", 0x4)
    record_num = bx.field("qword", 0x8)
    ticks = bx.field("qword", 0x10)  # python-evtx's `timestamp` before its conversion through a float

    def __init__(self, buf: bytes, offset: int, chunk: bx.EvtxChunk) -> None:
        Block.__init__(self, buf, offset)  # (python-evtx refuses a size over 64 KiB here: see `records`)
        self._chunk = chunk


def records(decoder: ChunkDecoder, last: int, free: int) -> Iterator[tuple[int, int, int]]:
    """(offset, size, number) of each record pyevtx-rs walks in a chunk."""
    buf, chunk = decoder.buf, decoder.chunk
    end, pos = min(free, len(buf)), CHUNK_HEADER_SIZE
    while pos < end and pos + RECORD_HEADER.size <= len(buf):
        record = EventRecord(buf, pos, chunk)
        size, number = record.size(), record.record_num()
        if (
            record.magic() != RECORD_MAGIC
            or record.ticks() >= _MAX_TICKS
            or size < RECORD_MIN_SIZE
            or pos + size - 4 > len(buf)
        ):
            return  # (a size over 64 KiB is past the chunk too)
        yield pos, size, number
        if number == last:
            return
        pos += size


def _tokens(node: bx.Root | bx.Template) -> Iterator[Any]:
    """python-evtx's tree of a fragment, node by node in the order of their tokens (an element
    before its children, an attribute before its value)."""
    open_: list[Iterator[Any]] = [iter(node.children())]
    while open_:
        for child in open_[-1]:
            yield child
            if child.__class__ is bx.Element or child.__class__ is bx.Attribute:
                open_.append(iter(child.children()))
                break
        else:
            open_.pop()


class _Start:
    """An element start being read: its name and attributes until the start closes."""

    __slots__ = ("attr", "attrs", "name", "nodes")

    def __init__(self, name: str) -> None:
        self.name, self.attrs, self.attr, self.nodes = name, [], None, []

    def finish(self) -> Element:
        if self.attr is not None and self.nodes:
            self.attrs.append((self.attr, self.nodes))
        return Element(self.name, self.attrs)


class ChunkDecoder:
    """Reads the records of one chunk (`buf`: its 64 KiB) from python-evtx's trees, checked against
    the token order pyevtx-rs accepts; compiles each template once (identity: this chunk and the
    template's offset)."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.chunk = bx.EvtxChunk(buf)
        self.templates: dict[int, Element] = {}
        self.plans: dict[int, Plan] = {}

    def record(self, start: int, size: int) -> El:
        """The root element of the record whose BinXml is `size` bytes at chunk offset `start`."""
        root = self.fragment(bx.Root(self.buf, start, self.chunk, size), 0)
        return root if isinstance(root, El) else resolve_one(root, ())

    def template(self, offset: int, depth: int) -> Element:
        compiled = self.templates.get(offset)
        if compiled is None:
            node = self.chunk.template_at(offset)
            if node.bound > len(self.buf):
                raise Undecodable
            root = self.fragment(node, depth)
            if not isinstance(root, Element):
                raise Undecodable
            compiled = self.templates[offset] = root
        return compiled

    def plan(self, offset: int) -> Plan:
        plan = self.plans.get(offset)
        if plan is None:
            plan = self.plans[offset] = Plan(self.template(offset, 0))
        return plan

    def fragment(self, node: bx.Root | bx.Template, depth: int) -> Element | El:
        """A fragment's root element (in a template, with its placeholders; else resolved) from
        python-evtx's nodes, put together as pyevtx-rs puts its tokens together (a stack of open
        elements; further roots of a record read and left out)."""
        if depth > MAX_NESTING or node.bound <= node.offset() + node.tag_length():
            raise Undecodable
        template = node.template
        stack: list[Element] = []
        start: _Start | None = None
        root: Element | El | None = None
        for token in _tokens(node):
            cls = token.__class__
            if cls is Nodes.EndOfStreamNode:
                break
            if cls is Nodes.StreamStartNode:
                continue
            if cls is bx.Element:
                if start is not None:
                    raise Undecodable
                start = _Start(token.tag_name())
            elif cls is bx.Attribute:
                name = self.chunk.name(token.string_offset())
                if start is None:
                    raise Undecodable
                if start.attr is not None and start.nodes:
                    start.attrs.append((start.attr, start.nodes))
                start.attr, start.nodes = name, []
            elif cls is Nodes.CloseStartElementNode:
                if start is None or len(stack) >= bx.MAX_DEPTH:
                    raise Undecodable
                stack.append(start.finish())
                start = None
            elif cls is Nodes.CloseEmptyElementNode:
                if start is None:
                    raise Undecodable
                root = _attach(start.finish(), stack, root, template)
                start = None
            elif cls is Nodes.CloseElementNode:
                if not stack:
                    raise Undecodable
                root = _attach(stack.pop(), stack, root, template)
            elif cls is bx.Instance:
                if template or start is not None:
                    raise Undecodable
                root = _attach(self.instance(token, depth), stack, root, template)
            elif cls is bx.Value and token.value.__class__ is tuple:  # a BinXml value: a fragment of its own
                if start is not None:
                    raise Undecodable
                if token.value[1] > token.value[0]:
                    root = _attach(self.nested(token.value, depth), stack, root, template)
            else:
                _push(self.text(token, template), start, stack)
        if start is not None or stack:
            raise Undecodable
        if root is None:
            if template:
                raise Undecodable
            return El("Event")  # an empty fragment: pyevtx-rs renders an empty Event
        return root

    def text(self, node: Any, template: bool) -> Any:
        """What a value-like node puts in an element or an attribute."""
        cls = node.__class__
        if cls is bx.Value:
            return node.value
        if cls is bx.Entity:
            return EntityRef(self.chunk.name(node.string_offset()))
        if cls is bx.Target:
            self.chunk.name(node.string_offset())  # the name must decode
            return PROCESSING
        if cls is bx.Data:
            return PROCESSING
        if node.type() not in VALID_TYPES or not template:  # a substitution, only in a template
            raise Undecodable
        return Placeholder(node.index(), cls is Nodes.ConditionalSubstitutionNode)

    def instance(self, node: bx.Instance, depth: int) -> El:
        """A template instance's root element with its values put in."""
        template = self.template(node.template_offset(), depth)
        resolved = [self.nested(v, depth) if v.__class__ is tuple else v for v in node.values]
        return resolve_one(template, resolved)

    def nested(self, span: tuple[int, int], depth: int) -> Any:
        """A BinXml value: its fragment's root element (an empty one is a NULL value)."""
        start, end = span
        if end == start:
            return Null
        root = self.fragment(bx.Root(self.buf, start, self.chunk, end - start), depth + 1)
        return root if isinstance(root, El) else resolve_one(root, ())

    # -- a record's System fields without its tree ---------------------------------------------
    def glance(self, start: int, size: int) -> tuple[str, str | None, str | None, str | None] | None:
        """(provider, event id, computer, time) of a record of the usual shape (one template
        instance, of a template whose System is plain), read where its template puts them; None:
        read it whole (`record`). Every value is decoded, and every embedded fragment checked,
        as reading it whole would: a record that does not decode raises `Undecodable` here too."""
        instance = self.single(start, size)
        if instance is None:
            return None
        plan = self.plan(instance.template_offset())
        if plan.places is None or not all(self._sound(span, 1) for span in spans(instance.values)):
            return None
        return plan.read(instance.values)

    def single(self, start: int, size: int) -> bx.Instance | None:
        """The template instance a fragment is made of (python-evtx's `RootNode.template_instance`),
        or None for a fragment of any other shape."""
        buf = self.buf
        if size < 1:
            return None
        if buf[start] == T_FRAGMENT_HEADER:
            if size < 6 or buf[start + 4] != T_TEMPLATE_INSTANCE:
                return None
        elif buf[start] != T_TEMPLATE_INSTANCE:
            return None
        instance = bx.Root(buf, start, self.chunk, size).template_instance()
        if instance.end < start + size and buf[instance.end] != T_END_OF_STREAM:
            return None
        return instance

    def _sound(self, span: tuple[int, int], depth: int) -> bool:
        """Whether an embedded fragment reads as one instance of a well-formed template (its
        values decoded); False: the record is read whole."""
        start, end = span
        if end == start:
            return True
        if depth > MAX_NESTING:
            return False
        instance = self.single(start, end - start)
        if instance is None:
            return False
        self.plan(instance.template_offset())  # the template must compile
        return all(self._sound(span, depth + 1) for span in spans(instance.values))


def _attach(element: Element | El, stack: list[Element], root: Element | El | None, template: bool) -> Any:
    """An element closed: into its parent, or the fragment's root (a template has one)."""
    if stack:
        stack[-1].children.append(element)
        return root
    if root is None:
        return element
    if template:
        raise Undecodable
    return root


def _push(node: Any, start: _Start | None, stack: list[Element]) -> None:
    """Text into the attribute being read (dropped before the first), else the open element."""
    if start is not None:
        if start.attr is not None:
            start.nodes.append(node)
        return
    if not stack:
        raise Undecodable
    stack[-1].children.append(node)


def read_chunk(
    buf: bytes, chunk: Chunk, file: str, wanted: dict[str, frozenset[str] | None] | None, coverage: Coverage | None
) -> Iterator[tuple[int, Event | RecordError]]:
    """(record-header number, event or why it is not one) for each record of one chunk that
    decodes. With `wanted` and `coverage`: a record of another provider (or code) is only
    counted, its computer and time going into `coverage` (read from where its template puts them,
    its values all decoded and judged as they would be whole)."""
    decoder = ChunkDecoder(buf)
    for pos, size, number in records(decoder, chunk.last, chunk.free_offset):
        try:
            if wanted is not None and coverage is not None:
                seen = decoder.glance(pos + 24, size - 28)
                if seen is not None:
                    provider, event_id, computer, stamp = seen
                    code = parse_number(event_id)
                    if not provider or code is None or not stamp:
                        raise RecordError(LACKS)
                    ids = wanted.get(provider, _NOT_KEPT)
                    if ids is _NOT_KEPT or (ids is not None and str(code) not in ids):
                        moment = parse_time(stamp)  # a time, not zero
                        if not _CANONICAL.fullmatch(stamp):  # else printed the canonical way already
                            stamp = moment.isoformat(timespec="microseconds")[:-6] + "Z"
                        coverage.note(_escape(computer or ""), stamp, number)
                        continue
            event = to_event(decoder.record(pos + 24, size - 28), file)
        except (Undecodable, ParseException, RecursionError):  # as pyevtx-rs: not returned, counted missing
            continue
        except RecordError as exc:
            yield number, exc
            continue
        except Exception as exc:  # python-evtx raises other types on damage: counted, with the type's name
            yield number, RecordError(f"python-evtx: {type(exc).__name__}")
            continue
        yield number, event


def decode_chunk(buf: bytes, chunk: Chunk, file: str) -> dict[int, Event | RecordError]:
    """Each record of a chunk that decodes, by its number (the first of a number given twice)."""
    found: dict[int, Event | RecordError] = {}
    for number, item in read_chunk(buf, chunk, file, None, None):
        found.setdefault(number, item)
    return found


def _escape(text: str) -> str:
    """As text stands in pyevtx-rs's XML (where the rust engine notes a computer's name)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def read(
    path: Path, file: str, layout: Layout, keep: Keep | None = None, coverage: Coverage | None = None
) -> Iterator[tuple[int, Event | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read), chunk by chunk.

    With `keep` and `coverage`, as in the rust engine: a record of another provider (or code) is
    only counted (its computer and time go into `coverage`)."""
    wanted = (
        {name: None if ids is None else frozenset(map(str, ids)) for name, ids in keep.items()}
        if keep is not None and coverage is not None
        else None
    )
    with path.open("rb") as fh:
        for chunk in layout.own:
            if not chunk.readable:
                continue
            fh.seek(chunk.offset)
            yield from read_chunk(fh.read(CHUNK_SIZE), chunk, file, wanted, coverage)


_NOT_KEPT = object()
