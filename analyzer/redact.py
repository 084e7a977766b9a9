"""Stable pseudonyms for personal and tenant data in reports (`--redact`, `--redact-hosts`).

A pseudonym is an HMAC-SHA256 of the value under the report's key, so the same
value gives the same pseudonym everywhere in one report (and across reports made
with the same `--redact-key`): correlation still works, the value is gone.
Replaced: UPNs and e-mail addresses (incl. AdminUpn), distinguished names,
cloudAnchor and SourceAnchorValue, DOMAIN\\account names; with hosts also computer
names and Service Bus namespaces.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DN = re.compile(r"(?:CN|OU)=(?:\\.|[^,\r\n\"|])+(?:,\s*(?:CN|OU|DC|O|L|C)=(?:\\.|[^,\r\n\"|])+)*", re.IGNORECASE)
_CLOUD_ANCHOR = re.compile(r"User_[0-9A-Fa-f]{4,}(?:-[0-9A-Fa-f]+)*")
_SOURCE_ANCHOR = re.compile(r"((?:SourceAnchorValue|Anchor)\s?:\s*)([A-Za-z0-9+/=]{8,})")
_ACCOUNT = re.compile(r"\b(?!HKLM\\|HKCU\\|HKEY_)([A-Za-z][A-Za-z0-9-]{0,14})\\([A-Za-z0-9._$-]{2,})")
_NAMESPACE = re.compile(
    r"\b[a-z0-9][a-z0-9-]*(?=\.servicebus\.(?:windows\.net|usgovcloudapi\.net|chinacloudapi\.cn))", re.IGNORECASE
)
# Keys of the report document whose whole value is a name to pseudonymize.
_HOST_KEYS = {"computer", "server"}
_NAMESPACE_KEYS = {"namespaces"}
# Keys whose text comes from the catalogue or the tool, never from a log: left as they are.
_CATALOGUE_KEYS = {
    "title",
    "explanation",
    "fixes",
    "references",
    "text",
    "cause_title",
    "severity",
    "category",
    "checklist",
    "id",
    "tool",
    "kind",
    "sha256",
    "status",
    "schema_version",
}


def new_key() -> str:
    return secrets.token_hex(16)


class Redactor:
    def __init__(self, key: str, hosts: bool = False) -> None:
        self.key = key.encode()
        self.hosts = hosts
        self.known_hosts: dict[str, str] = {}

    def pseudonym(self, kind: str, value: str) -> str:
        digest = hmac.new(self.key, f"{kind}:{value.casefold()}".encode(), hashlib.sha256).hexdigest()[:10]
        return f"{kind}-{digest}"

    def _email(self, match: re.Match[str]) -> str:
        return f"{self.pseudonym('user', match.group())}@redacted.invalid"

    def text(self, value: str) -> str:
        value = _EMAIL.sub(self._email, value)
        value = _DN.sub(lambda m: self.pseudonym("dn", m.group()), value)
        value = _CLOUD_ANCHOR.sub(lambda m: self.pseudonym("anchor", m.group()), value)
        value = _SOURCE_ANCHOR.sub(lambda m: m.group(1) + self.pseudonym("source", m.group(2)), value)
        value = _ACCOUNT.sub(lambda m: self.pseudonym("account", m.group()), value)
        if self.hosts:
            for host, alias in self.known_hosts.items():
                value = re.sub(re.escape(host), alias, value, flags=re.IGNORECASE)
            value = _NAMESPACE.sub(lambda m: self.pseudonym("namespace", m.group()), value)
        return value

    def learn_hosts(self, doc: Any) -> None:
        """Collect computer names (longest first, so FQDNs go before their short names)."""
        names: set[str] = set()

        def walk(node: Any, key: str | None = None) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, k)
            elif isinstance(node, list):
                for v in node:
                    walk(v, key)
            elif isinstance(node, str) and key in _HOST_KEYS and not node.startswith("("):
                names.add(node)
                names.add(node.split(".")[0])

        walk(doc)
        for name in sorted((n for n in names if len(n) >= 3), key=len, reverse=True):
            self.known_hosts[name] = self.pseudonym("host", name)

    def document(self, doc: Any) -> Any:
        """A copy of a report document (or rows) with every string redacted."""
        if self.hosts:
            self.learn_hosts(doc)

        def walk(node: Any, key: str | None = None) -> Any:
            if key == "fixes" and self.hosts:  # catalogue text, but filled with the server's namespace
                return [_NAMESPACE.sub(lambda m: self.pseudonym("namespace", m.group()), fix) for fix in node]
            if key in _CATALOGUE_KEYS:
                return node
            if isinstance(node, dict):
                return {k: walk(v, k) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, key) for v in node]
            if isinstance(node, str):
                if self.hosts and key in _NAMESPACE_KEYS:
                    return self.pseudonym("namespace", node)
                return self.text(node)
            return node

        return walk(doc)
