"""The catalogue in memory: entries by (provider, event id), signatures, causes, phrases, clouds,
clusters and the small tables, with the lookups the analysis uses: an event's entry and cause (and
the evidence that picked it), a fix text filled for a server's cloud, what a reader must parse."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.catalogue import model as m
from analyzer.catalogue import tables
from analyzer.catalogue.model import Cloud, Phrase

if TYPE_CHECKING:
    from analyzer.events import Event

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")  # a value a fix text takes from the server's cloud


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
            return hresult and any(wanted in c.regex.casefold() for r in e.rules for c in r.clues)

        return [e for e in self.all_entries() if matches(e)]

    def search(self, words: str) -> list[m.Entry]:
        """Entries whose text (names, titles, meanings, causes, fixes, patterns) holds every word."""
        needles = words.casefold().split()

        def text(e: m.Entry) -> str:
            parts = [e.id, e.name, *e.aliases, e.title.en, e.title.zh_cn, e.meaning.en, e.meaning.zh_cn]
            for rule in e.rules:
                cause = self.causes.get(rule.cause)
                parts += [rule.cause, *(c.regex for c in rule.clues)]
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
        folded = m.fold(text)  # once per event: every rule and phrase is matched in this form
        for rule in entry.rules:
            found = rule.find(folded, text) if rule.clues else None
            if found:
                return rule.cause, not entry.generic, found
        if not entry.is_signature:
            for signature in self.signatures:  # in order: specific first, generic last
                if signature.applies(entry.category):
                    for rule in signature.rules:
                        found = rule.find(folded, text)
                        if found:
                            return rule.cause, not signature.generic, found
        default = entry.default_rule()
        return (default.cause if default else None), False, None


def localized(url: str, lang: str) -> str:
    """A Microsoft Learn link in the output's language (the zh-cn page for zh-CN)."""
    if lang == "zh-CN":
        return url.replace("https://learn.microsoft.com/en-us/", "https://learn.microsoft.com/zh-cn/", 1)
    return url
