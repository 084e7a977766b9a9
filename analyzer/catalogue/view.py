"""Views of the catalogue for `wba codes`: a listing, one entry as text, and JSON for other tools."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from analyzer.catalogue.model import UserCode

if TYPE_CHECKING:
    from analyzer.catalogue.loader import Catalogue
    from analyzer.catalogue.model import Entry, Rule


def listing(entries: list[Entry], lang: str) -> str:
    rows = [
        [
            e.provider or "(signature)",
            e.code,
            e.name,
            "-" if e.is_signature else e.level,
            "-" if e.is_signature else e.role,
            e.title.get(lang) + ("" if e.documented else " [undocumented]"),
        ]
        for e in entries
    ]
    return tabulate(rows, headers=["provider", "code", "name", "level", "role", "title"], tablefmt="simple")


def entry(item: Entry | UserCode, catalogue: Catalogue, lang: str) -> str:
    if isinstance(item, UserCode):
        return user_code(item, catalogue, lang)
    where = f"{item.provider} {item.event_id}" if not item.is_signature else f"signature {item.code}"
    lines = [f"{where}: {item.name} [{item.id}]", f"  {item.title.get(lang)}", f"  {item.meaning.get(lang)}"]
    if not item.is_signature:
        lines.append(
            f"  level {item.level}, category {item.category}, role {item.role}"
            + (f", operation {item.operation}" if item.operation else "")
        )
    else:
        lines.append(f"  applies to events of: {', '.join(item.applies_to)}")
    if item.aliases:
        lines.append(f"  text tokens: {', '.join(item.aliases)}")
    if not item.documented:
        lines.append("  Microsoft documents no event with this code.")
    shown: set[str] = set()
    for rule in item.rules:
        cause = catalogue.causes[rule.cause]
        when = _when(rule)
        lines += ["", f"  cause {cause.id} ({cause.severity}; {when}):"]
        if cause.id in shown:
            lines.append("    (as above)")
            continue
        shown.add(cause.id)
        lines += [f"    {cause.title.get(lang)}", f"    {cause.explanation.get(lang)}"]
        lines += [f"    {i}. {catalogue.fill(fix.get(lang), lang=lang)}" for i, fix in enumerate(cause.fixes, 1)]
    if not item.rules and not item.is_signature:
        lines += ["", "  Informational: no cause, nothing to fix."]
    lines += ["", "  references:"] + [f"    {r}" for r in item.references]
    return "\n".join(lines)


def user_code(item: UserCode, catalogue: Catalogue, lang: str) -> str:
    """An SSPR code a user saw: what it means, the causes to check (with their fixes) and its own steps."""
    lines = [
        f"{item.code}: {item.name} (= {item.number}), an error a user sees on the password reset page",
        f"  {item.meaning.get(lang)}",
    ]
    if item.causes:
        lines += ["", "  causes to check, most likely first:"]
    for i, cause_id in enumerate(item.causes, 1):
        cause = catalogue.causes[cause_id]
        lines += ["", f"  {i}. {cause.id} ({cause.severity}): {cause.title.get(lang)}"]
        lines += [f"     - {catalogue.fill(fix.get(lang), lang=lang)}" for fix in cause.fixes]
    if item.steps:
        lines += ["", "  steps:"] + [f"    - {step.get(lang)}" for step in item.steps]
    lines += ["", "  references:"] + [f"    {r}" for r in item.references]
    return "\n".join(lines)


def _when(rule: Rule) -> str:
    """When a rule applies, shortly: its language-independent patterns and the messages it names."""
    tokens = [c.regex for c in rule.clues if c.kind == "token"]
    messages = sorted({c.message for c in rule.clues if c.message})
    langs = sorted({c.lang for c in rule.clues if c.lang})
    parts = [" | ".join(tokens)] if tokens else []
    if messages:
        parts.append(f"messages {', '.join(messages)} in {len(langs)} languages")
    return "when the text shows " + "; or ".join(parts) if parts else "default"


def as_json(items: list[Entry | UserCode], catalogue: Catalogue, lang: str) -> str:
    """Entries (and SSPR codes) with every cause they name, for other tools; fixes filled for no
    particular cloud (every cloud's endpoints named)."""
    causes: dict[str, Any] = {}

    def cause(cause_id: str) -> str:
        found = catalogue.causes[cause_id]
        causes[cause_id] = {
            "title": found.title.get(lang),
            "severity": found.severity,
            "category": found.category,
            "scope": found.scope,
            "checklist": found.checklist,
            "refines": list(found.refines),
            "explanation": found.explanation.get(lang),
            "fixes": [catalogue.fill(f.get(lang), lang=lang) for f in found.fixes],
            "references": list(found.references),
        }
        return cause_id

    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, UserCode):
            out.append(
                {
                    "kind": "sspr-code",
                    "code": item.code,
                    "name": item.name,
                    "number": item.number,
                    "meaning": item.meaning.get(lang),
                    "causes": [cause(c) for c in item.causes],
                    "steps": [step.get(lang) for step in item.steps],
                    "references": list(item.references),
                }
            )
            continue
        out.append(
            {
                "kind": "signature" if item.is_signature else "event",
                "id": item.id,
                "provider": item.provider,
                "event_id": item.event_id,
                "hresult": item.hresult,
                "name": item.name,
                "aliases": list(item.aliases),
                "documented": item.documented,
                "level": None if item.is_signature else item.level,
                "category": item.category,
                "role": None if item.is_signature else item.role,
                "operation": item.operation,
                "title": item.title.get(lang),
                "meaning": item.meaning.get(lang),
                "rules": [
                    {
                        "cause": cause(rule.cause),
                        "patterns": [c.regex for c in rule.clues if c.kind == "token"],
                        "messages": sorted({c.message for c in rule.clues if c.message}),
                    }
                    for rule in item.rules
                ],
                "references": list(item.references),
            }
        )
    doc = {"catalogue": catalogue.version, "entries": out, "causes": dict(sorted(causes.items()))}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
