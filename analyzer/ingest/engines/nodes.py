"""BinXml through python-evtx: its chunk header and node tree, held to the rules of pyevtx-rs.

python-evtx (`Evtx.Evtx.ChunkHeader`, `Evtx.Nodes`) parses each record's fragment and each template
into its tree of nodes (which the python engine, `engines/python.py`, turns into elements). Both engines
must read damaged records alike, so where python-evtx reads the format otherwise than the evtx crate
under pyevtx-rs, a subclass below follows the crate (and says how python-evtx differs):
- names and templates are read at the chunk offset a reference gives; python-evtx looks them up in
  tables it fills by walking the chunk's hash chains, which are never walked here (a chain that
  loops made python-evtx spin, and pyevtx-rs too: see `layout.py`);
- an inline name or template definition is skipped only when the reference points right after
  itself (python-evtx: whenever it points further on);
- an element has a dependency id only inside a template (python-evtx reads one everywhere and so
  misreads the template-less BinXml of forwarded events);
- a template instance carries its values, read by the project's value code (`tables.py`,
  `values.py`: python-evtx's value nodes render strings, arrays, times and floats otherwise than
  pyevtx-rs, and its issue #40 fails whole files); the fragment is read on after them (python-evtx
  stops at the first instance);
- tokens are read up to the fragment's size, each by its exact byte (python-evtx masks the flags
  off; CDATA and character references are not implemented in pyevtx-rs either).
A record that fails any of these raises `Undecodable` (pyevtx-rs does not return such a record), as
does python-evtx's `OverrunBufferException` (a read past the chunk); the engine then checks the tree
against the token order pyevtx-rs accepts.
"""

from __future__ import annotations

from typing import Any

from Evtx import Nodes
from Evtx.BinaryParser import Block
from Evtx.Evtx import ChunkHeader

from analyzer.evtx.format import (
    MORE_BITS,
    T_ATTRIBUTE,
    T_CLOSE_EMPTY_ELEMENT,
    T_CLOSE_START_ELEMENT,
    T_END_ELEMENT,
    T_END_OF_STREAM,
    T_ENTITY_REF,
    T_FRAGMENT_HEADER,
    T_NORMAL_SUBSTITUTION,
    T_OPEN_START_ELEMENT,
    T_OPTIONAL_SUBSTITUTION,
    T_PI_DATA,
    T_PI_TARGET,
    T_TEMPLATE_INSTANCE,
    T_VALUE,
)
from analyzer.ingest.engines.tables import read_values
from analyzer.ingest.engines.values import VALID_TYPES, Undecodable, decode_unsized, utf16_strict

MAX_DEPTH = 512  # open elements within one fragment (as pyevtx-rs)


def field(kind: str, at: int) -> Any:
    """A python-evtx field as a method of its class, read by python-evtx's unpacker of that kind
    (python-evtx's `declare_field` makes it anew for every object: on records and template
    instances, one or more per record, that was most of the time spent reading them)."""
    unpack = getattr(Block, "unpack_" + kind)
    return lambda self: unpack(self, at)


class EvtxChunk(ChunkHeader):
    """python-evtx's chunk header over one chunk's bytes; names and templates read where a
    reference points, never by walking the hash chains."""

    def __init__(self, buf: bytes) -> None:
        super().__init__(buf, 0)
        self._strings: dict[int, Any] = {}
        self._templates: dict[int, Any] = {}
        self.names: dict[int, str] = {}

    def _load_strings(self) -> None:
        """python-evtx fills its name table by walking the hash chains: not done here."""

    def _load_templates(self) -> None:
        """Likewise for templates."""

    def add_template(self, offset: int, parent: Any = None) -> Template:
        node = self._templates[offset] = Template(self._buf, offset, self, parent or self)
        return node

    def template_at(self, offset: int) -> Template:
        node = self._templates.get(offset)
        return node if node is not None else self.add_template(offset)

    def name(self, offset: int) -> str:
        """The name whose entry (link, hash, count, UTF-16 units, NUL) is at `offset`: read by
        python-evtx's `NameStringNode`, decoded up to its first NUL unit, strictly."""
        name = self.names.get(offset)
        if name is None:
            node = Nodes.NameStringNode(self._buf, offset, self, self)
            count = node.string_length()
            if offset + 10 + 2 * count > len(self._buf):
                raise Undecodable
            name = self.names[offset] = utf16_strict(node.unpack_binary(8, 2 * count))
        return name


def _inline(node: Any, at: int) -> int:
    """How long the name definition after the name reference at `at` (from the node's start) is
    when it follows inline: pyevtx-rs skips it only when the reference points right after itself."""
    offset = node.unpack_dword(at)
    after = node.offset() + at + 4
    if offset != after:
        return 0
    skip = 6 + ((node.unpack_word(at + 10) * 2) & 0xFFFF) + 4  # as pyevtx-rs computes it (16-bit product)
    if after + skip > len(node._buf):
        raise Undecodable
    return skip


class _Tokens:
    """python-evtx's `_children` (a node's children read token by token) with the node classes of
    this module, each chosen by its exact token byte, and no token read that starts at or past the
    fragment's end (`bound`), as pyevtx-rs reads a fragment. Children are read once, and where they
    end and whether an end-of-stream token is among them are kept (python-evtx works both out
    again through its memoizing decorator, several times over a template's tree)."""

    template: bool  # inside a template definition
    bound: int
    level = -1  # elements open around it in its fragment
    ends: tuple[int, ...] = (T_END_OF_STREAM,)  # the tokens that end its children
    _kids: list[Any] | None = None
    _end = 0
    _eos = False

    def children(self) -> list[Any]:
        if self._kids is None:
            self._kids = self._children(end_tokens=self.ends)
        return self._kids

    def find_end_of_stream(self) -> bool | None:
        self.children()
        return self._eos or None

    def _children(self, max_children: int | None = None, end_tokens: Any = (T_END_OF_STREAM,)) -> list[Any]:
        found: list[Any] = []
        buf, at = self._buf, self.offset() + self.tag_length()  # type: ignore[attr-defined]
        while at < self.bound and (max_children is None or len(found) < max_children):
            if at >= len(buf):
                raise Undecodable
            token = buf[at]
            kind = _NODES.get(token)
            if kind is None:
                raise Undecodable  # CDATA, character references, unknown tokens: not in pyevtx-rs
            child = kind(buf, at, self._chunk, self)  # type: ignore[attr-defined]
            found.append(child)
            if kind is Element:  # its children read here: one frame a level (python-evtx: three)
                child._kids = child._children(end_tokens=child.ends)
            at += child.length()
            if token == T_END_OF_STREAM or (kind is Element and child.find_end_of_stream()):
                self._eos = True  # python-evtx's `find_end_of_stream`: it ends the parent's children
                break
            if token & 0x0F in end_tokens:
                break
        self._end = at
        return found


class Root(_Tokens, Nodes.RootNode):
    """A record's fragment (or a BinXml value's), `size` bytes."""

    template = False

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, size: int) -> None:
        super().__init__(buf, offset, chunk, chunk)
        self.bound = offset + size

    def template_instance(self) -> Instance:
        """python-evtx's: the instance after an optional start-of-stream token."""
        return Instance(
            self._buf, self.offset() + (4 if self._buf[self.offset()] == T_FRAGMENT_HEADER else 0), self._chunk, self
        )


class Template(_Tokens, Nodes.TemplateNode):
    """A template definition: python-evtx's header (link, GUID, size), its data up to its size."""

    template = True

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, parent: Any) -> None:
        super().__init__(buf, offset, chunk, parent)
        self.bound = offset + 0x18 + self.data_length()


class Element(_Tokens, Nodes.OpenStartElementNode):
    ends = (T_END_ELEMENT, T_CLOSE_EMPTY_ELEMENT)  # its close tokens, as python-evtx's

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, parent: Any) -> None:
        Nodes.BXmlNode.__init__(self, buf, offset, chunk, parent)
        self.template, self.bound = parent.template, parent.bound
        self.level = parent.level + 1
        if self.level > MAX_DEPTH:  # its parent is too deep to hold it (see `python.ChunkDecoder.element`)
            raise Undecodable
        at = 3 if self.template else 1  # after the dependency id, only in a template (python-evtx: always)
        self.declare_field("byte", "token", 0x0)
        self.declare_field("dword", "size", at)
        self.declare_field("dword", "string_offset")
        self._tag_length = at + 8 + _inline(self, at + 4)
        if self.token() & MORE_BITS:  # the attribute list's size
            self.unpack_dword(self._tag_length)
            self._tag_length += 4

    def tag_name(self) -> str:
        return self._chunk.name(self.string_offset())

    def length(self) -> int:
        self.children()
        return self._end - self.offset()


class _Named:
    """A token that names something (an attribute, an entity reference, a processing instruction's
    target): python-evtx's, with pyevtx-rs's rule for an inline name."""

    string_offset = field("dword", 0x1)

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, parent: Any) -> None:
        Nodes.BXmlNode.__init__(self, buf, offset, chunk, parent)  # type: ignore[arg-type]
        self.template, self.bound = parent.template, parent.bound
        self._tag_length = 5 + _inline(self, 1)

    def tag_length(self) -> int:
        return self._tag_length


class Attribute(_Named, _Tokens, Nodes.AttributeNode):
    def children(self) -> list[Any]:
        """Its value: the next token if it is one (python-evtx takes whatever token follows, a
        close token too). pyevtx-rs gives an attribute every value up to the next non-value; those
        after the first are the element's children here, and `ChunkDecoder.element` adds them."""
        if self._kids is None:
            at = self._end = self.offset() + self.tag_length()
            value = at < self.bound and at < len(self._buf) and self._buf[at] in _VALUES
            self._kids = self._children(max_children=1) if value else []
        return self._kids

    def length(self) -> int:
        self.children()
        return self._end - self.offset()


class Entity(_Named, Nodes.EntityReferenceNode):
    pass


class Target(_Named, Nodes.ProcessingInstructionTargetNode):
    pass


class Value(Nodes.ValueNode):
    """A value token: its value decoded by the project's code (`value`: text, Null, or a BinXml
    value's span), its length by what was read."""

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, parent: Any) -> None:
        super().__init__(buf, offset, chunk, parent)
        type_ = self.type()
        if type_ not in VALID_TYPES:
            raise Undecodable
        self.value, self.end = decode_unsized(buf, offset + 2, type_)

    def length(self) -> int:
        return self.end - self.offset()

    def children(self) -> list[Any]:
        return []


class Data(Nodes.ProcessingInstructionDataNode):
    """A processing instruction's data: skipped, not decoded (python-evtx decodes it, and raises
    on units pyevtx-rs never looks at)."""

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, parent: Any) -> None:
        Nodes.BXmlNode.__init__(self, buf, offset, chunk, parent)
        self.declare_field("byte", "token", 0x0)
        self.declare_field("word", "string_length")
        self._tag_length = 3 + 2 * self.string_length()
        if offset + self._tag_length > len(buf):
            raise Undecodable


class Instance(Nodes.TemplateInstanceNode):
    """A template instance: python-evtx's header (fields as in `EventRecord`) and inline definition,
    then its values."""

    token = field("byte", 0x0)
    template_id = field("dword", 0x2)
    template_offset = field("dword", 0x6)

    def __init__(self, buf: bytes, offset: int, chunk: EvtxChunk, parent: Any) -> None:
        Nodes.BXmlNode.__init__(self, buf, offset, chunk, parent)
        if offset + 10 > len(buf):
            raise Undecodable
        self._data_length = 0
        if self.is_resident_template():
            self._data_length = chunk.add_template(self.template_offset(), parent=self).length()
        self.values, self.end = read_values(buf, offset + 10 + self._data_length)

    def is_resident_template(self) -> bool:
        """Whether its definition follows inline: right after it (python-evtx: anywhere after it)."""
        return self.template_offset() == self.offset() + 10

    def length(self) -> int:
        return self.end - self.offset()

    def find_end_of_stream(self) -> None:
        """None: pyevtx-rs reads the fragment on after an instance's values."""


_NODES: dict[int, Any] = {
    T_END_OF_STREAM: Nodes.EndOfStreamNode,
    T_OPEN_START_ELEMENT: Element,
    T_OPEN_START_ELEMENT | MORE_BITS: Element,
    T_CLOSE_START_ELEMENT: Nodes.CloseStartElementNode,
    T_CLOSE_EMPTY_ELEMENT: Nodes.CloseEmptyElementNode,
    T_END_ELEMENT: Nodes.CloseElementNode,
    T_VALUE: Value,
    T_VALUE | MORE_BITS: Value,
    T_ATTRIBUTE: Attribute,
    T_ATTRIBUTE | MORE_BITS: Attribute,
    T_ENTITY_REF: Entity,
    T_ENTITY_REF | MORE_BITS: Entity,
    T_PI_TARGET: Target,
    T_PI_DATA: Data,
    T_TEMPLATE_INSTANCE: Instance,
    T_NORMAL_SUBSTITUTION: Nodes.NormalSubstitutionNode,
    T_OPTIONAL_SUBSTITUTION: Nodes.ConditionalSubstitutionNode,
    T_FRAGMENT_HEADER: Nodes.StreamStartNode,
}
_VALUE_KINDS = (T_VALUE, T_NORMAL_SUBSTITUTION, T_OPTIONAL_SUBSTITUTION, T_ENTITY_REF, T_PI_TARGET, T_PI_DATA)
_VALUES = frozenset((*_VALUE_KINDS, T_VALUE | MORE_BITS, T_ENTITY_REF | MORE_BITS))  # tokens of an attribute's value
