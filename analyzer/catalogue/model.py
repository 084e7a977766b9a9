"""The catalogue's objects: causes (what went wrong, how to fix it) and entries (event codes).

An event is matched to its entry by (provider, event id); the entry's rules then
pick its cause, most specific first:
1. a rule of the entry whose evidence matches the event text;
2. a signature (an HRESULT, or network failure evidence) that applies to the
   entry's category and matches the text; generic signatures (such as 0x80004005)
   only after every specific one;
3. the entry's default rule (one without evidence), if any.

A rule's evidence is its language-independent patterns (HTTP status codes, exception
type names, error numbers, stack frames) followed by the localized phrases of the
messages it names (codes/phrases/<lang>.yaml), so that a server in any display
language reaches the same cause. Rules are tried in order, so a rule's place in the
list says how specific it is. Texts and phrases are compared in one form (`fold`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

LANGS = ("en", "zh-CN")
LEVELS = ("info", "warning", "error")
SEVERITIES = ("info", "low", "medium", "high", "critical")
ENTRY_CATEGORIES = (
    "operation",
    "configuration",
    "service",
    "heartbeat",
    "connectivity",
    "crypto",
    "ad",
    "sync-engine",
    "password-hash-sync",
)
CAUSE_CATEGORIES = (
    "ad-permissions",
    "ad-password-policy",
    "ad-configuration",
    "ad-connectivity",
    "ad-account",
    "ad",
    "configuration",
    "sync-engine",
    "connectivity",
    "crypto",
    "service",
    "password-hash-sync",
)
ROLES = (
    "start",
    "success",
    "failure",
    "companion",
    "heartbeat",
    "service-started",
    "service-stopped",
    "connectivity-error",
    "connectivity-warning",
    "configuration",
    "configuration-error",
    "phs-change",  # password hash sync saw an on-premises password change (656)
    "info",
)
OPERATIONS = ("reset", "change", "admin_reset")
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}
# A cause's scope: `server` breaks writeback for everyone (connectivity, TLS, keys, configuration,
# service, a policy on the server); `user` affects one user (password policy, account state,
# permissions on one protected object). It decides a server's status (see diagnosis).
SCOPES = ("server", "user")
# Situations, told by a server's operations, in which a cause refines another (`when`):
# others-succeed: other users' operations succeed while these fail (a few objects, not the delegation);
# changed-within-a-day: the same user's password was changed or reset successfully < 24 h before.
WHEN = ("others-succeed", "changed-within-a-day")


@dataclass(frozen=True)
class Cluster:
    """Events that mean more together than apart (codes/clusters.yaml)."""

    id: str
    title: Text
    cause: str
    codes: tuple[str, ...]  # "Provider/EventID"
    minimum: int
    within_minutes: int
    tracking_id: tuple[str, ...] = ()  # these codes must share one TrackingId


@dataclass(frozen=True)
class Text:
    """A sentence in every catalogue language."""

    en: str
    zh_cn: str

    def get(self, lang: str) -> str:
        return self.zh_cn if lang == "zh-CN" else self.en


@dataclass(frozen=True)
class Cause:
    id: str
    title: Text
    severity: str
    category: str
    explanation: Text
    fixes: tuple[Text, ...]
    references: tuple[str, ...]
    scope: str = "server"
    checklist: str | None = None  # an item of codes/checklist.yaml
    refines: tuple[str, ...] = ()  # causes this one explains more precisely (it wins over them)
    when: str | None = None  # with `refines`: only in this situation of the user's operations (WHEN)
    source: str = ""


def fold(text: str) -> str:
    """Text in the form the catalogue compares it: Unicode NFKC, so that a decomposed accent (NFD:
    `o` + U+0308), full-width digits, parentheses and punctuation (`（407）`, `，`) and no-break
    spaces match the plain forms. It keeps the meaning of CJK text (only width and compatibility
    variants change). ASCII text, most event text, is returned as it is without a copy."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def unfold(original: str, start: int, end: int) -> str:
    """The part of `original` whose folded form is `fold(original)[start:end]`, so that evidence is
    quoted as the event wrote it. Folding is not one character for one (a decomposed letter is two
    characters before and one after), but the folded length of a prefix never shrinks as it grows:
    the prefix is searched for, growing from the match's position, so a long stack trace after the
    message costs nothing."""

    def at(n: int) -> int:  # the shortest prefix of `original` whose folded form has n characters
        lo, hi = 0, min(n, len(original))
        while hi < len(original) and len(fold(original[:hi])) < n:
            lo, hi = hi, min(2 * hi + 1, len(original))
        while lo < hi:
            mid = (lo + hi) // 2
            if len(fold(original[:mid])) < n:
                lo = mid + 1
            else:
                hi = mid
        return lo

    return original[at(start) : at(end)]


@dataclass(frozen=True)
class Clue:
    """One piece of evidence a rule looks for: a pattern, and what it is (for reports and `explain`)."""

    regex: str  # matched case-insensitively
    kind: str  # "token": does not depend on the display language; "phrase": a localized message
    lang: str | None = None  # the phrase's language
    message: str | None = None  # the phrase's message id (codes/phrases/)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: the catalogue has hundreds of phrases, a run looks for few of them
        alone (a rule's alternation of them all is searched first), and compiling them all took a
        fifth of every command's start-up."""
        return re.compile(self.regex, re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """Why a rule matched: the clue and the text it found."""

    clue: Clue
    text: str

    def describe(self) -> str:
        if self.clue.kind == "phrase":
            return f"“{self.text}” ({self.clue.lang} message: {self.clue.message})"
        return f"“{self.text}” (language-independent)"


@dataclass(frozen=True)
class Rule:
    cause: str
    clues: tuple[Clue, ...] = ()

    @cached_property
    def _any(self) -> re.Pattern[str] | None:
        """Every clue in one alternation: one search per rule and text (a rule can have hundreds of
        phrases); which clue matched is looked up only after a hit."""
        if not self.clues:
            return None
        return re.compile("|".join(f"(?:{c.regex})" for c in self.clues), re.IGNORECASE)

    def matches(self, text: str) -> bool:
        return self._any is not None and self._any.search(text) is not None

    def find(self, text: str, original: str | None = None) -> Found | None:
        """The first clue that matches the folded `text` (language-independent ones come first), or
        None; the evidence is quoted from `original`, the text before folding, when it differs."""
        if not self.matches(text):
            return None
        for clue in self.clues:
            hit = clue.pattern.search(text)
            if hit:
                quote = hit.group(0) if original is None or original is text else unfold(original, *hit.span())
                return Found(clue, quote.strip())
        return None


@dataclass(frozen=True)
class Example:
    text: str
    matches: bool
    cause: str | None


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    title: Text
    meaning: Text
    rules: tuple[Rule, ...]
    references: tuple[str, ...]
    examples: tuple[Example, ...]
    provider: str | None = None  # None for a signature
    event_id: int | None = None
    channel: str = "Application"
    aliases: tuple[str, ...] = ()
    documented: bool = True
    level: str = "error"
    category: str = "service"
    role: str = "info"
    operation: str | None = None
    hresult: str | None = None  # signatures only
    applies_to: tuple[str, ...] = ()  # signatures only: entry categories, or ("all",)
    generic: bool = False  # signatures only: tried after every specific one, and never "specific"
    # Evidence of this entry counts only within `minutes` of an event of one of these codes
    # ("Provider/EventID"); alone it is noise (e.g. ADSync 6306 outside the KB 3185990 cluster).
    corroborated_by: tuple[str, ...] = ()
    corroboration_minutes: int = 0
    # An administrator action that dates a change behind these causes: a report of one of them names
    # this event's time (Entra Connect Admin Actions 2517 next to denied access, for example).
    dates: tuple[str, ...] = ()
    source: str = ""

    @cached_property
    def _tokens(self) -> tuple[re.Pattern[str], ...]:
        """The name and aliases as whole words (compiled on first use: most runs never need them)."""
        return tuple(re.compile(rf"(?<![\w]){re.escape(t)}(?![\w])", re.IGNORECASE) for t in (self.name, *self.aliases))

    @property
    def is_signature(self) -> bool:
        return self.provider is None

    @property
    def code(self) -> str:
        return self.hresult or (str(self.event_id) if self.event_id is not None else self.id)

    def recognizes(self, text: str) -> bool:
        """Whether the text itself shows this entry: its name or an alias, or one of its patterns."""
        text = fold(text)
        return any(t.search(text) for t in self._tokens) or any(r.matches(text) for r in self.rules)

    def specific_rule(self, text: str) -> Rule | None:
        return next((r for r in self.rules if r.clues and r.matches(text)), None)

    def default_rule(self) -> Rule | None:
        return next((r for r in self.rules if not r.clues), None)

    def applies(self, category: str) -> bool:
        return "all" in self.applies_to or category in self.applies_to


@dataclass(frozen=True)
class UserCode:
    """An error code a user sees on the password reset page (SSPR_0029 …) and what to check for it:
    causes of the catalogue, in order, and steps of its own where no cause of a Connect server's log
    applies (a tenant setting, a licence)."""

    code: str  # SSPR_0029
    name: str  # OnPremisesAdminActionRequired
    number: int
    meaning: Text
    causes: tuple[str, ...] = ()
    steps: tuple[Text, ...] = ()
    references: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Phrase:
    """A .NET or Windows message as one display language writes it (codes/phrases/<lang>.yaml)."""

    lang: str
    message: str
    text: str
    example: str
    source: str
    file: str
    untranslated: bool = False  # written in English by servers of every display language (en.yaml only)


@dataclass(frozen=True)
class Cloud:
    """An Azure cloud, told by the host names in a server's events (codes/clouds.yaml)."""

    id: str
    title: Text
    suffixes: tuple[str, ...]  # host name endings that belong to this cloud
    values: dict[str, Text]  # what the placeholders in fix texts say for this cloud
    references: tuple[str, ...] = ()
