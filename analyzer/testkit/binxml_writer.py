"""BinXml encoding: templates with literal text and typed substitutions.

A template is a tree of `Element`s whose attribute values and text are either
literal strings or `Sub` (substitution) slots. `ChunkEncoder` turns a template
plus its values into the byte stream Windows writes inside a chunk: the name
strings and the template definition appear inline the first time a chunk uses
them and are referenced by chunk offset afterwards.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Union

# Value types (MS-EVEN6 / libevtx naming).
NULL = 0x00
WSTRING = 0x01
UINT8 = 0x04
UINT16 = 0x06
UINT32 = 0x08
UINT64 = 0x0A
BINARY = 0x0E
GUID = 0x0F
FILETIME = 0x11
SID = 0x13
HEX64 = 0x15
BINXML = 0x21
WSTRING_ARRAY = 0x81

# Tokens.
T_EOS = 0x00
T_OPEN = 0x01
T_CLOSE_START = 0x02
T_CLOSE_EMPTY = 0x03
T_END = 0x04
T_VALUE = 0x05
T_ATTR = 0x06
T_TEMPLATE = 0x0C
T_OPTIONAL_SUB = 0x0E
T_FRAGMENT = 0x0F
FLAG_MORE = 0x40

FRAGMENT_HEADER = bytes([T_FRAGMENT, 1, 1, 0])


@dataclass(frozen=True)
class Sub:
    """A substitution slot: index into the instance's values, and its type."""

    index: int
    type: int


Content = Union[str, Sub, "Element"]


@dataclass(frozen=True)
class Element:
    name: str
    attrs: tuple[tuple[str, str | Sub], ...] = ()
    children: tuple[Content, ...] = ()


@dataclass(frozen=True)
class Template:
    root: Element

    @property
    def guid(self) -> bytes:
        """A stable 16-byte id derived from the structure (rebuilds are byte-identical)."""
        return hashlib.md5(repr(self.root).encode(), usedforsecurity=False).digest()


@dataclass
class Value:
    """A typed substitution value: encoded bytes, or a nested template instance (BINXML)."""

    type: int
    payload: bytes | Instance = b""


@dataclass
class Instance:
    """A template plus the values for its substitution slots."""

    template: Template
    values: list[Value] = field(default_factory=list)


def name_hash(name: str) -> int:
    h = 0
    for ch in name:
        h = (h * 65599 + ord(ch)) & 0xFFFFFFFF
    return h & 0xFFFF


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


class ChunkEncoder:
    """Encodes BinXml for one chunk; tracks the chunk's string and template tables."""

    def __init__(self) -> None:
        self.strings: dict[str, int] = {}  # name -> chunk offset of its definition
        self.string_buckets: dict[int, int] = {}  # bucket -> offset of the last string in it
        self.templates: dict[bytes, int] = {}  # guid -> chunk offset of the definition
        self.template_buckets: dict[int, int] = {}
        self.patches: list[tuple[int, int]] = []  # (chunk offset of a next-offset field, value)
        self.heads: list[tuple[int, int, bool]] = []  # (bucket, offset, is_template) for the header

    # Each encoder method appends to `out`; `base` is the chunk offset of out[0].
    def _name(self, out: bytearray, base: int, name: str) -> None:
        offset = self.strings.get(name)
        if offset is not None:
            out += struct.pack("<I", offset)
            return
        offset = base + len(out) + 4
        out += struct.pack("<I", offset)
        h = name_hash(name)
        out += struct.pack("<IHH", 0, h, len(name)) + utf16(name) + b"\0\0"
        self.strings[name] = offset
        self._link(self.string_buckets, h % 64, offset)

    def _content(self, out: bytearray, base: int, item: Content) -> None:
        if isinstance(item, Element):
            self._element(out, base, item)
        elif isinstance(item, Sub):
            out += struct.pack("<BHB", T_OPTIONAL_SUB, item.index, item.type)
        else:
            text = utf16(item)
            out += struct.pack("<BBH", T_VALUE, WSTRING, len(text) // 2) + text

    def _element(self, out: bytearray, base: int, element: Element) -> None:
        start = len(out)
        has_attrs = bool(element.attrs)
        out += struct.pack("<BHI", T_OPEN | (FLAG_MORE if has_attrs else 0), 0xFFFF, 0)
        self._name(out, base, element.name)
        if has_attrs:
            list_start = len(out)
            out += b"\0\0\0\0"
            for i, (name, value) in enumerate(element.attrs):
                more = i < len(element.attrs) - 1
                out.append(T_ATTR | (FLAG_MORE if more else 0))
                self._name(out, base, name)
                self._content(out, base, value)
            struct.pack_into("<I", out, list_start, len(out) - list_start - 4)
        if element.children:
            out.append(T_CLOSE_START)
            for child in element.children:
                self._content(out, base, child)
            out.append(T_END)
        else:
            out.append(T_CLOSE_EMPTY)
        struct.pack_into("<I", out, start + 3, len(out) - start - 7)

    def fragment(self, instance: Instance, base: int) -> bytes:
        """A BinXml fragment (header, template instance, values) placed at chunk offset `base`."""
        out = bytearray(FRAGMENT_HEADER)
        guid = instance.template.guid
        template_id = struct.unpack_from("<I", guid)[0]
        defined = self.templates.get(guid)
        if defined is not None:
            out += struct.pack("<BBII", T_TEMPLATE, 1, template_id, defined)
        else:
            offset = base + len(out) + 10
            out += struct.pack("<BBII", T_TEMPLATE, 1, template_id, offset)
            body = bytearray(FRAGMENT_HEADER)
            self._element(body, offset + 24, instance.template.root)  # body follows the 24-byte head
            body.append(T_EOS)
            out += struct.pack("<I", 0) + guid + struct.pack("<I", len(body)) + body
            self._link(self.template_buckets, template_id % 32, offset)
            self.templates[guid] = offset
        # Values are encoded at their final position: nested fragments may define strings.
        position = base + len(out) + 4 + 4 * len(instance.values)
        payloads = []
        for value in instance.values:
            payload = value.payload
            if isinstance(payload, Instance):
                payload = self.fragment(payload, position)
            if len(payload) > 0xFFFF:
                raise ValueError("a substitution value larger than 64 KiB is larger than a chunk")
            payloads.append(payload)
            position += len(payload)
        out += struct.pack("<I", len(payloads))
        for value, payload in zip(instance.values, payloads, strict=True):
            out += struct.pack("<HBB", len(payload), value.type, 0)
        for payload in payloads:
            out += payload
        return bytes(out)

    def _link(self, buckets: dict[int, int], bucket: int, offset: int) -> None:
        """Chain a new string/template definition behind the last one in its hash bucket."""
        previous = buckets.get(bucket)
        if previous is not None:
            self.patches.append((previous, offset))
        else:
            self.heads.append((bucket, offset, buckets is self.template_buckets))
        buckets[bucket] = offset

    def snapshot(self) -> tuple[object, ...]:
        return (
            dict(self.strings),
            dict(self.string_buckets),
            dict(self.templates),
            dict(self.template_buckets),
            len(self.patches),
            len(self.heads),
        )

    def restore(self, state: tuple[object, ...]) -> None:
        strings, string_buckets, templates, template_buckets, patches, heads = state
        self.strings, self.string_buckets = strings, string_buckets  # type: ignore[assignment]
        self.templates, self.template_buckets = templates, template_buckets  # type: ignore[assignment]
        del self.patches[patches:]  # type: ignore[misc]
        del self.heads[heads:]  # type: ignore[misc]


# Value constructors.
def null() -> Value:
    return Value(NULL)


def wstring(text: str) -> Value:
    return Value(WSTRING, utf16(text))


def string_array(items: list[str]) -> Value:
    return Value(WSTRING_ARRAY, b"".join(utf16(s) + b"\0\0" for s in items))


def u8(n: int) -> Value:
    return Value(UINT8, struct.pack("<B", n))


def u16(n: int) -> Value:
    return Value(UINT16, struct.pack("<H", n))


def u32(n: int) -> Value:
    return Value(UINT32, struct.pack("<I", n))


def u64(n: int) -> Value:
    return Value(UINT64, struct.pack("<Q", n))


def hex64(n: int) -> Value:
    return Value(HEX64, struct.pack("<Q", n))


def filetime(n: int) -> Value:
    return Value(FILETIME, struct.pack("<Q", n))


def nested(instance: Instance) -> Value:
    return Value(BINXML, instance)
