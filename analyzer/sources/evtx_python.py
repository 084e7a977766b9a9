"""The `python` engine: python-evtx parses chunks, records and templates; values are decoded here.

python-evtx's own renderer (`Record.xml()`) is not used, because on real logs it
(see ../shared/reference/parsers.md):
- stops at the file header's chunk count, which is stale in dirty logs
  -> every chunk found by `layout.scan` is walked instead;
- fails whole files on its issue #40 (`NullTypeNode` has no `find_end_of_stream`,
  hit by a template value of type NULL) -> the missing method is added below;
- garbles or raises on string arrays holding a UTF-16 unit whose low byte is 0
  (一, Ā, emoji) and moves a leading empty string -> arrays are decoded here;
- decodes strings with a BOM-sniffing codec, and renders FILETIMEs through a
  float -> values are decoded from their raw bytes here.
Templates are compiled once per chunk into a plan and reused for every record.
Values are rendered as text exactly as the rust engine renders them, so both
engines give identical events.
"""

from __future__ import annotations

import logging
import struct
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from Evtx import Nodes
from Evtx.Evtx import ChunkHeader

from analyzer.errors import RecordError
from analyzer.events import FILETIME_EPOCH
from analyzer.sources.tree import El, to_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from analyzer.events import Event
    from analyzer.sources.evtx_rust import Coverage, Keep
    from analyzer.sources.layout import Layout

# python-evtx logs warnings of its own on damaged chunks; damage is reported by the reader instead.
logging.getLogger("Evtx").addHandler(logging.NullHandler())
logging.getLogger("Evtx").propagate = False

# python-evtx issue #40: a NULL-typed value node lacks this method, failing whole files.
Nodes.NullTypeNode.find_end_of_stream = lambda self: None  # type: ignore[attr-defined]

MAX_NESTING = 8
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_INT_FORMATS = {
    0x03: "<b",
    0x04: "<B",
    0x05: "<h",
    0x06: "<H",
    0x07: "<i",
    0x08: "<I",
    0x09: "<q",
    0x0A: "<Q",
}
_ITEM_SIZES = {
    0x03: 1,
    0x04: 1,
    0x05: 2,
    0x06: 2,
    0x07: 4,
    0x08: 4,
    0x09: 8,
    0x0A: 8,
    0x0B: 4,
    0x0C: 8,
    0x0D: 4,
    0x0F: 16,
    0x11: 8,
    0x12: 16,
    0x14: 4,
    0x15: 8,
}
STRING_ARRAY = 0x81
BINXML = 0x21

# A compiled template: a list of parts; a part is literal text, a substitution index,
# or an element (name, [(attribute, parts)], parts).
Part = Any


def _utf16(raw: bytes) -> str:
    """UTF-16LE up to the first NUL unit; invalid units become U+FFFD (as in the rust engine)."""
    for i in range(0, len(raw) - 1, 2):
        if raw[i] == 0 and raw[i + 1] == 0:
            raw = raw[:i]
            break
    return raw[: len(raw) & ~1].decode("utf-16-le", "replace")


def _ansi(raw: bytes) -> str:
    raw = raw.split(b"\0", 1)[0]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in raw)


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _filetime(raw: bytes) -> str:
    ticks = struct.unpack("<Q", raw)[0]
    return _time(FILETIME_EPOCH + timedelta(microseconds=ticks // 10))


def _systemtime(raw: bytes) -> str:
    y, mo, _, d, h, mi, s, ms = struct.unpack("<8H", raw)
    return _time(datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC))


def _guid(raw: bytes) -> str:
    a, b, c = struct.unpack_from("<IHH", raw)
    rest = raw[8:].hex().upper()
    return f"{a:08X}-{b:04X}-{c:04X}-{rest[:4]}-{rest[4:]}"


def _sid(raw: bytes) -> str:
    revision, count = raw[0], raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", raw, 8)
    return "-".join(["S", str(revision), str(authority), *map(str, subs)])


def _float(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def format_value(type_: int, raw: bytes) -> str | None:
    """A substitution value as the text the rust engine renders; None for NULL."""
    if type_ == 0x00:
        return None
    if type_ == 0x01:
        return _utf16(raw)
    if type_ == 0x02:
        return _ansi(raw)
    if type_ in _INT_FORMATS:
        return str(struct.unpack(_INT_FORMATS[type_], raw)[0])
    if type_ in (0x0B, 0x0C):
        return _float(struct.unpack("<f" if type_ == 0x0B else "<d", raw)[0])
    if type_ == 0x0D:  # the rust engine prints irregular booleans (not 0 or 1) as numbers
        number = struct.unpack("<i", raw)[0]
        return {0: "false", 1: "true"}.get(number, str(number))
    if type_ == 0x0E:
        return raw.hex().upper()
    if type_ == 0x0F:
        return _guid(raw)
    if type_ in (0x10, 0x14, 0x15):
        return hex(int.from_bytes(raw, "little"))
    if type_ == 0x11:
        return _filetime(raw)
    if type_ == 0x12:
        return _systemtime(raw)
    if type_ == 0x13:
        return _sid(raw)
    if type_ == STRING_ARRAY:
        return ",".join(string_array(raw))
    if type_ & 0x80 and (type_ & 0x7F) in _ITEM_SIZES:
        size = _ITEM_SIZES[type_ & 0x7F]
        items = [raw[i : i + size] for i in range(0, len(raw) - size + 1, size)]
        return ",".join(format_value(type_ & 0x7F, item) or "" for item in items)
    raise RecordError(f"unsupported value type 0x{type_:02x}")


def string_array(raw: bytes) -> list[str]:
    """NUL-terminated UTF-16LE strings, decoded unit-wise (python-evtx scans bytes and breaks on 一)."""
    text = raw[: len(raw) & ~1].decode("utf-16-le", "replace")
    items = text.split("\0")
    if items and items[-1] == "":
        items.pop()
    return items


_PREFIXED = {0x01: (2, 2), 0x02: (2, 1), 0x0E: (4, 1), STRING_ARRAY: (2, 1)}  # type: (prefix, unit)


def _literal(node: Any) -> str | None:
    """A value token's text, decoded from its raw bytes like a substitution value."""
    type_, start = node.type(), node.offset() + 2
    buf = node._buf
    if type_ in _PREFIXED:
        prefix, unit = _PREFIXED[type_]
        count = int.from_bytes(buf[start : start + prefix], "little")
        return format_value(type_, bytes(buf[start + prefix : start + prefix + count * unit]))
    if type_ == 0x00:
        return None
    value = node.value()
    return format_value(type_, bytes(buf[start : start + value.tag_length()]))


def _compile(node: Any) -> list[Part]:
    """python-evtx template nodes -> parts (done once per template per chunk)."""
    parts: list[Part] = []
    for child in node.children():
        if isinstance(child, Nodes.OpenStartElementNode):
            attrs, body = [], []
            for grandchild in child.children():
                if isinstance(grandchild, Nodes.AttributeNode):
                    attrs.append((grandchild.attribute_name().string(), _compile(grandchild)))
            body = _compile(child)
            parts.append((child.tag_name(), attrs, body))
        elif isinstance(child, (Nodes.NormalSubstitutionNode, Nodes.ConditionalSubstitutionNode)):
            parts.append(child.index())
        elif isinstance(child, Nodes.ValueNode):
            text = _literal(child)
            if text:
                parts.append(text)
        elif isinstance(child, Nodes.CDataSectionNode):
            parts.append(child.cdata())
        elif isinstance(child, Nodes.CharacterReferenceNode):
            parts.append(chr(child.entity()))
        elif isinstance(child, Nodes.EntityReferenceNode):
            parts.append(_ENTITIES.get(child.entity_reference().strip("&;"), ""))
    return parts


def _places(plan: list[Part]) -> tuple[str | int, ...]:
    """Where a template puts Provider/@Name, EventID, Computer, TimeCreated/@SystemTime and
    EventRecordID: each a
    literal or one substitution index; () if any of them is built in another way."""

    def single(parts: list[Part]) -> str | int | None:
        return parts[0] if len(parts) == 1 and isinstance(parts[0], (str, int)) else None

    event = next((p for p in plan if isinstance(p, tuple) and p[0] == "Event"), None)
    system = next((p for p in event[2] if isinstance(p, tuple) and p[0] == "System"), None) if event else None
    if system is None:
        return ()
    children = {p[0]: p for p in system[2] if isinstance(p, tuple)}
    try:
        provider = single(dict(children["Provider"][1])["Name"])
        event_id = single(children["EventID"][2])
        computer = single(children["Computer"][2])
        created = single(dict(children["TimeCreated"][1])["SystemTime"])
        record = single(children["EventRecordID"][2])
    except KeyError:
        return ()
    found = (provider, event_id, computer, created, record)
    return () if any(p is None for p in found) else found  # type: ignore[return-value]


class _SafeChunkHeader(ChunkHeader):
    """python-evtx's chunk header, with the string and template hash chains walked without
    following a link twice (a crafted chain that loops made python-evtx spin forever)."""

    def _chains(self, table: int, buckets: int) -> Iterator[int]:
        for i in range(buckets):
            ofs, seen = self.unpack_dword(table + i * 4), set()
            while 0 < ofs < 0x10000 and ofs not in seen:
                seen.add(ofs)
                yield ofs
                ofs = self.unpack_dword(ofs)  # both chains link through their first dword

    def _load_strings(self) -> None:
        if self._strings is None:
            self._strings = {}
        for ofs in self._chains(0x80, 64):
            self.add_string(ofs)

    def _load_templates(self) -> None:
        if self._templates is None:
            self._templates = {}
        for ofs in self._chains(0x180, 32):
            if ofs >= 10 and self.unpack_byte(ofs - 10) == 0x0C and self.unpack_dword(ofs - 4) == ofs:
                self.add_template(ofs)


class _ChunkReader:
    """Decodes the records of one chunk, compiling each template once."""

    def __init__(self, buf: bytes, offset: int, shared: dict[bytes, list[Part]] | None = None) -> None:
        self.buf = buf
        self.shared: dict[bytes, list[Part]] = shared if shared is not None else {}
        self.offset = offset
        self.header = _SafeChunkHeader(buf, offset)
        self.plans: dict[int, list[Part]] = {}
        self.places: dict[int, tuple[str | int, ...]] = {}

    def _plan(self, template_offset: int) -> list[Part]:
        plan = self.plans.get(template_offset)
        if plan is None:
            if not 0x200 <= template_offset < 0x10000 - 0x18:
                raise RecordError("template offset outside the chunk")
            at = self.offset + template_offset
            # A template's GUID and size identify it across the chunks of one file (each chunk
            # repeats the definition with its own name offsets): compile it once per file.
            key = bytes(self.buf[at + 4 : at + 0x18])
            plan = self.shared.get(key)
            if plan is None:
                node = Nodes.TemplateNode(self.buf, at, self.header, self.header)
                plan = self.shared[key] = _compile(node)
            self.plans[template_offset] = plan
        return plan

    def fragment(self, pos: int, end: int, depth: int = 0) -> list[El | str]:
        """Render the BinXml fragment at absolute `pos` (a template instance and its values)."""
        if depth > MAX_NESTING:
            raise RecordError("BinXml nested too deeply")
        buf = self.buf
        if buf[pos] & 0x0F == 0x0F:
            pos += 4
        if buf[pos] & 0x0F != 0x0C:  # plain BinXml (forwarded events): python-evtx misreads it
            return _PlainFragment(buf, self.offset, end).parse(pos)
        template_offset, values = self._instance(pos, end)
        rendered: list[El | str] = []
        self._render(self._plan(template_offset), values, rendered, depth)
        return rendered

    def glance(self, pos: int, end: int) -> tuple[str, str, str, str] | None:
        """(provider, event id, computer, time) of a record without rendering it, from where its
        template says they are; None when the template does not say (then render it). Only the
        substitution sizes are read, and only the values needed are decoded."""
        buf = self.buf
        if buf[pos] & 0x0F == 0x0F:
            pos += 4
        if buf[pos] & 0x0F != 0x0C:
            return None
        template_offset = struct.unpack_from("<I", buf, pos + 6)[0]
        pos += 10
        if template_offset == pos - self.offset:
            pos += 0x18 + struct.unpack_from("<I", buf, pos + 0x14)[0]
        where = self.places.get(template_offset)
        if where is None:
            where = self.places[template_offset] = _places(self._plan(template_offset))
        if not where:
            return None
        count = struct.unpack_from("<I", buf, pos)[0]
        if pos + 4 + 4 * count > end:
            raise RecordError("substitution table overruns the record")
        declared = struct.unpack_from(f"<{2 * count}H", buf, pos + 4)
        sizes = declared[0::2]
        starts = [pos + 4 + 4 * count, *accumulate(sizes, initial=pos + 4 + 4 * count)][1:]
        found = []
        for part in where:
            if isinstance(part, str):
                found.append(part)
            elif part < count:
                start = starts[part]
                stop = start + sizes[part]
                if stop > end:
                    raise RecordError("substitution value overruns the record")
                found.append(format_value(declared[2 * part + 1] & 0xFF, bytes(buf[start:stop])) or "")
            else:
                found.append("")
        if not (found[0] and found[3] and found[4].isdigit()):
            return None  # not a whole event: let the full path judge it
        return found[0], found[1], found[2], found[3]

    def _instance(self, pos: int, end: int) -> tuple[int, list[tuple[int, int, int]]]:
        """The template offset and (type, start, end) of each value of the template instance at `pos`."""
        buf = self.buf
        template_offset = struct.unpack_from("<I", buf, pos + 6)[0]
        pos += 10
        if template_offset == pos - self.offset:  # definition follows inline: skip it
            pos += 0x18 + struct.unpack_from("<I", buf, pos + 0x14)[0]
        count = struct.unpack_from("<I", buf, pos)[0]
        pos += 4
        if pos + 4 * count > end:
            raise RecordError("substitution table overruns the record")
        declared = struct.unpack_from(f"<{2 * count}H", buf, pos)
        pos += 4 * count
        values: list[tuple[int, int, int]] = []  # (type, start, end)
        for i in range(count):
            size, type_ = declared[2 * i], declared[2 * i + 1] & 0xFF
            if pos + size > end:
                raise RecordError("substitution value overruns the record")
            values.append((type_, pos, pos + size))
            pos += size
        return template_offset, values

    def _render(self, parts: list[Part], values: list[tuple[int, int, int]], out: list[Any], depth: int) -> None:
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, int):
                if part >= len(values):
                    continue
                type_, start, stop = values[part]
                if type_ == BINXML:
                    if stop > start:
                        out.extend(self.fragment(start, stop, depth + 1))
                    continue
                text = format_value(type_, bytes(self.buf[start:stop]))
                if text:
                    out.append(text)
            else:
                self._element(part, values, out, depth)

    def _element(self, part: Part, values: list[tuple[int, int, int]], out: list[Any], depth: int) -> None:
        name, attr_parts, body = part
        attrs: dict[str, str] = {}
        for attr, pieces in attr_parts:
            rendered: list[Any] = []
            self._render(pieces, values, rendered, depth)
            text = "".join(p for p in rendered if isinstance(p, str))
            if text or all(isinstance(p, str) for p in pieces):
                attrs[attr] = text
        # A Data element holding one string array renders as one Data per string.
        if name == "Data" and len(body) == 1 and isinstance(body[0], int) and body[0] < len(values):
            type_, start, stop = values[body[0]]
            if type_ == STRING_ARRAY:
                for item in string_array(bytes(self.buf[start:stop])):
                    element = El(name, dict(attrs))
                    if item:
                        element.children.append(item)
                    out.append(element)
                return
        element = El(name, attrs)
        self._render(body, values, element.children, depth)
        out.append(element)


class _PlainFragment:
    """Element tokens without a template, as WEC-forwarded records carry them.

    python-evtx reads a 2-byte dependency id in every element header; outside a
    template definition that field is absent, so python-evtx misparses these
    records (its issue #40 family). This reader handles the few token kinds
    such a fragment holds; values are decoded like template values.
    """

    def __init__(self, buf: bytes, chunk: int, end: int) -> None:
        self.buf, self.chunk, self.end = buf, chunk, end

    def _u(self, fmt: str, pos: int) -> int:
        if pos + struct.calcsize(fmt) > self.end:
            raise RecordError("plain BinXml overruns the record")
        return struct.unpack_from(fmt, self.buf, pos)[0]

    def _name(self, pos: int) -> tuple[str, int]:
        """Name at the offset stored at `pos`; returns it and the position after any inline copy."""
        offset = self._u("<I", pos)
        pos += 4
        absolute = self.chunk + offset
        count = struct.unpack_from("<H", self.buf, absolute + 6)[0]
        name = _utf16(bytes(self.buf[absolute + 8 : absolute + 8 + 2 * count]))
        if absolute == pos:  # defined inline: skip the definition
            pos += 8 + 2 * count + 2
        return name, pos

    def _value(self, pos: int) -> tuple[str, int]:
        type_ = self._u("<B", pos + 1)
        if type_ not in (0x01, 0x02):
            raise RecordError(f"plain BinXml value of type 0x{type_:02x}")
        count = self._u("<H", pos + 2)
        width = 2 if type_ == 0x01 else 1
        raw = bytes(self.buf[pos + 4 : pos + 4 + width * count])
        return format_value(type_, raw) or "", pos + 4 + width * count

    def _text(self, pos: int, out: list[El | str]) -> int:
        """A value, character reference or entity reference token; returns the next position."""
        kind = self._u("<B", pos) & 0x0F
        if kind == 0x05:
            value, pos = self._value(pos)
            out.append(value)
            return pos
        if kind == 0x08:
            out.append(chr(self._u("<H", pos + 1)))
            return pos + 3
        name, pos = self._name(pos + 1)
        out.append(_ENTITIES.get(name, ""))
        return pos

    def parse(self, pos: int) -> list[El | str]:
        stack: list[El] = [El("")]
        while pos < self.end:
            token = self._u("<B", pos)
            kind = token & 0x0F
            if kind == 0x00:
                break
            if kind == 0x01:
                name, pos = self._name(pos + 5)
                element = El(name)
                stack[-1].children.append(element)
                stack.append(element)
                if token & 0x40:
                    pos += 4  # attribute list size
            elif kind == 0x06:
                name, pos = self._name(pos + 1)
                pieces: list[El | str] = []
                while self._u("<B", pos) & 0x0F in (0x05, 0x08, 0x09):  # value, char or entity refs
                    pos = self._text(pos, pieces)
                stack[-1].attrs[name] = "".join(p for p in pieces if isinstance(p, str))
            elif kind in (0x05, 0x08, 0x09):
                pos = self._text(pos, stack[-1].children)
            elif kind == 0x02:
                pos += 1
            elif kind in (0x03, 0x04):
                if len(stack) == 1:
                    raise RecordError("plain BinXml closes more elements than it opens")
                stack.pop()
                pos += 1
            else:
                raise RecordError(f"unexpected plain BinXml token 0x{token:02x}")
        return stack[0].children


def read(
    path: Path, file: str, layout: Layout, keep: Keep | None = None, coverage: Coverage | None = None
) -> Iterator[tuple[int, Event | RecordError]]:
    """Yield (record-header number, event or the reason it could not be read), chunk by chunk.

    With `keep` and `coverage`, as in the rust engine: a record of another provider (or code) is
    not rendered; its provider, event id, computer and time are read straight from its values
    where its template says they are, and it is only counted."""
    wanted = (
        {name: None if ids is None else frozenset(map(str, ids)) for name, ids in keep.items()}
        if keep is not None and coverage is not None
        else None
    )
    plans: dict[bytes, list[Part]] = {}
    with path.open("rb") as fh:
        for chunk in layout.own:
            if not chunk.readable:
                continue
            fh.seek(chunk.offset)
            buf = fh.read(0x10000)  # one chunk at a time: memory stays flat for any file size
            reader = _ChunkReader(buf, 0, plans)
            chunk_end = 0x10000
            end = chunk.free_offset if 0x200 < chunk.free_offset <= 0x10000 else chunk_end
            pos = 0x200
            while pos + 28 <= end:
                magic, size, number = struct.unpack_from("<IIQ", buf, pos)
                if magic != 0x2A2A or size < 28 or pos + size > chunk_end:
                    break
                try:
                    if wanted is not None:
                        seen = reader.glance(pos + 24, pos + size - 4)
                        if seen is not None:
                            provider, event_id, computer, stamp = seen
                            ids = wanted.get(provider, _NOT_KEPT)
                            if ids is _NOT_KEPT or (ids is not None and event_id not in ids):
                                coverage.note(computer, stamp, number)  # type: ignore[union-attr]
                                pos += size
                                continue
                    elements = reader.fragment(pos + 24, pos + size - 4)
                    root = next(e for e in elements if isinstance(e, El))
                    yield number, to_event(root, file)
                except RecordError as exc:
                    yield number, exc
                except Exception as exc:  # python-evtx raises many types on damaged data
                    yield number, RecordError(f"python-evtx: {type(exc).__name__}")
                pos += size


_NOT_KEPT = object()
