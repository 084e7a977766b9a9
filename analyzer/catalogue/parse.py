"""One catalogue document parsed and validated: causes, entries (with their rules and clues),
phrases, clouds and clusters. Every problem is collected as `file: key: problem` by a `Checker`;
nothing here raises."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from analyzer.catalogue import model as m
from analyzer.catalogue.model import Cloud, Phrase

if TYPE_CHECKING:
    from collections.abc import Iterable

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
# English only: a message that servers write in English whatever their display language.
PHRASE_OPTIONAL = {"untranslated": bool}


def phrase_regex(text: str) -> str:
    """A localized phrase as a (case-insensitive) regex: the literal text in the folded form event
    texts are matched in (`model.fold`: NFKC), any run of white space (line breaks, non-breaking
    spaces) where it has one, and either apostrophe (' or ’)."""
    parts = [re.sub("['’]", "['’]", re.escape(word)) for word in m.fold(text).split()]
    return r"\s+".join(parts)


def phrase_pattern(text: str) -> re.Pattern[str]:
    return re.compile(phrase_regex(text), re.IGNORECASE)


def _phrase_in(text: str, example: str) -> bool:
    """Whether `phrase_pattern(text)` finds `example`, without compiling it (a catalogue has hundreds
    of phrases, checked on every load; a run needs the patterns of few)."""

    def plain(value: str) -> str:
        return " ".join(m.fold(value).replace("’", "'").split()).lower()

    return plain(text) in plain(example)


class Checker:
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


def read_cause(data: dict[str, Any], check: Checker) -> m.Cause | None:
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


def _rules(data: list[Any], check: Checker, phrases: dict[str, dict[str, list[Phrase]]]) -> tuple[m.Rule, ...]:
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
                clues.append(m.Clue(compiled.pattern, "token"))
        for message in check.strings(item.get("messages", []), f"{where}messages"):
            if message not in known:
                check.fail(f"{where}messages", f"{message!r} is not a message of phrases/en.yaml")
            for lang in sorted(phrases, key=lambda lang: (lang != "en", lang)):
                for phrase in phrases[lang].get(message, []):
                    clues.append(m.Clue(phrase_regex(phrase.text), "phrase", lang, message))
        rules.append(m.Rule(item["cause"], tuple(clues)))
    if sum(1 for r in rules if not r.clues) > 1:
        check.fail("causes", "more than one default cause (a cause without patterns)")
    return tuple(rules)


def _corroboration(data: Any, check: Checker) -> tuple[tuple[str, ...], int]:
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


def read_phrases(data: dict[str, Any], check: Checker) -> dict[str, list[Phrase]]:
    """One language's messages (codes/phrases/<lang>.yaml); a message has one wording or a list of them."""
    if not check.keys(data, {"lang": str, "name": str, "messages": dict}, {"lang", "name", "messages"}):
        return {}
    found: dict[str, list[Phrase]] = {}
    for message, spec in data["messages"].items():
        variants = spec if isinstance(spec, list) else [spec]
        for i, item in enumerate(variants):
            where = f"messages.{message}" + (f"[{i}]." if isinstance(spec, list) else ".")
            if not isinstance(item, dict) or not check.keys(
                item, PHRASE_KEYS | PHRASE_OPTIONAL, set(PHRASE_KEYS), where
            ):
                continue
            if item.get("untranslated") and data["lang"] != "en":
                check.fail(where + "untranslated", "only phrases/en.yaml marks a message written in English everywhere")
            if not item["text"].strip():
                check.fail(where + "text", "empty")
                continue
            if not _phrase_in(item["text"], item["example"]):
                check.fail(where + "example", "does not contain the text")
            phrase = Phrase(
                data["lang"],
                message,
                item["text"],
                item["example"],
                item["source"],
                check.source,
                item.get("untranslated", False),
            )
            found.setdefault(message, []).append(phrase)
    return found


def read_clusters(data: dict[str, Any], check: Checker) -> list[m.Cluster]:
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


def read_clouds(data: dict[str, Any], check: Checker) -> dict[str, Cloud]:
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


def read_entry(data: dict[str, Any], check: Checker, phrases: dict[str, dict[str, list[Phrase]]]) -> m.Entry | None:
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
