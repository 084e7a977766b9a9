"""Text views of the catalogue for `wba codes`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

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


def entry(item: Entry, catalogue: Catalogue, lang: str) -> str:
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
