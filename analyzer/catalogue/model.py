"""The catalogue's objects: causes (what went wrong, how to fix it) and entries (event codes).

An event is matched to its entry by (provider, event id); the entry's rules then
pick its cause, most specific first:
1. a rule of the entry whose patterns match the event text;
2. a signature (an HRESULT, or a network exception text) that applies to the
   entry's category and matches the text;
3. the entry's default rule (one without patterns), if any.
"""

from __future__ import annotations

import re
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
    "info",
)
OPERATIONS = ("reset", "change", "admin_reset")
# Items of Microsoft's prerequisites checklist that a cause's evidence points at.
CHECKLIST = {
    "firewall-proxy": "Outbound HTTPS to *.passwordreset.microsoftonline.com and *.servicebus.windows.net",
    "idle-timeout": "Firewalls and proxies keep idle connections for at least 2-3 minutes",
    "tls": "TLS 1.2, .NET Framework 4.8 and current root CAs on the Connect server",
    "permissions": "AD DS connector account has the password writeback permissions",
    "password-policy": "Minimum password age and history allow the reset (0 while testing)",
    "cloud-admin": "A cloud-only (managed) admin with the right role was used to enable writeback",
    "full-sync": "Full import and full synchronization ran from AD and Entra ID",
    "pdc": "Connect reaches the PDC emulator; preferred DCs listed by FQDN",
    "dc-os": "Domain controllers run a supported Windows Server version",
    "disable-reenable": "Disable and re-enable password writeback in the Connect wizard",
}
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}


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
    checklist: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Rule:
    cause: str
    patterns: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


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
        return any(t.search(text) for t in self._tokens) or any(r.matches(text) for r in self.rules)

    def specific_rule(self, text: str) -> Rule | None:
        return next((r for r in self.rules if r.patterns and r.matches(text)), None)

    def default_rule(self) -> Rule | None:
        return next((r for r in self.rules if not r.patterns), None)

    def applies(self, category: str) -> bool:
        return "all" in self.applies_to or category in self.applies_to
