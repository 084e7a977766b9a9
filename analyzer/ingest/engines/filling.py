"""Templates and their values: the nodes BinXml is read into, and elements with their values put in.

What the rust engine reads from pyevtx-rs's XML, the python engine builds here from the same
parts: a template's placeholders filled (an optional one whose value is empty drops out, one past
the values is nothing), an array value repeating its element once per item (MS-EVEN6 array
substitution), the first of an attribute given twice, an entity reference as its character (a
predefined or numeric one) or as pyevtx-rs prints it. `Plan` says where a template puts a record's
System fields, so that a record that is only counted need not be built.
"""

from __future__ import annotations

import re
from typing import Any

from analyzer.ingest.engines.values import Arr, Lazy, Null
from analyzer.ingest.normalize import El

_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_CHARACTER = re.compile(r"#(?:x([0-9A-Fa-f]+)|([0-9]+))")


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


def resolve_one(element: Element, values: Any) -> El:
    """`element` with its placeholders filled (the first of its copies, when an array value
    repeats it: a root element is never repeated)."""
    return resolve(element, values, 0)[0]


def resolve(element: Element, values: Any, depth: int) -> list[El]:
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
            children += resolve(node, values, depth + 1)
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
