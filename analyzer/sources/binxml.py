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

import re
import struct
from typing import TYPE_CHECKING, Any

from analyzer.sources.tree import El
from analyzer.sources.values import (
    VALID_TYPES,
    WIDTH,
    Arr,
    Lazy,
    Null,
    Undecodable,
    check,
    decode_sized,
    decode_unsized,
    utf16_strict,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_NESTING = 64  # BinXml fragments within fragments (as pyevtx-rs)
MAX_DEPTH = 512  # open elements within one fragment
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_CHARACTER = re.compile(r"#(?:x([0-9A-Fa-f]+)|([0-9]+))")

_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from


class Placeholder:
    __slots__ = ("index", "optional")

    def __init__(self, index: int, optional: bool) -> None:
        self.index, self.optional = index, optional


class _Processing:
    """A processing instruction's part: no text in an event."""

    __slots__ = ()


PROCESSING = _Processing()


class EntityRef:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Element:
    """An element of a template or fragment before its values are put in (children: text, Null,
    Arr, Placeholder, EntityRef, Element, or an El already resolved)."""

    __slots__ = ("attrs", "children", "name", "xmlns")

    def __init__(self, name: str, attrs: list[tuple[str, list[Any]]]) -> None:
        self.name, self.attrs, self.children = name, attrs, []
        self.xmlns = any(a == "xmlns" or a.startswith("xmlns:") for a, _ in attrs)


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
        return root if isinstance(root, El) else self.resolve_one(root, ())

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
        layout = _LAYOUTS.get(table)
        if layout is None:
            if len(_LAYOUTS) > 4096:  # bound the memory on logs of very varied records
                _LAYOUTS.clear()
            layout = _LAYOUTS[table] = Layout.of(table)
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
        return self.resolve_one(template, resolved), pos

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
        if plan.places is None or not all(self._sound(span, 1) for span in _spans(values)):
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
        return all(self._sound(span, depth + 1) for span in _spans(values))

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
        return root if isinstance(root, El) else self.resolve_one(root, ())

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

    # -- resolving -------------------------------------------------------------------------
    def resolve_one(self, element: Element, values: Any) -> El:
        """`element` with its placeholders filled (the first of its copies, when an array value
        repeats it: a root element is never repeated)."""
        return self.resolve(element, values, 0)[0]

    def resolve(self, element: Element, values: Any, depth: int) -> list[El]:
        """`element` with its placeholders filled, as the rust engine's XML parser sees it once
        pyevtx-rs has printed it (several copies when an array value repeats it)."""
        count = len(values)
        arrays = False
        attrs: list[tuple[str, list[Any]]] = []
        for name, nodes in element.attrs:
            out: list[Any] = []
            for node in nodes:
                if node.__class__ is not Placeholder:
                    out.append(node)
                elif node.index < count:
                    value = values[node.index]
                    if node.optional and _empty(value):
                        continue
                    arrays = arrays or (value.__class__ is Arr and value.count > 1)
                    out.append(value)
            if out:
                attrs.append((name, out))
        children: list[Any] = []
        for node in element.children:
            cls = node.__class__
            if cls is Element:
                children += self.resolve(node, values, depth + 1)
            elif cls is Placeholder:
                if node.index >= count:
                    continue
                value = values[node.index]
                if node.optional and _empty(value):
                    continue
                arrays = arrays or (value.__class__ is Arr and value.count > 1)
                children.append(value)
            else:
                children.append(node)
        if arrays:
            return [_build(element, a, c) for a, c in _expand(attrs, children)]
        return [_build(element, attrs, children)]


def _entity(name: str) -> str:
    """An entity reference's text: a predefined one's character, a character reference's
    character, else the reference as pyevtx-rs prints it."""
    text = _PREDEFINED.get(name)
    if text is not None:
        return text
    number = _CHARACTER.fullmatch(name)
    if number:
        code = int(number[1], 16) if number[1] else int(number[2])
        if code <= 0x10FFFF:
            return chr(code)
    return f"&{name};"


def _empty(value: Any) -> bool:
    """Whether a value is empty (an optional substitution of it drops out)."""
    cls = value.__class__
    if cls is Lazy:
        return value.empty()
    return value is Null or value == "" or (cls is Arr and not value.count)


def _text(node: Any) -> str:
    if node.__class__ is str:
        return node
    if node.__class__ is Lazy:
        return node.text()
    if node.__class__ is Arr:
        return node.joined()
    if node.__class__ is EntityRef:
        return _entity(node.name)
    return ""  # Null, an element in an attribute, a processing instruction's parts


def _expand(attrs: list[tuple[str, list[Any]]], children: list[Any]) -> list[tuple[list[Any], list[Any]]]:
    """MS-EVEN6 array substitution: the element repeated once per item of its first array value
    of more than one item (children first, then attributes), recursively."""
    for i, node in enumerate(children):
        if isinstance(node, Arr) and node.count > 1:
            out = []
            for item in node.items:
                copy = [*children[:i], *([] if item is None else [item]), *children[i + 1 :]]
                out += _expand(attrs, copy)
            return out
    for a, (name, nodes) in enumerate(attrs):
        for i, node in enumerate(nodes):
            if isinstance(node, Arr) and node.count > 1:
                out = []
                for item in node.items:
                    value = [*nodes[:i], *([] if item is None else [item]), *nodes[i + 1 :]]
                    copy = [*attrs[:a], *([(name, value)] if value else []), *attrs[a + 1 :]]
                    out += _expand(copy, children)
                return out
    return [(attrs, children)]


def _build(element: Element, attrs: list[tuple[str, list[Any]]], children: list[Any]) -> El:
    """The element as the rust engine sees it once pyevtx-rs has printed it and lxml has parsed it
    (names without their namespace: both engines ignore namespaces)."""
    built = El(element.name)
    into = built.attrs
    for name, nodes in attrs:
        if name not in into:  # an attribute given twice: the first counts (as the rust engine reads it)
            into[name] = nodes[0] if len(nodes) == 1 and nodes[0].__class__ is str else "".join(map(_text, nodes))
    if element.xmlns:
        for declaration in [a for a in into if a == "xmlns" or a.startswith("xmlns:")]:
            del into[declaration]  # namespace declarations are not attributes
    out = built.children
    for child in children:
        if child.__class__ is str:
            if child:
                out.append(child)
        elif child.__class__ is El:
            out.append(child)
        else:
            text = _text(child)
            if text:
                out.append(text)
    return built


class Layout:
    """Where each value of a template instance lies, for one value table (the table's bytes),
    when that does not depend on the values themselves: values of a fixed size, strings,
    binaries, embedded fragments (`total`: how far the values reach; None: read them one by one).
    String arrays, SIDs and arrays are decoded for each record (they must end within their size);
    times are checked for each record (pyevtx-rs cannot represent some)."""

    __slots__ = ("checks", "decoded", "entries", "spans", "total")

    def __init__(self, entries: list[tuple[int, int, int]], total: int | None) -> None:
        self.entries, self.total = entries, total  # (type, offset, size read)
        self.checks = [i for i, (t, _, _) in enumerate(entries) if t in (0x11, 0x12)]
        self.decoded = [i for i, (t, _, _) in enumerate(entries) if t in (0x13, 0x81) or (t & 0x80 and t != 0x81)]
        self.spans = [i for i, (t, _, _) in enumerate(entries) if t == 0x21]

    @classmethod
    def of(cls, table: bytes) -> Layout:
        count = len(table) // 4
        declared = struct.unpack_from(f"<{2 * count}H", table) if count else ()
        entries, at = [], 0
        for i in range(count):
            size, type_ = declared[2 * i], declared[2 * i + 1] & 0xFF
            width = WIDTH.get(type_)
            if width is not None:
                entries.append((type_, at, width))
                at += max(width, size)
                continue
            item = WIDTH.get(type_ & 0x7F) if type_ & 0x80 else None
            fixed = type_ in (0x00, 0x02, 0x0E, 0x21, 0x81, 0x13) or (type_ == 0x01 and not size & 1)
            if not (fixed or (item and not size % item)):
                return cls([], None)  # SizeT, odd strings, handles, unknown types: one by one
            entries.append((type_, at, size))
            at += size
        return cls(entries, at)

    def read(self, buf: bytes, start: int) -> Values | None:
        """The values of an instance whose values start at `start`; None if one of them does not
        end within its declared size (then they are read one by one)."""
        if start + (self.total or 0) > len(buf):
            raise Undecodable
        entries, known = self.entries, {}
        for i in self.checks:
            type_, at, width = entries[i]
            check(type_, buf[start + at : start + at + width])
        for i in self.decoded:
            type_, at, size = entries[i]
            value, end = decode_sized(buf, start + at, type_, size)
            if end > start + at + size:
                return None
            known[i] = value
        return Values(buf, start, self, known)


class Values:
    """A record's values where its layout puts them, each made when asked for."""

    __slots__ = ("buf", "known", "layout", "start")

    def __init__(self, buf: bytes, start: int, layout: Layout, known: dict[int, Any]) -> None:
        self.buf, self.start, self.layout, self.known = buf, start, layout, known

    def __len__(self) -> int:
        return len(self.layout.entries)

    def __getitem__(self, index: int) -> Any:
        value = self.known.get(index)
        if value is not None:
            return value
        type_, at, size = self.layout.entries[index]
        at += self.start
        if type_ == 0x00:
            return Null
        if type_ == 0x21:
            return (at, at + size)
        return Lazy(type_, self.buf[at : at + size]) if size else ""

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self.layout.entries)))

    def spans(self) -> list[tuple[int, int]]:
        return [self[i] for i in self.layout.spans]


_LAYOUTS: dict[bytes, Layout] = {}  # by value table: the same in every chunk


def _spans(values: Any) -> list[tuple[int, int]]:
    """The embedded fragments among a record's values."""
    return values.spans() if values.__class__ is Values else [v for v in values if v.__class__ is tuple]


class Plan:
    """What a template tells without its values: where its System fields come from (`places`:
    the nodes of Provider/@Name, EventID, Computer and TimeCreated/@SystemTime), when its System
    holds no substitution of its own and none comes before it, and those attributes are given once
    (else None: such records are read whole)."""

    def __init__(self, root: Element) -> None:
        self.places: tuple[list[Any] | str | None, ...] | None = None
        system = None
        for node in root.children:
            if node.__class__ is Element and node.name == "System":
                system = node
                break
            if node.__class__ in (Placeholder, El):
                return
        if system is None or any(n.__class__ in (Placeholder, El) for n in system.children):
            return
        first: dict[str, Element] = {}
        for node in system.children:
            if node.__class__ is Element:
                first.setdefault(node.name, node)
        provider, created = first.get("Provider"), first.get("TimeCreated")
        event_id, computer = first.get("EventID"), first.get("Computer")
        names = [a for a, _ in provider.attrs] if provider else []
        stamps = [a for a, _ in created.attrs] if created else []
        if names.count("Name") > 1 or stamps.count("SystemTime") > 1:
            return
        places = (
            dict(provider.attrs).get("Name") if provider else None,
            [n for n in event_id.children if n.__class__ is not Element] if event_id else None,
            [n for n in computer.children if n.__class__ is not Element] if computer else None,
            dict(created.attrs).get("SystemTime") if created else None,
        )
        # A place of literal text only is that text whatever the values (an attribute has some).
        self.places = tuple(
            "".join(map(_text, nodes)) if nodes and all(n.__class__ is str for n in nodes) else nodes
            for nodes in places
        )

    def read(self, values: Any) -> tuple[str, str | None, str | None, str | None] | None:
        """The System fields' text for these values (None for an absent one); None if an array
        value would repeat one of their elements (the record is then read whole)."""
        found: list[str | None] = []
        try:
            for i, nodes in enumerate(self.places or ()):
                if nodes is None or nodes.__class__ is str:
                    found.append(nodes)  # absent, or text that no value changes
                elif len(nodes) == 1 and nodes[0].__class__ is Placeholder:
                    found.append(_one(nodes[0], values, attribute=i in (0, 3)))  # the usual place
                else:
                    found.append(_joined(nodes, values, attribute=i in (0, 3)))
        except _Repeated:
            return None
        provider, event_id, computer, created = found
        return provider or "", event_id, computer, created


def _one(node: Placeholder, values: Any, attribute: bool) -> str | None:
    """The text of a place that is one substitution."""
    if node.index >= len(values):
        return None if attribute else ""
    value = values[node.index]
    cls = value.__class__
    if cls is Lazy:
        if node.optional and value.empty():
            return None if attribute else ""
        return value.text()
    if cls is Arr and value.count > 1:
        raise _Repeated
    if node.optional and _empty(value):
        return None if attribute else ""
    return _text(value)


class _Repeated(Exception):
    """An array value of several items: its element would be repeated."""


def _joined(nodes: list[Any] | None, values: list[Any], attribute: bool) -> str | None:
    """The text of an element's (or an attribute's) nodes with these values; None when absent
    (an attribute whose every part dropped out is not printed)."""
    if nodes is None:
        return None
    parts: list[Any] = []
    for node in nodes:
        if node.__class__ is not Placeholder:
            parts.append(node)
            continue
        if node.index >= len(values):
            continue
        value = values[node.index]
        if value.__class__ is Arr and value.count > 1:
            raise _Repeated
        if node.optional and _empty(value):
            continue
        parts.append(value)
    if attribute and not parts:
        return None
    return "".join(map(_text, parts))
