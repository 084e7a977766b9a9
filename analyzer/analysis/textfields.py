"""Fields inside writeback event texts: tracking id, HRESULT, message, user, anchors, namespace, version.

The texts vary between builds (field order, `UserPrincipalName` with or without a
colon, a space before the comma after the TrackingId); the patterns tolerate that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Patterns begin with their literal, so the regex engine can skip ahead to it (a leading `\b`,
# lookbehind or alternation made it try every position: ~40 µs per stack trace). tests/test_fields.py
# checks they match what the plain forms match.
_TRACKING = re.compile(r"TrackingId:\s*([0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27}|[^\s,]+)")
_HR = re.compile(r"hr=(?<!\whr=)([0-9A-Fa-f]{8})\b")
_HEX = re.compile(r"0x(?<!\w0x)(80[0-9A-Fa-f]{6})\b")
_MESSAGE = re.compile(r"message=(.*?)(?:,\s*Context:|\r|\n|$)")
_UPN = re.compile(r"UserPrincipalName(?<!AdminUserPrincipalName):?\s*([^\s,]+@[^\s,]+)")
_DETAILS_UPN = re.compile(r"Details:\s*([^\s,:]+@[^\s,]+)")
_ADMIN = re.compile(r"AdminUpn:\s*([^\s,]+@[^\s,]+)")
_CLOUD_ANCHOR = re.compile(r"cloudAnchor:\s*(User_[0-9A-Fa-f-]+)")
_SOURCE_ANCHOR = re.compile(r"Anchor(?:(?<=SourceAnchor)Value)?\s?:\s*([A-Za-z0-9+/=]{8,})")
# A Service Bus host in any cloud (which cloud a domain belongs to is catalogue data: codes/clouds.yaml).
# Starts only where a name can start, and never gives back what `*+` took: the plain form retried
# every suffix of every word of a long stack trace (~100 µs per text). Same matches.
_SERVICEBUS = re.compile(r"(?<![a-z0-9])([a-z0-9][a-z0-9-]*+\.servicebus(?:\.[a-z0-9-]+)*\.[a-z]{2,})", re.IGNORECASE)
_RESET_HOST = re.compile(r"(?<![a-z0-9])((?:[a-z0-9-]+\.)*passwordreset(?:\.[a-z0-9-]+)*\.[a-z]{2,})", re.IGNORECASE)
_VERSION = re.compile(
    r"(?:Details: Version:|Azure AD Sync|Entra Connect Sync|Azure AD Connect)\s*([0-9]+(?:\.[0-9]+){2,3})"
)
_DN = re.compile(r"Dn\s?:\s*(CN=.*?)(?:,\s*(?:Change Date|PwdChangeOnLogon|Result)\b|$)")


class _cached:
    """`functools.cached_property` without its per-access lock (Python 3.11 takes one)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function
        self.name = function.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


class Fields:
    """The fields of one event text, each found on first use (most events need one or two)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        names = (
            "tracking_id",
            "hresult",
            "message",
            "upn",
            "admin_upn",
            "cloud_anchor",
            "source_anchor",
            "servicebus_host",
            "client_version",
            "dn",
        )
        return "Fields(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    @_cached
    def tracking_id(self) -> str | None:
        return _first(_TRACKING, self.text)

    @_cached
    def hresult(self) -> str | None:
        found = _first(_HR, self.text) or _first(_HEX, self.text)
        return found.upper() if found else None

    @_cached
    def message(self) -> str | None:
        return _first(_MESSAGE, self.text)

    @_cached
    def upn(self) -> str | None:
        return _first(_UPN, self.text) or _first(_DETAILS_UPN, self.text)

    @_cached
    def admin_upn(self) -> str | None:
        return _first(_ADMIN, self.text)

    @_cached
    def cloud_anchor(self) -> str | None:
        return _first(_CLOUD_ANCHOR, self.text)

    @_cached
    def source_anchor(self) -> str | None:
        return _first(_SOURCE_ANCHOR, self.text)

    @_cached
    def servicebus_host(self) -> str | None:
        """The Service Bus namespace host named in the text (`ns.servicebus.windows.net`), lower case."""
        text = self.text
        if "servicebus" not in text.casefold():  # most texts: a quick no
            return None
        # Heartbeats (half the writeback events of a busy log) differ only in the TrackingId they
        # start with, and the search takes ~7 µs: it is done once per text after the first ", "
        # (saves ~7 ms of the ~270 ms of CPU a worker reads a 20 MB log in). A host cannot start
        # before that comma when no "." is there (a host's first label is followed by its dot).
        head, comma, rest = text.partition(", ")
        if not comma or "." in head:
            return _servicebus_host(text)
        if rest not in _HOSTS:
            if len(_HOSTS) > 1000:
                _HOSTS.clear()
            _HOSTS[rest] = _servicebus_host(rest)
        return _HOSTS[rest]

    @property
    def namespace(self) -> str | None:
        host = self.servicebus_host
        return host.split(".", 1)[0] if host else None

    @property
    def cloud_host(self) -> str | None:
        """A host that tells the Azure cloud: the Service Bus host, else a password reset endpoint."""
        if self.servicebus_host:
            return self.servicebus_host
        if "passwordreset" not in self.text.casefold():
            return None
        return (_first(_RESET_HOST, self.text) or "").casefold() or None

    @_cached
    def client_version(self) -> str | None:
        return _first(_VERSION, self.text)

    @_cached
    def dn(self) -> str | None:
        return _first(_DN, self.text)

    @property
    def user(self) -> str | None:
        """The key operations are joined by when there is no tracking id."""
        if self.upn:
            return self.upn.casefold()
        return self.cloud_anchor or self.source_anchor


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1).strip() if match else None


def _servicebus_host(text: str) -> str | None:
    return (_first(_SERVICEBUS, text) or "").casefold() or None


_HOSTS: dict[str, str | None] = {}  # text after a TrackingId -> its Service Bus host (see `Fields`)


def extract(text: str) -> Fields:
    return Fields(text)
