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

from analyzer.evtx.format import (
    MORE_BITS,
    T_ATTRIBUTE,
    T_CLOSE_EMPTY_ELEMENT,
    T_CLOSE_START_ELEMENT,
    T_END_ELEMENT,
    T_END_OF_STREAM,
    T_FRAGMENT_HEADER,
    T_OPEN_START_ELEMENT,
    T_OPTIONAL_SUBSTITUTION,
    T_TEMPLATE_INSTANCE,
    T_VALUE,
    V_ARRAY,
    V_BINXML,
    V_FILETIME,
    V_HEX64,
    V_NULL,
    V_STRING,
    V_UINT8,
    V_UINT16,
    V_UINT32,
    V_UINT64,
)

STRING_ARRAY = V_ARRAY | V_STRING

FRAGMENT_HEADER = bytes([T_FRAGMENT_HEADER, 1, 1, 0])


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
    """A typed substitution value: encoded bytes, or a nested template instance (V_BINXML)."""

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
            out += struct.pack("<BHB", T_OPTIONAL_SUBSTITUTION, item.index, item.type)
        else:
            text = utf16(item)
            out += struct.pack("<BBH", T_VALUE, V_STRING, len(text) // 2) + text

    def _element(self, out: bytearray, base: int, element: Element) -> None:
        start = len(out)
        has_attrs = bool(element.attrs)
        out += struct.pack("<BHI", T_OPEN_START_ELEMENT | (MORE_BITS if has_attrs else 0), 0xFFFF, 0)
        self._name(out, base, element.name)
        if has_attrs:
            list_start = len(out)
            out += b"\0\0\0\0"
            for i, (name, value) in enumerate(element.attrs):
                more = i < len(element.attrs) - 1
                out.append(T_ATTRIBUTE | (MORE_BITS if more else 0))
                self._name(out, base, name)
                self._content(out, base, value)
            struct.pack_into("<I", out, list_start, len(out) - list_start - 4)
        if element.children:
            out.append(T_CLOSE_START_ELEMENT)
            for child in element.children:
                self._content(out, base, child)
            out.append(T_END_ELEMENT)
        else:
            out.append(T_CLOSE_EMPTY_ELEMENT)
        struct.pack_into("<I", out, start + 3, len(out) - start - 7)

    def fragment(self, instance: Instance, base: int) -> bytes:
        """A BinXml fragment (header, template instance, values) placed at chunk offset `base`."""
        out = bytearray(FRAGMENT_HEADER)
        guid = instance.template.guid
        template_id = struct.unpack_from("<I", guid)[0]
        defined = self.templates.get(guid)
        if defined is not None:
            out += struct.pack("<BBII", T_TEMPLATE_INSTANCE, 1, template_id, defined)
        else:
            offset = base + len(out) + 10
            out += struct.pack("<BBII", T_TEMPLATE_INSTANCE, 1, template_id, offset)
            body = bytearray(FRAGMENT_HEADER)
            self._element(body, offset + 24, instance.template.root)  # body follows the 24-byte head
            body.append(T_END_OF_STREAM)
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
    return Value(V_NULL)


def wstring(text: str) -> Value:
    return Value(V_STRING, utf16(text))


def string_array(items: list[str]) -> Value:
    return Value(STRING_ARRAY, b"".join(utf16(s) + b"\0\0" for s in items))


def u8(n: int) -> Value:
    return Value(V_UINT8, struct.pack("<B", n))


def u16(n: int) -> Value:
    return Value(V_UINT16, struct.pack("<H", n))


def u32(n: int) -> Value:
    return Value(V_UINT32, struct.pack("<I", n))


def u64(n: int) -> Value:
    return Value(V_UINT64, struct.pack("<Q", n))


def hex64(n: int) -> Value:
    return Value(V_HEX64, struct.pack("<Q", n))


def filetime(n: int) -> Value:
    return Value(V_FILETIME, struct.pack("<Q", n))


def nested(instance: Instance) -> Value:
    return Value(V_BINXML, instance)
