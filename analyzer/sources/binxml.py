"""BinXml decoding for the python engine: one chunk's records -> element trees, by pyevtx-rs's rules.

Both engines must read damaged records alike, so this decoder follows the rules of the evtx crate
that pyevtx-rs is built on (its `binxml/ir.rs`, `tokens.rs`, `value_variant.rs`), not a reading
of the format of its own:
- reads are bounded by the chunk, not by the record: a value or name that runs past its record's
  end is read on into the chunk; one that runs past the chunk's end makes the record undecodable;
- template instance values are read in sequence, each by its declared type; a value that reads
  fewer bytes than its declared size is skipped to its end, one that reads more leaves the next
  value reading from where it stopped;
- names are read at the chunk offset a reference gives (an inline definition is skipped only when
  the reference points right after itself);
- a template is compiled once per chunk and offset (never shared with another chunk);
- array values repeat their element once per item; unpaired UTF-16 surrogates are left out of
  text; names must decode strictly.
A record that does not decode raises `Undecodable`: pyevtx-rs does not return such a record, so
it is counted as missing, never as an event. The tree is what the rust engine reads from the XML
pyevtx-rs prints (names without namespaces, the first of an attribute given twice, an undefined
entity as its text): where that XML is not well formed (names damaged into non-names), the rust
engine reads the record with this decoder instead, so names need not be XML names.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from analyzer.sources.filling import PROCESSING, Element, EntityRef, Placeholder, Plan, resolve_one
from analyzer.sources.tables import layout_of, spans
from analyzer.sources.tree import El
from analyzer.sources.values import (
    VALID_TYPES,
    Null,
    Undecodable,
    decode_sized,
    decode_unsized,
    utf16_strict,
)

if TYPE_CHECKING:
    pass

MAX_NESTING = 64  # BinXml fragments within fragments (as pyevtx-rs)
MAX_DEPTH = 512  # open elements within one fragment

_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from


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
    """Decodes the records of one chunk (`buf`: its 64 KiB), compiling each template once."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.size = len(buf)
        self.names: dict[int, str] = {}
        self.templates: dict[int, Element] = {}
        self.plans: dict[int, Plan] = {}

    # -- reading ---------------------------------------------------------------------------
    def u8(self, at: int) -> int:
        if at >= self.size:
            raise Undecodable
        return self.buf[at]

    def u16(self, at: int) -> int:
        if at + 2 > self.size:
            raise Undecodable
        return _U16(self.buf, at)[0]

    def u32(self, at: int) -> int:
        if at + 4 > self.size:
            raise Undecodable
        return _U32(self.buf, at)[0]

    def name_at(self, offset: int) -> str:
        """The name whose string entry is at `offset`: count, UTF-16 units, NUL (all in the chunk)."""
        name = self.names.get(offset)
        if name is None:
            at = offset + 6
            count = self.u16(at)
            end = at + 2 + 2 * count
            if end + 2 > self.size:
                raise Undecodable
            name = self.names[offset] = utf16_strict(self.buf[at + 2 : end])
        return name

    def name_ref(self, pos: int) -> tuple[str, int]:
        """The name a reference at `pos` points to, and the position after the reference (and
        after the name's definition, when it follows inline)."""
        offset = self.u32(pos)
        pos += 4
        if pos == offset:
            count = self.u16(pos + 6)
            pos += 6 + ((count * 2) & 0xFFFF) + 4  # as pyevtx-rs computes it (16-bit product)
            if pos > self.size:
                raise Undecodable
        return self.name_at(offset), pos

    # -- records ---------------------------------------------------------------------------
    def record(self, start: int, size: int) -> El:
        """The root element of the record whose BinXml is `size` bytes at chunk offset `start`."""
        root = self.fragment(start, size, template=False, depth=0)
        return root if isinstance(root, El) else resolve_one(root, ())

    def template(self, offset: int, depth: int) -> Element:
        compiled = self.templates.get(offset)
        if compiled is None:
            self.u32(offset)
            size = self.u32(offset + 20)
            start = offset + 24
            if start + size > self.size:
                raise Undecodable
            root = self.fragment(start, size, template=True, depth=depth)
            if not isinstance(root, Element):
                raise Undecodable
            compiled = self.templates[offset] = root
        return compiled

    def values(self, pos: int) -> tuple[int, Any, int]:
        """The template instance whose token ends at `pos`: its template's offset, its values (a
        BinXml value as its span) and the position after them."""
        if pos + 9 > self.size:
            raise Undecodable
        definition = _U32(self.buf, pos + 5)[0]
        pos += 9
        if pos == definition:  # the definition follows inline: skip it
            pos += 24 + self.u32(pos + 20)
        count = self.u32(pos)
        pos += 4
        if pos + 4 * count > self.size:
            raise Undecodable
        table = self.buf[pos : pos + 4 * count]
        pos += 4 * count
        layout = layout_of(table)
        if layout.total is not None:
            found = layout.read(self.buf, pos)
            if found is not None:
                return definition, found, pos + layout.total
        values, end = self._values(table, pos)
        return definition, values, end

    def _values(self, table: bytes, pos: int) -> tuple[list[Any], int]:
        """Values read one after the other, as pyevtx-rs reads them (any table)."""
        count = len(table) // 4
        declared = struct.unpack_from(f"<{2 * count}H", table) if count else ()
        values: list[Any] = []
        buf, limit = self.buf, self.size
        for i in range(count):
            size, type_ = declared[2 * i], declared[2 * i + 1] & 0xFF
            if type_ not in VALID_TYPES:
                raise Undecodable
            before = pos
            value, pos = decode_sized(buf, pos, type_, size)
            if value is Null:
                pos += size
            if pos < before + size:
                pos = before + size
            if pos > limit:
                raise Undecodable
            values.append(value)
        return values, pos

    def instance(self, pos: int, depth: int) -> tuple[El, int]:
        """Instantiate the template instance whose token ends at `pos`; returns its root element
        and the position after its values."""
        definition, values, pos = self.values(pos)
        template = self.template(definition, depth)
        resolved = [self._nested(v, depth) if v.__class__ is tuple else v for v in values]
        return resolve_one(template, resolved), pos

    # -- a record's System fields without its tree ---------------------------------------------
    def glance(self, pos: int, size: int) -> tuple[str, str | None, str | None, str | None] | None:
        """(provider, event id, computer, time) of a record of the usual shape (one template
        instance, of a template whose System is plain), read where its template puts them; None:
        read it whole (`record`). Every value is decoded, and every embedded fragment checked,
        as reading it whole would: a record that does not decode raises `Undecodable` here too."""
        instance = self._single(pos, size)
        if instance is None:
            return None
        definition, values = instance
        plan = self.plan(definition)
        if plan.places is None or not all(self._sound(span, 1) for span in spans(values)):
            return None
        return plan.read(values)

    def _single(self, pos: int, size: int) -> tuple[int, list[Any]] | None:
        """(template offset, values) of a fragment that is one template instance, else None."""
        buf = self.buf
        if size < 1:
            return None
        at = pos
        if buf[at] == 0x0F:
            if size < 6 or buf[at + 4] != 0x0C:
                return None
            at += 4
        elif buf[at] != 0x0C:
            return None
        definition, values, end = self.values(at + 1)
        if end < pos + size and buf[end] != 0x00:
            return None
        return definition, values

    def _sound(self, span: tuple[int, int], depth: int) -> bool:
        """Whether an embedded fragment reads as one instance of a well-formed template (its
        values decoded); False: the record is read whole."""
        start, end = span
        if end == start:
            return True
        if depth > MAX_NESTING:
            return False
        instance = self._single(start, end - start)
        if instance is None:
            return False
        definition, values = instance
        self.plan(definition)  # the template must compile
        return all(self._sound(span, depth + 1) for span in spans(values))

    def plan(self, offset: int) -> Plan:
        plan = self.plans.get(offset)
        if plan is None:
            plan = self.plans[offset] = Plan(self.template(offset, 0))
        return plan

    def _nested(self, span: tuple[int, int], depth: int) -> Any:
        """A BinXml value: its fragment's root element (an empty one is a NULL value)."""
        start, end = span
        if end == start:
            return Null
        root = self.fragment(start, end - start, template=False, depth=depth + 1)
        return root if isinstance(root, El) else resolve_one(root, ())

    def fragment(self, pos: int, size: int, template: bool, depth: int) -> Element | El:
        """Read BinXml tokens from `pos` until an end-of-stream token or `size` bytes; the root
        element (in a template, with its placeholders; else resolved)."""
        if depth > MAX_NESTING or size == 0:
            raise Undecodable
        stack: list[Element] = []
        start: _Start | None = None
        root: Element | El | None = None
        done = 0
        while done < size:
            at = pos
            token = self.u8(pos)
            pos += 1
            if token == 0x00:
                break
            if token in (0x01, 0x41):
                if start is not None:
                    raise Undecodable
                if template:
                    pos += 2
                self.u32(pos)
                name, pos = self.name_ref(pos + 4)
                if token == 0x41:
                    self.u32(pos)
                    pos += 4
                start = _Start(name)
            elif token in (0x06, 0x46):
                name, pos = self.name_ref(pos)
                if start is None:
                    raise Undecodable
                if start.attr is not None and start.nodes:
                    start.attrs.append((start.attr, start.nodes))
                start.attr, start.nodes = name, []
            elif token == 0x02:
                if start is None or len(stack) >= MAX_DEPTH:
                    raise Undecodable
                stack.append(start.finish())
                start = None
            elif token == 0x03:
                if start is None:
                    raise Undecodable
                root = self._attach(start.finish(), stack, root, template)
                start = None
            elif token == 0x04:
                if not stack:
                    raise Undecodable
                root = self._attach(stack.pop(), stack, root, template)
            elif token in (0x05, 0x45):
                type_ = self.u8(pos)
                if type_ not in VALID_TYPES:
                    raise Undecodable
                value, pos = decode_unsized(self.buf, pos + 1, type_)
                if isinstance(value, tuple):  # BinXml: a fragment of its own
                    if start is not None:
                        raise Undecodable
                    if value[1] > value[0]:
                        root = self._attach(self._nested(value, depth), stack, root, template)
                else:
                    self._push(value, start, stack)
            elif token in (0x09, 0x49):
                name, pos = self.name_ref(pos)
                self._push(EntityRef(name), start, stack)
            elif token == 0x0C:
                if template or start is not None:
                    raise Undecodable
                element, pos = self.instance(pos, depth)
                root = self._attach(element, stack, root, template)
            elif token in (0x0D, 0x0E):
                index = self.u16(pos)
                if self.u8(pos + 2) not in VALID_TYPES or not template:
                    raise Undecodable
                pos += 3
                self._push(Placeholder(index, token == 0x0E), start, stack)
            elif token == 0x0F:
                self.u16(pos + 1)
                pos += 3
            elif token == 0x0A:  # a processing instruction's target: it has no text here
                _, pos = self.name_ref(pos)
                self._push(PROCESSING, start, stack)
            elif token == 0x0B:  # and its data
                count = self.u16(pos)
                pos += 2 + 2 * count
                if pos > self.size:
                    raise Undecodable
                self._push(PROCESSING, start, stack)
            else:  # CDATA and character references are not implemented in pyevtx-rs either
                raise Undecodable
            done += pos - at
        if start is not None or stack:
            raise Undecodable
        if root is None:
            if template:
                raise Undecodable
            return El("Event")  # an empty fragment: pyevtx-rs renders an empty Event
        return root

    @staticmethod
    def _attach(
        element: Element | El, stack: list[Element], root: Element | El | None, template: bool
    ) -> Element | El | None:
        if stack:
            stack[-1].children.append(element)
            return root
        if root is None:
            return element
        if template:
            raise Undecodable  # a template has one root
        return root  # further roots of a record are ignored

    @staticmethod
    def _push(node: Any, start: _Start | None, stack: list[Element]) -> None:
        if start is not None:
            if start.attr is not None:
                start.nodes.append(node)
            return
        if not stack:
            raise Undecodable
        stack[-1].children.append(node)
