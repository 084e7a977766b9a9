"""Fields inside writeback event texts: tracking id, HRESULT, message, user, anchors, namespace, version.

The texts vary between builds (field order, `UserPrincipalName` with or without a
colon, a space before the comma after the TrackingId); the patterns tolerate that.
"""

from __future__ import annotations

import re
from functools import cached_property

_TRACKING = re.compile(r"TrackingId:\s*([0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27}|[^\s,]+)")
_HR = re.compile(r"\bhr=([0-9A-Fa-f]{8})\b")
_HEX = re.compile(r"\b0x(80[0-9A-Fa-f]{6})\b")
_MESSAGE = re.compile(r"message=(.*?)(?:,\s*Context:|\r|\n|$)")
_UPN = re.compile(r"(?<!Admin)UserPrincipalName:?\s*([^\s,]+@[^\s,]+)")
_DETAILS_UPN = re.compile(r"Details:\s*([^\s,:]+@[^\s,]+)")
_ADMIN = re.compile(r"AdminUpn:\s*([^\s,]+@[^\s,]+)")
_CLOUD_ANCHOR = re.compile(r"cloudAnchor:\s*(User_[0-9A-Fa-f-]+)")
_SOURCE_ANCHOR = re.compile(r"(?:SourceAnchorValue|Anchor)\s?:\s*([A-Za-z0-9+/=]{8,})")
_NAMESPACE = re.compile(
    r"([a-z0-9][a-z0-9-]*)\.servicebus\.(?:windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)", re.IGNORECASE
)
_VERSION = re.compile(
    r"(?:Details: Version:|Azure AD Sync|Entra Connect Sync|Azure AD Connect)\s*([0-9]+(?:\.[0-9]+){2,3})"
)
_DN = re.compile(r"Dn\s?:\s*(CN=.*?)(?:,\s*(?:Change Date|PwdChangeOnLogon|Result)\b|$)")


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
            "namespace",
            "client_version",
            "dn",
        )
        return "Fields(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    @cached_property
    def tracking_id(self) -> str | None:
        return _first(_TRACKING, self.text)

    @cached_property
    def hresult(self) -> str | None:
        found = _first(_HR, self.text) or _first(_HEX, self.text)
        return found.upper() if found else None

    @cached_property
    def message(self) -> str | None:
        return _first(_MESSAGE, self.text)

    @cached_property
    def upn(self) -> str | None:
        return _first(_UPN, self.text) or _first(_DETAILS_UPN, self.text)

    @cached_property
    def admin_upn(self) -> str | None:
        return _first(_ADMIN, self.text)

    @cached_property
    def cloud_anchor(self) -> str | None:
        return _first(_CLOUD_ANCHOR, self.text)

    @cached_property
    def source_anchor(self) -> str | None:
        return _first(_SOURCE_ANCHOR, self.text)

    @cached_property
    def namespace(self) -> str | None:
        return (_first(_NAMESPACE, self.text) or "").casefold() or None

    @cached_property
    def client_version(self) -> str | None:
        return _first(_VERSION, self.text)

    @cached_property
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


def extract(text: str) -> Fields:
    return Fields(text)
