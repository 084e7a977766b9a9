"""The JSON form of every document (`-f json`): written from the model, read back into it, and its
contract described from it. `Document` is the base of every class in `reports/model.py`."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, ClassVar, TypeVar, Union

from analyzer.reports.textsafe import json_text

FORMAT = "json"
KINDS = ("report", "triage", "explain", "diff")

Doc = TypeVar("Doc", bound="Document")
_UNION = (Union, types.UnionType)


class ReportFormatError(ValueError):
    """A JSON value that is not a document of the model; the message says where, never a value."""


def key(doc: str, *, one_of: tuple[str, ...] | None = None, omit_none: bool = False, **kwargs: Any) -> Any:
    """A key of the contract: `doc` says what it holds, `one_of` lists the values it may take, and
    `omit_none` leaves it out of the JSON when its value is None."""
    return dataclasses.field(metadata={"doc": doc, "one_of": one_of, "omit_none": omit_none}, **kwargs)


class Document:
    """What every model class can do: be written as JSON and read back from it, be compared and
    shown (its classes leave `==` and `repr` to this base: generating them for every class costs
    start-up time)."""

    __slots__ = ()
    KIND: ClassVar[str] = ""  # The kind of document renderers are registered for (reports/__init__).

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and _items(self) == _items(other)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in _items(self).items())})"

    def to_json(self) -> dict[str, Any]:
        """The JSON form: dicts with keys in field order, lists, text, numbers, None."""
        return _tree(self)  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls: type[Doc], value: Any) -> Doc:
        """The document a parsed JSON value holds; ReportFormatError when it is not one."""
        return _load(cls, value, "")  # type: ignore[no-any-return]


_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _items(node: Document) -> dict[str, Any]:
    """One object's fields and values, in field order: the one place that decides the JSON's keys."""
    plan = _PLANS.get(type(node))
    if plan is None:
        fields = dataclasses.fields(node)  # type: ignore[arg-type]
        plan = _PLANS[type(node)] = tuple((f.name, bool(f.metadata.get("omit_none"))) for f in fields)
    return {name: value for name, omit in plan if not ((value := getattr(node, name)) is None and omit)}


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _tree(node: Any) -> Any:
    """The JSON form of a model value: dicts, lists, text, numbers, None."""
    kind = type(node)
    if kind in _SCALARS:
        return node
    if kind is list:
        return [_tree(item) for item in node]
    if kind is dict:
        return {name: _tree(value) for name, value in node.items()}
    return {name: value if type(value) in _SCALARS else _tree(value) for name, value in _items(node).items()}


def dumps(doc: Document) -> str:
    """The document as JSON text: keys in field order, indented, C1 controls escaped too."""
    return json_text(json.dumps(_tree(doc), indent=2, ensure_ascii=False)) + "\n"


def render(doc: Document, lang: str = "en", width: int | None = None) -> str:
    return dumps(doc)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(kind: type[Document]) -> dict[str, Any]:
    found = _HINTS.get(kind)
    if found is None:
        found = _HINTS[kind] = typing.get_type_hints(kind)
    return found


def _shown(name: str) -> str:
    """A key of the file as an error may name it: a short identifier, else `?` (a file's keys are its
    author's text, like its values)."""
    return name if name.isidentifier() and len(name) <= 40 else "?"


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _load(kind: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in _UNION:
        if value is None:
            return None
        [inner] = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _load(inner, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ReportFormatError(f"{where}: not a list")
        return [_load(typing.get_args(kind)[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ReportFormatError(f"{where}: not an object")
        return {name: _load(typing.get_args(kind)[1], item, _at(where, _shown(name))) for name, item in value.items()}
    if isinstance(kind, type) and issubclass(kind, Document):
        return _load_document(kind, value, where)
    kind = getattr(kind, "__supertype__", kind)  # A NewType (Time) is checked as the type it names.
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise ReportFormatError(f"{where}: expected {_type_name(kind)}")


def _load_document(kind: type[Document], value: Any, where: str) -> Document:
    if not isinstance(value, dict):
        raise ReportFormatError(f"{where or 'the document'}: not an object")
    fields = {f.name: f for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    extra = next((name for name in value if name not in fields), None)
    if extra is not None:
        raise ReportFormatError(f"{where or 'the document'}: unknown key {_shown(extra)}")
    found = {}
    for name, spec in fields.items():
        if name not in value:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ReportFormatError(f"{_at(where, name)}: missing")
            continue
        item = _load(_hints(kind)[name], value[name], _at(where, name))
        allowed = spec.metadata.get("one_of")
        if allowed is not None and item is not None and item not in allowed:
            raise ReportFormatError(f"{_at(where, name)}: not one of {', '.join(allowed)}")
        found[name] = item
    return kind(**found)


def _type_name(kind: Any) -> str:
    """A type as the contract names it."""
    origin = typing.get_origin(kind)
    if origin in _UNION:
        [inner] = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return f"{_type_name(inner)} or null"
    if origin is list:
        return f"list of {_type_name(typing.get_args(kind)[0])}"
    if origin is dict:
        return f"object of {_type_name(typing.get_args(kind)[1])}"
    if isinstance(kind, type) and issubclass(kind, Document):
        return f"[{kind.__name__}](#{kind.__name__.lower()})"
    if hasattr(kind, "__supertype__"):  # A NewType (Time) goes by its own name.
        return str(kind.__name__).lower()
    return {str: "text", int: "integer", float: "number", bool: "true or false"}[kind]


def _parts(kind: Any) -> list[type[Document]]:
    """The model classes a type refers to."""
    if isinstance(kind, type) and issubclass(kind, Document):
        return [kind]
    return [part for arg in typing.get_args(kind) for part in _parts(arg)]


def contract(roots: list[type[Document]], intro: str) -> str:
    """The contract as Markdown: each document, then each of its parts, with its keys (in the order
    written), their types and what they hold."""
    out = [intro, ""]
    done: set[type[Document]] = set()

    def describe(kind: type[Document]) -> None:
        if kind in done:
            return
        done.add(kind)
        out.extend([f"## {kind.__name__}", ""])
        if kind.__doc__ and not kind.__doc__.startswith(f"{kind.__name__}("):  # Not the one dataclass makes.
            out.extend([" ".join(kind.__doc__.split()), ""])
        parent = kind.__mro__[1]
        inherited = {f.name for f in dataclasses.fields(parent)} if dataclasses.is_dataclass(parent) else set()
        if inherited:
            out.extend([f"The keys of [{parent.__name__}](#{parent.__name__.lower()}), then:", ""])
        out.extend(["| key | type | meaning |", "| --- | --- | --- |"])
        parts = []
        for spec in dataclasses.fields(kind):  # type: ignore[arg-type]
            if spec.name in inherited:
                continue
            hint = _hints(kind)[spec.name]
            allowed = spec.metadata.get("one_of")
            meaning = spec.metadata["doc"] + (f" (one of `{'`, `'.join(allowed)}`)" if allowed else "")
            absent = "; absent when null" if spec.metadata.get("omit_none") else ""
            out.append(f"| `{spec.name}` | {_type_name(hint)}{absent} | {meaning} |")
            parts += _parts(hint)
        out.append("")
        for part in parts:
            describe(part)

    for root in roots:
        describe(root)
    return "\n".join(out)
