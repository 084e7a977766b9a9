"""Read and validate the catalogue: codes/ shipped in the package, plus any `--codes DIR` overrides.

Every problem is collected as `file: key: problem` and raised together in one CatalogueError.
Files in an override directory replace shipped files with the same id (entries, signatures,
causes) and add new ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.catalogue import model as m
from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from importlib.resources.abc import Traversable

    from analyzer.events import Event


class CatalogueError(AnalyzerError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid catalogue:\n  " + "\n  ".join(problems))
        self.problems = problems


ENTRY_KEYS = {
    "id": str,
    "provider": str,
    "event_id": int,
    "channel": str,
    "name": str,
    "aliases": list,
    "documented": bool,
    "level": str,
    "category": str,
    "role": str,
    "operation": str,
    "title": dict,
    "meaning": dict,
    "causes": list,
    "references": list,
    "examples": list,
    "signature": dict,
}
CAUSE_KEYS = {
    "id": str,
    "title": dict,
    "severity": str,
    "category": str,
    "checklist": str,
    "explanation": dict,
    "fixes": list,
    "references": list,
}
ENTRY_REQUIRED = {"id", "name", "title", "meaning", "references", "examples"}
EVENT_REQUIRED = {"provider", "event_id", "level", "category", "role"}
CAUSE_REQUIRED = set(CAUSE_KEYS) - {"checklist"}
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def index_key(provider: str, event_id: int) -> tuple[str, int]:
    """The one key entries are stored, looked up and checked for duplicates by."""
    return provider.casefold(), event_id


@dataclass
class Catalogue:
    entries: dict[tuple[str, int], m.Entry] = field(default_factory=dict)
    signatures: list[m.Entry] = field(default_factory=list)
    causes: dict[str, m.Cause] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)  # provider -> report|ignore
    version: str = ""  # content hash of every file loaded: reports name the exact catalogue

    def wanted(self, everything: bool = False) -> dict[str, frozenset[int] | None]:
        """What a reader must parse: every event of a provider whose unknown codes are reported;
        of the others, the codes the diagnosis uses (all catalogued codes with `everything`,
        e.g. for the timeline; without it, purely informational ones are only counted)."""

        def used(entry: m.Entry) -> bool:
            return everything or entry.role != "info" or bool(entry.rules)

        return {
            provider: None
            if policy == "report"
            else frozenset(
                e.event_id
                for e in self.entries.values()
                if e.provider == provider and e.event_id is not None and used(e)
            )
            for provider, policy in self.providers.items()
        }

    def entry_for(self, provider: str, event_id: int) -> m.Entry | None:
        return self.entries.get(index_key(provider, event_id))

    def all_entries(self) -> list[m.Entry]:
        return sorted(self.entries.values(), key=lambda e: (e.provider or "", e.event_id or 0)) + self.signatures

    def find(self, code: str) -> list[m.Entry]:
        """Entries whose id, event id or HRESULT is `code`."""
        wanted = code.casefold().removeprefix("0x")
        return [e for e in self.all_entries() if wanted in (e.id.casefold(), e.code.casefold())]

    def search(self, words: str) -> list[m.Entry]:
        needle = words.casefold()

        def text(e: m.Entry) -> str:
            parts = [e.id, e.name, *e.aliases, e.title.en, e.title.zh_cn, e.meaning.en, e.meaning.zh_cn]
            for rule in e.rules:
                cause = self.causes.get(rule.cause)
                parts += [rule.cause, *(p.pattern for p in rule.patterns)]
                if cause:
                    parts += [cause.title.en, cause.title.zh_cn, cause.explanation.en]
                    parts += [f.en for f in cause.fixes]
            return " ".join(parts).casefold()

        return [e for e in self.all_entries() if needle in text(e)]

    def classify(self, event: Event) -> tuple[m.Entry | None, str | None, bool]:
        """(entry, cause id, specific): the event's entry and its most specific cause."""
        entry = self.entry_for(event.provider, event.event_id)
        if entry is None:
            return None, None, False
        return (entry, *self.cause_of(entry, "\n".join(event.data)))

    def cause_of(self, entry: m.Entry, text: str) -> tuple[str | None, bool]:
        if not entry.rules and not entry.is_signature:
            return None, False  # informational: no cause to look for
        rule = entry.specific_rule(text)
        if rule is None and not entry.is_signature:
            for signature in self.signatures:
                if signature.applies(entry.category):
                    rule = signature.specific_rule(text)
                    if rule:
                        break
        if rule is not None:
            return rule.cause, True
        default = entry.default_rule()
        return (default.cause if default else None), False


# --- validation ------------------------------------------------------------------------------
class _Checker:
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems

    def fail(self, key: str, problem: str) -> None:
        self.problems.append(f"{self.source}: {key}: {problem}")

    def keys(self, data: dict[str, Any], allowed: dict[str, type], required: set[str], where: str = "") -> bool:
        """Report unknown, mistyped and missing keys, dropping unusable values from `data` so that the
        rest can still be checked. Returns whether every required key is usable."""
        mistyped = set()
        for key in list(data):
            if key not in allowed:
                self.fail(where + key, "unknown key")
                del data[key]
            elif not isinstance(data[key], allowed[key]) or (allowed[key] is int and isinstance(data[key], bool)):
                self.fail(where + key, f"must be {allowed[key].__name__}, not {type(data[key]).__name__}")
                mistyped.add(key)
                del data[key]
        missing = sorted(required - set(data))
        for key in missing:
            if key not in mistyped:
                self.fail(where + key, "missing")
        return not missing

    def enum(self, data: dict[str, Any], key: str, allowed: Iterable[str]) -> None:
        if key in data and data[key] not in allowed:
            self.fail(key, f"{data[key]!r} is not one of {', '.join(allowed)}")

    def text(self, value: Any, key: str) -> m.Text:
        if (
            not isinstance(value, dict)
            or set(value) != set(m.LANGS)
            or not all(isinstance(v, str) and v.strip() for v in value.values())
        ):
            self.fail(key, f"needs exactly these languages, non-empty: {', '.join(m.LANGS)}")
            return m.Text("", "")
        return m.Text(value["en"], value["zh-CN"])

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a list of strings")
            return ()
        return tuple(value)

    def regex(self, pattern: Any, key: str) -> re.Pattern[str] | None:
        if not isinstance(pattern, str):
            self.fail(key, "must be a string")
            return None
        try:
            return re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            self.fail(key, f"invalid regex: {exc}")
            return None


def _cause(data: dict[str, Any], check: _Checker) -> m.Cause | None:
    usable = check.keys(data, CAUSE_KEYS, CAUSE_REQUIRED)
    check.enum(data, "severity", m.SEVERITIES)
    check.enum(data, "category", m.CAUSE_CATEGORIES)
    check.enum(data, "checklist", m.CHECKLIST)
    if "id" in data and not SLUG.match(data["id"]):
        check.fail("id", "must be a lower-case slug")
    title = check.text(data["title"], "title") if "title" in data else None
    explanation = check.text(data["explanation"], "explanation") if "explanation" in data else None
    fixes = tuple(check.text(f, f"fixes[{i}]") for i, f in enumerate(data.get("fixes", [])))
    if "fixes" in data and not fixes:
        check.fail("fixes", "needs at least one step")
    references = check.strings(data.get("references", []), "references")
    if not usable or title is None or explanation is None:
        return None
    return m.Cause(
        id=data["id"],
        title=title,
        severity=data["severity"],
        category=data["category"],
        explanation=explanation,
        fixes=fixes,
        references=references,
        checklist=data.get("checklist"),
        source=check.source,
    )


def _rules(data: list[Any], check: _Checker) -> tuple[m.Rule, ...]:
    rules = []
    for i, item in enumerate(data):
        where = f"causes[{i}]."
        if not isinstance(item, dict) or not check.keys(item, {"cause": str, "patterns": list}, {"cause"}, where):
            continue
        compiled = [check.regex(p, f"{where}patterns[{j}]") for j, p in enumerate(item.get("patterns", []))]
        rules.append(m.Rule(item["cause"], tuple(p for p in compiled if p)))
    if sum(1 for r in rules if not r.patterns) > 1:
        check.fail("causes", "more than one default cause (a cause without patterns)")
    return tuple(rules)


def _entry(data: dict[str, Any], check: _Checker) -> m.Entry | None:
    signature = data.get("signature")
    required = ENTRY_REQUIRED | ({"causes"} if signature is not None else EVENT_REQUIRED)
    usable = check.keys(data, ENTRY_KEYS, required)
    for key, allowed in (
        ("level", m.LEVELS),
        ("category", m.ENTRY_CATEGORIES),
        ("role", m.ROLES),
        ("operation", m.OPERATIONS),
    ):
        check.enum(data, key, allowed)
    if "id" in data and not SLUG.match(data["id"]):
        check.fail("id", "must be a lower-case slug")
    if data.get("role") in ("start", "success") and "operation" not in data:
        check.fail("operation", f"required for role {data['role']}")
    hresult, applies = None, ()
    if signature is not None:
        if signature.get("hresult") is not None:
            hresult = str(signature["hresult"])
        applies = check.strings(signature.get("applies_to", ["all"]), "signature.applies_to")
        for category in applies:
            if category != "all" and category not in m.ENTRY_CATEGORIES:
                check.fail("signature.applies_to", f"{category!r} is not an entry category")
        if set(signature) - {"hresult", "applies_to"}:
            check.fail("signature", "unknown key")
    examples = []
    for i, item in enumerate(data.get("examples", [])):
        where = f"examples[{i}]."
        if isinstance(item, dict) and check.keys(
            item, {"text": str, "matches": bool, "cause": str}, {"text", "matches"}, where
        ):
            examples.append(m.Example(item["text"], item["matches"], item.get("cause")))
    if not any(e.matches for e in examples) or all(e.matches for e in examples):
        check.fail("examples", "needs at least one matching and one non-matching example")
    rules = _rules(data.get("causes", []), check)
    title = check.text(data["title"], "title") if "title" in data else None
    meaning = check.text(data["meaning"], "meaning") if "meaning" in data else None
    references = check.strings(data.get("references", []), "references")
    aliases = check.strings(data.get("aliases", []), "aliases")
    if not usable or title is None or meaning is None:
        return None
    return m.Entry(
        id=data["id"],
        name=data["name"],
        title=title,
        meaning=meaning,
        rules=rules,
        references=references,
        examples=tuple(examples),
        provider=data.get("provider"),
        event_id=data.get("event_id"),
        channel=data.get("channel", "Application"),
        aliases=aliases,
        documented=data.get("documented", True),
        level=data.get("level", "error"),
        category=data.get("category", "service"),
        role=data.get("role", "info"),
        operation=data.get("operation"),
        hresult=hresult,
        applies_to=applies,
        source=check.source,
    )


def _sources(root: Traversable | Path) -> list[tuple[str, str]]:
    """(path under root, text) of every YAML file, in name order; `_`-prefixed files are templates."""
    found: list[tuple[str, str]] = []

    def walk(node: Traversable | Path, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = f"{prefix}/{child.name}" if prefix else child.name
            if child.is_dir():
                walk(child, name)
            elif child.name.endswith((".yaml", ".yml")) and not child.name.startswith("_"):
                found.append((name, child.read_text(encoding="utf-8")))

    walk(root, "")
    return found


def _documents(
    sources: list[tuple[str, str]], problems: list[str], shown: str = ""
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every YAML mapping of causes/, events/, signatures/ (keyed by id), and providers."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, text in sources:
        try:
            data = yaml.load(text, Loader=loader)
        except yaml.YAMLError as exc:
            problems.append(f"{shown}{name}: -: not valid YAML ({type(exc).__name__})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{shown}{name}: -: must be a mapping")
            continue
        kind = name.split("/", 1)[0]
        key = "providers" if name == "providers.yaml" else f"{kind}:{data.get('id')}"
        found[key] = (name, data)
    return found


# The shipped YAML, already parsed, as JSON (about ten times quicker to read than the YAML). Used
# only while it matches the YAML byte for byte; `python -m analyzer.catalogue.loader` rewrites it
# and a test fails when it is stale.
SIDECAR = "catalogue.json"


def _digest(sources: list[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def _shipped(problems: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    root = files("analyzer.codes")
    sources = _sources(root)
    try:
        cached = json.loads(root.joinpath(SIDECAR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = {}
    if cached.get("digest") == _digest(sources):
        return {key: (name, data) for key, (name, data) in cached["documents"].items()}
    return _documents(sources, problems)


def write_sidecar(root: Path) -> Path:
    """Parse the YAML under `root` (codes/) and write it as the JSON sidecar next to it."""
    problems: list[str] = []
    sources = _sources(root)
    documents = _documents(sources, problems)
    if problems or json.loads(json.dumps(documents)) != {k: list(v) for k, v in documents.items()}:
        raise CatalogueError(problems or ["the catalogue does not survive a JSON round trip"])
    target = root / SIDECAR
    target.write_text(json.dumps({"digest": _digest(sources), "documents": documents}, sort_keys=True) + "\n")
    return target


def load(extra: Path | None = None, shipped: bool = True) -> Catalogue:
    """The shipped catalogue, overlaid with `extra` (a directory laid out like codes/)."""
    problems: list[str] = []
    documents: dict[str, tuple[str, dict[str, Any]]] = {}
    if shipped:
        documents.update(_shipped(problems))
    if extra is not None:
        if not extra.is_dir():
            raise CatalogueError([f"{extra}: -: not a directory"])
        found = _documents(_sources(extra), problems, f"{extra}/")
        documents.update({k: (str(extra / n), d) for k, (n, d) in found.items()})
    catalogue = Catalogue()
    digest = hashlib.sha256(json.dumps(sorted(documents.items()), sort_keys=True, default=str).encode())
    catalogue.version = f"{len(documents)}-{digest.hexdigest()[:12]}"
    entries: list[m.Entry] = []
    for key, (source, data) in sorted(documents.items()):
        check = _Checker(source, problems)
        if key == "providers":
            for provider, spec in (data.get("providers") or {}).items():
                policy = spec.get("unknown") if isinstance(spec, dict) else None
                if policy not in ("report", "ignore"):
                    check.fail(f"providers.{provider}.unknown", "must be report or ignore")
                catalogue.providers[provider] = policy or "ignore"
        elif key.startswith("causes:"):
            cause = _cause(data, check)
            if cause:
                catalogue.causes[cause.id] = cause
        elif key.startswith(("events:", "signatures:")):
            entry = _entry(data, check)
            if entry:
                entries.append(entry)
        else:
            check.fail("-", "outside causes/, events/ and signatures/")
    _index(catalogue, entries, problems)
    if problems:
        raise CatalogueError(problems)
    return catalogue


def _index(catalogue: Catalogue, entries: list[m.Entry], problems: list[str]) -> None:
    seen_ids: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.id in seen_ids:
            problems.append(f"{entry.source}: id: duplicate of {seen_ids[entry.id]}")
            continue
        seen_ids[entry.id] = entry.source
        for i, rule in enumerate(entry.rules):
            if rule.cause not in catalogue.causes:
                problems.append(f"{entry.source}: causes[{i}].cause: unknown cause {rule.cause!r}")
        if entry.is_signature:
            catalogue.signatures.append(entry)
            continue
        key = index_key(entry.provider or "", entry.event_id or 0)
        if key in catalogue.entries:
            other = catalogue.entries[key].source
            problems.append(f"{entry.source}: event_id: {entry.provider} {entry.event_id} is also in {other}")
            continue
        catalogue.entries[key] = entry


def example_problems(catalogue: Catalogue) -> list[str]:
    """Run every entry's examples: recognition and the cause picked must be as the entry says."""
    problems = []
    for entry in catalogue.all_entries():
        for i, example in enumerate(entry.examples):
            where = f"{entry.source}: examples[{i}]"
            if entry.recognizes(example.text) != example.matches:
                problems.append(f"{where}: expected matches={example.matches}")
            cause, _ = catalogue.cause_of(entry, example.text)
            if cause != example.cause:
                problems.append(f"{where}: picked cause {cause!r}, expected {example.cause!r}")
    return problems


if __name__ == "__main__":  # python -m analyzer.catalogue.loader: refresh codes/catalogue.json
    print(write_sidecar(Path(__file__).resolve().parents[2] / "codes"))
