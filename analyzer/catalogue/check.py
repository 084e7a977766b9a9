"""Run the catalogue's examples (`wba codes check`, and the tests): recognition and the cause picked
are as each entry says, every pattern is exercised, every phrase reaches its rule's cause."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.catalogue import model as m
    from analyzer.catalogue.catalogue import Catalogue


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
