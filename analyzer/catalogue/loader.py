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
from analyzer.catalogue import tables
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
    "corroborated_by": dict,
    "dates": list,
}
CAUSE_KEYS = {
    "id": str,
    "title": dict,
    "severity": str,
    "category": str,
    "scope": str,
    "checklist": str,
    "refines": list,
    "when": str,
    "explanation": dict,
    "fixes": list,
    "references": list,
}
ENTRY_REQUIRED = {"id", "name", "title", "meaning", "references", "examples"}
EVENT_REQUIRED = {"provider", "event_id", "level", "category", "role"}
CAUSE_REQUIRED = set(CAUSE_KEYS) - {"checklist", "refines", "when"}
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PHRASE_KEYS = {"text": str, "example": str, "source": str}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def phrase_pattern(text: str) -> re.Pattern[str]:
    """A localized phrase as a pattern: the literal text, any run of white space (line breaks,
    non-breaking spaces) where it has one, and either apostrophe (' or ’)."""
    parts = [re.sub("['’]", "['’]", re.escape(word)) for word in text.split()]
    return re.compile(r"\s+".join(parts), re.IGNORECASE)


@dataclass(frozen=True)
class Phrase:
    """A .NET or Windows message as one display language writes it (codes/phrases/<lang>.yaml)."""

    lang: str
    message: str
    text: str
    example: str
    source: str
    file: str


@dataclass(frozen=True)
class Cloud:
    """An Azure cloud, told by the host names in a server's events (codes/clouds.yaml)."""

    id: str
    title: m.Text
    suffixes: tuple[str, ...]  # host name endings that belong to this cloud
    values: dict[str, m.Text]  # what the placeholders in fix texts say for this cloud
    references: tuple[str, ...] = ()


def index_key(provider: str, event_id: int) -> tuple[str, int]:
    """The one key entries are stored, looked up and checked for duplicates by."""
    return provider.casefold(), event_id


@dataclass
class Catalogue:
    entries: dict[tuple[str, int], m.Entry] = field(default_factory=dict)
    signatures: list[m.Entry] = field(default_factory=list)
    causes: dict[str, m.Cause] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)  # provider -> report|ignore
    phrases: dict[str, dict[str, list[Phrase]]] = field(default_factory=dict)  # lang -> message -> variants
    clouds: dict[str, Cloud] = field(default_factory=dict)  # "unknown" is the cloud of no host
    clusters: list[m.Cluster] = field(default_factory=list)
    checklist: dict[str, m.Text] = field(default_factory=dict)  # Microsoft's prerequisites, by item id
    user_codes: dict[str, m.UserCode] = field(default_factory=dict)  # SSPR_0029 -> what to check
    version: str = ""  # content hash of every file loaded: reports name the exact catalogue

    def cloud_of(self, host: str | None) -> str | None:
        """The cloud a host name (a Service Bus namespace, a password reset endpoint) belongs to."""
        if host:
            host = host.casefold().rstrip(".")
            for cloud in self.clouds.values():
                if any(host == s or host.endswith("." + s) for s in cloud.suffixes):
                    return cloud.id
        return None

    def fill(self, text: str, cloud: str | None = None, namespace: str | None = None, lang: str = "en") -> str:
        """A fix text with its placeholders filled for one server: the endpoints of its cloud (all
        clouds named when it is not known), and its Service Bus namespace host when it is."""
        if "{" not in text:
            return text
        known = self.clouds.get(cloud or "unknown") or self.clouds.get("unknown")
        values = {name: value.get(lang) for name, value in (known.values if known else {}).items()}
        if namespace:
            values["namespace"] = namespace
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

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

    def find(self, code: str) -> list[m.Entry | m.UserCode]:
        """Entries whose id, event id or HRESULT is `code` (`0x` or not, any case), that name the
        cause `code`, or whose patterns mention the HRESULT `code`; or the SSPR code a user saw
        (SSPR_0029)."""
        user_code = tables.find_user_code(self, code)
        if user_code is not None:
            return [user_code]
        wanted = code.strip().casefold().removeprefix("0x")
        if not wanted:
            return []
        hresult = len(wanted) == 8 and all(c in "0123456789abcdef" for c in wanted)

        def matches(e: m.Entry) -> bool:
            if wanted in (e.id.casefold(), e.code.casefold()) or any(r.cause == wanted for r in e.rules):
                return True
            return hresult and any(wanted in p.pattern.casefold() for r in e.rules for p in r.patterns)

        return [e for e in self.all_entries() if matches(e)]

    def search(self, words: str) -> list[m.Entry]:
        """Entries whose text (names, titles, meanings, causes, fixes, patterns) holds every word."""
        needles = words.casefold().split()

        def text(e: m.Entry) -> str:
            parts = [e.id, e.name, *e.aliases, e.title.en, e.title.zh_cn, e.meaning.en, e.meaning.zh_cn]
            for rule in e.rules:
                cause = self.causes.get(rule.cause)
                parts += [rule.cause, *(p.pattern for p in rule.patterns)]
                if cause:
                    parts += [cause.title.en, cause.title.zh_cn, cause.explanation.en, cause.explanation.zh_cn]
                    parts += [f.en for f in cause.fixes]
            return " ".join(parts).casefold()

        return [e for e in self.all_entries() if all(n in text(e) for n in needles)]

    def classify(self, event: Event) -> tuple[m.Entry | None, str | None, bool, str | None]:
        """(entry, cause id, specific, evidence): the event's entry, its most specific cause, and what in
        its text picked that cause (None for a default cause)."""
        entry = self.entry_for(event.provider, event.event_id)
        if entry is None:
            return None, None, False, None
        cause, specific, found = self.explain(entry, "\n".join(event.data))
        return entry, cause, specific, found.describe() if found else None

    def cause_of(self, entry: m.Entry, text: str) -> tuple[str | None, bool]:
        """(cause id, specific) for a text of this entry: see `explain` for why."""
        cause, specific, _ = self.explain(entry, text)
        return cause, specific

    def explain(self, entry: m.Entry, text: str) -> tuple[str | None, bool, m.Found | None]:
        """(cause id, specific, evidence): the entry's own rules, then the signatures that apply to
        its category (generic ones last), then its default. `evidence` is None for a default."""
        if not entry.rules and not entry.is_signature:
            return None, False, None  # informational: no cause to look for
        for rule in entry.rules:
            found = rule.find(text) if rule.clues else None
            if found:
                return rule.cause, not entry.generic, found
        if not entry.is_signature:
            for signature in self.signatures:  # in order: specific first, generic last
                if signature.applies(entry.category):
                    for rule in signature.rules:
                        found = rule.find(text)
                        if found:
                            return rule.cause, not signature.generic, found
        default = entry.default_rule()
        return (default.cause if default else None), False, None


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
    check.enum(data, "scope", m.SCOPES)
    check.enum(data, "when", m.WHEN)
    if "when" in data and not data.get("refines"):
        check.fail("when", "only with refines")
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
        scope=data["scope"],
        checklist=data.get("checklist"),
        refines=check.strings(data.get("refines", []), "refines"),
        when=data.get("when"),
        source=check.source,
    )


def _rules(data: list[Any], check: _Checker, phrases: dict[str, dict[str, list[Phrase]]]) -> tuple[m.Rule, ...]:
    """A list of rules; each rule's clues are its patterns (language-independent), then the
    phrases of the messages it names, English first, then the other languages in name order."""
    rules = []
    known = phrases.get("en", {})
    for i, item in enumerate(data):
        where = f"causes[{i}]."
        spec = {"cause": str, "patterns": list, "messages": list}
        if not isinstance(item, dict) or not check.keys(item, spec, {"cause"}, where):
            continue
        clues = []
        for j, pattern in enumerate(item.get("patterns", [])):
            compiled = check.regex(pattern, f"{where}patterns[{j}]")
            if compiled:
                clues.append(m.Clue(compiled, "token"))
        for message in check.strings(item.get("messages", []), f"{where}messages"):
            if message not in known:
                check.fail(f"{where}messages", f"{message!r} is not a message of phrases/en.yaml")
            for lang in sorted(phrases, key=lambda lang: (lang != "en", lang)):
                for phrase in phrases[lang].get(message, []):
                    clues.append(m.Clue(phrase_pattern(phrase.text), "phrase", lang, message))
        rules.append(m.Rule(item["cause"], tuple(clues)))
    if sum(1 for r in rules if not r.clues) > 1:
        check.fail("causes", "more than one default cause (a cause without patterns)")
    return tuple(rules)


def _corroboration(data: Any, check: _Checker) -> tuple[tuple[str, ...], int]:
    if data is None:
        return (), 0
    if not check.keys(data, {"codes": list, "minutes": int}, {"codes", "minutes"}, "corroborated_by."):
        return (), 0
    codes = check.strings(data["codes"], "corroborated_by.codes")
    for code in codes:
        provider, _, number = code.rpartition("/")
        if not provider or not number.isdigit():
            check.fail("corroborated_by.codes", f"{code!r} is not Provider/EventID")
    return codes, data["minutes"]


def _phrases(data: dict[str, Any], check: _Checker) -> dict[str, list[Phrase]]:
    """One language's messages (codes/phrases/<lang>.yaml); a message has one wording or a list of them."""
    if not check.keys(data, {"lang": str, "name": str, "messages": dict}, {"lang", "name", "messages"}):
        return {}
    found: dict[str, list[Phrase]] = {}
    for message, spec in data["messages"].items():
        variants = spec if isinstance(spec, list) else [spec]
        for i, item in enumerate(variants):
            where = f"messages.{message}" + (f"[{i}]." if isinstance(spec, list) else ".")
            if not isinstance(item, dict) or not check.keys(item, PHRASE_KEYS, set(PHRASE_KEYS), where):
                continue
            if not item["text"].strip():
                check.fail(where + "text", "empty")
                continue
            if not phrase_pattern(item["text"]).search(item["example"]):
                check.fail(where + "example", "does not contain the text")
            phrase = Phrase(data["lang"], message, item["text"], item["example"], item["source"], check.source)
            found.setdefault(message, []).append(phrase)
    return found


def _clusters(data: dict[str, Any], check: _Checker) -> list[m.Cluster]:
    if not check.keys(data, {"clusters": list}, {"clusters"}):
        return []
    found = []
    spec = {"id": str, "title": dict, "cause": str, "codes": list, "minimum": int, "within_minutes": int}
    for i, item in enumerate(data["clusters"]):
        where = f"clusters[{i}]."
        if not isinstance(item, dict) or not check.keys(item, {**spec, "tracking_id": list}, set(spec), where):
            continue
        codes = check.strings(item["codes"], where + "codes")
        tracking = check.strings(item.get("tracking_id", []), where + "tracking_id")
        if not set(tracking) <= set(codes):
            check.fail(where + "tracking_id", "names codes that are not in codes")
        if not 1 <= item["minimum"] <= len(codes):
            check.fail(where + "minimum", f"must be between 1 and {len(codes)}")
        title = check.text(item["title"], where + "title")
        found.append(
            m.Cluster(item["id"], title, item["cause"], codes, item["minimum"], item["within_minutes"], tracking)
        )
    return found


def _clouds(data: dict[str, Any], check: _Checker) -> dict[str, Cloud]:
    if not check.keys(data, {"clouds": dict}, {"clouds"}):
        return {}
    found = {}
    for name, spec in data["clouds"].items():
        where = f"clouds.{name}."
        allowed = {"title": dict, "suffixes": list, "values": dict, "references": list}
        if not isinstance(spec, dict) or not check.keys(spec, allowed, {"title", "values"}, where):
            continue
        values = {key: check.text(value, f"{where}values.{key}") for key, value in spec["values"].items()}
        found[name] = Cloud(
            name,
            check.text(spec["title"], where + "title"),
            tuple(s.casefold() for s in check.strings(spec.get("suffixes", []), where + "suffixes")),
            values,
            check.strings(spec.get("references", []), where + "references"),
        )
    if "unknown" not in found:
        check.fail("clouds", "needs an `unknown` cloud (the placeholders' values when no host tells the cloud)")
    names = [set(c.values) for c in found.values()]
    if names and any(n != names[0] for n in names):
        check.fail("clouds", "every cloud must give the same placeholders")
    return found


def _entry(data: dict[str, Any], check: _Checker, phrases: dict[str, dict[str, list[Phrase]]]) -> m.Entry | None:
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
    hresult, applies, generic = None, (), False
    if signature is not None:
        if signature.get("hresult") is not None:
            hresult = str(signature["hresult"])
        applies = check.strings(signature.get("applies_to", ["all"]), "signature.applies_to")
        for category in applies:
            if category != "all" and category not in m.ENTRY_CATEGORIES:
                check.fail("signature.applies_to", f"{category!r} is not an entry category")
        generic = signature.get("generic", False)
        if not isinstance(generic, bool):
            check.fail("signature.generic", "must be true or false")
        if set(signature) - {"hresult", "applies_to", "generic"}:
            check.fail("signature", "unknown key")
    corroborated_by, minutes = _corroboration(data.get("corroborated_by"), check)
    examples = []
    for i, item in enumerate(data.get("examples", [])):
        where = f"examples[{i}]."
        if isinstance(item, dict) and check.keys(
            item, {"text": str, "matches": bool, "cause": str}, {"text", "matches"}, where
        ):
            examples.append(m.Example(item["text"], item["matches"], item.get("cause")))
    if not any(e.matches for e in examples) or all(e.matches for e in examples):
        check.fail("examples", "needs at least one matching and one non-matching example")
    rules = _rules(data.get("causes", []), check, phrases)
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
        generic=generic is True,
        corroborated_by=corroborated_by,
        dates=check.strings(data.get("dates", []), "dates"),
        corroboration_minutes=minutes,
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


# Files of one table each, at the top of codes/ (keyed by their name without .yaml).
TABLES = ("providers.yaml", "clouds.yaml", "clusters.yaml", "checklist.yaml", "sspr-codes.yaml")


def _documents(
    sources: list[tuple[str, str]], problems: list[str], shown: str = ""
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every YAML mapping of causes/, events/, signatures/ (keyed by id), phrases/ (by language), and the
    tables at the top (TABLES, by name)."""
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
        if name in TABLES:
            key = name.removesuffix(".yaml")
        else:
            key = f"{kind}:{data.get('lang') if kind == 'phrases' else data.get('id')}"
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
    # First what entries refer to (phrases, clouds, causes, providers), then the entries.
    ordered = sorted(documents.items(), key=lambda item: (item[0].startswith(("events:", "signatures:")), item[0]))
    for key, (source, data) in ordered:
        check = _Checker(source, problems)
        if key == "providers":
            for provider, spec in (data.get("providers") or {}).items():
                policy = spec.get("unknown") if isinstance(spec, dict) else None
                if policy not in ("report", "ignore"):
                    check.fail(f"providers.{provider}.unknown", "must be report or ignore")
                catalogue.providers[provider] = policy or "ignore"
        elif key == "clouds":
            catalogue.clouds = _clouds(data, check)
        elif key == "clusters":
            catalogue.clusters = _clusters(data, check)
        elif key == "checklist":
            catalogue.checklist = tables.checklist(data, check)
        elif key == "sspr-codes":
            catalogue.user_codes = tables.user_codes(data, check)
        elif key.startswith("phrases:"):
            catalogue.phrases[key.removeprefix("phrases:")] = _phrases(data, check)
        elif key.startswith("causes:"):
            cause = _cause(data, check)
            if cause:
                catalogue.causes[cause.id] = cause
        elif key.startswith(("events:", "signatures:")):
            entry = _entry(data, check, catalogue.phrases)
            if entry:
                entries.append(entry)
        else:
            check.fail("-", "outside causes/, events/, signatures/ and phrases/")
    _index(catalogue, entries, problems)
    _check_references(catalogue, problems)
    if problems:
        raise CatalogueError(problems)
    return catalogue


def _check_references(catalogue: Catalogue, problems: list[str]) -> None:
    """Placeholders in fixes name a cloud value; checklist items and causes named exist; every message
    and phrase file is used and known."""
    allowed = {"namespace"} | {name for cloud in catalogue.clouds.values() for name in cloud.values}
    tables.references(catalogue, problems)
    for cause in catalogue.causes.values():
        for other in cause.refines:
            if other not in catalogue.causes:
                problems.append(f"{cause.source}: refines: unknown cause {other!r}")
        for i, fix in enumerate(cause.fixes):
            for lang in m.LANGS:
                for name in PLACEHOLDER.findall(fix.get(lang)):
                    if name not in allowed:
                        problems.append(f"{cause.source}: fixes[{i}]: unknown placeholder {{{name}}}")
    for cluster in catalogue.clusters:
        if cluster.cause not in catalogue.causes:
            problems.append(f"clusters.yaml: {cluster.id}.cause: unknown cause {cluster.cause!r}")
    used = {c.message for e in catalogue.all_entries() for r in e.rules for c in r.clues if c.message}
    english = catalogue.phrases.get("en", {})
    for message, variants in english.items():
        if message not in used:
            problems.append(f"{variants[0].file}: messages.{message}: no rule names this message")
    for messages in catalogue.phrases.values():
        for message, variants in messages.items():
            if message not in english:
                problems.append(f"{variants[0].file}: messages.{message}: not a message of phrases/en.yaml")


def _index(catalogue: Catalogue, entries: list[m.Entry], problems: list[str]) -> None:
    seen_ids: dict[str, str] = {}
    entries = sorted(entries, key=lambda e: (e.generic, e.id))  # generic signatures are tried last
    for entry in entries:
        if entry.id in seen_ids:
            problems.append(f"{entry.source}: id: duplicate of {seen_ids[entry.id]}")
            continue
        seen_ids[entry.id] = entry.source
        for i, rule in enumerate(entry.rules):
            if rule.cause not in catalogue.causes:
                problems.append(f"{entry.source}: causes[{i}].cause: unknown cause {rule.cause!r}")
        for cause in entry.dates:
            if cause not in catalogue.causes:
                problems.append(f"{entry.source}: dates: unknown cause {cause!r}")
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
    """Run every example: recognition and the cause picked must be as the entry says; every pattern
    is exercised by an example of its entry; every phrase's example, in an event the rule applies
    to, picks the rule's cause (so no earlier rule takes it)."""
    problems = []
    for entry in catalogue.all_entries():
        for i, example in enumerate(entry.examples):
            where = f"{entry.source}: examples[{i}]"
            if entry.recognizes(example.text) != example.matches:
                problems.append(f"{where}: expected matches={example.matches}")
            cause, _ = catalogue.cause_of(entry, example.text)
            if cause != example.cause:
                problems.append(f"{where}: picked cause {cause!r}, expected {example.cause!r}")
        for i, rule in enumerate(entry.rules):
            for j, clue in enumerate(c for c in rule.clues if c.kind == "token"):
                if not any(clue.pattern.search(e.text) for e in entry.examples):
                    problems.append(f"{entry.source}: causes[{i}].patterns[{j}]: no example contains it")
            host = _host(catalogue, entry)
            phrases = {(c.lang, c.message) for c in rule.clues if c.kind == "phrase"}
            for lang, message in sorted(phrases) if host is not None else ():
                for phrase in catalogue.phrases[lang or ""][message or ""]:
                    cause, _ = catalogue.cause_of(host, phrase.example)  # type: ignore[arg-type]
                    if cause != rule.cause:
                        problems.append(
                            f"{phrase.file}: messages.{phrase.message}.example: picked cause {cause!r} in "
                            f"{host.provider} {host.event_id}, expected {rule.cause!r}"  # type: ignore[union-attr]
                        )
    return problems


def _host(catalogue: Catalogue, entry: m.Entry) -> m.Entry | None:
    """An event entry whose texts a rule of `entry` is tried on: the entry itself, or for a signature
    the first event entry of a category it applies to that has a default cause."""
    if not entry.is_signature:
        return entry
    return next(
        (e for e in catalogue.all_entries() if not e.is_signature and e.default_rule() and entry.applies(e.category)),
        None,
    )


if __name__ == "__main__":  # python -m analyzer.catalogue.loader: refresh codes/catalogue.json
    print(write_sidecar(Path(__file__).resolve().parents[2] / "codes"))
