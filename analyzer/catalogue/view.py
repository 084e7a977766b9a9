"""Text views of the catalogue for `wba codes`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from analyzer.catalogue.model import UserCode

if TYPE_CHECKING:
    from analyzer.catalogue.loader import Catalogue
    from analyzer.catalogue.model import Entry


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
        when = "when the text matches " + " | ".join(p.pattern for p in rule.patterns) if rule.patterns else "default"
        lines += ["", f"  cause {cause.id} ({cause.severity}; {when}):"]
        if cause.id in shown:
            lines.append("    (as above)")
            continue
        shown.add(cause.id)
        lines += [f"    {cause.title.get(lang)}", f"    {cause.explanation.get(lang)}"]
        lines += [f"    {i}. {fix.get(lang)}" for i, fix in enumerate(cause.fixes, 1)]
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
