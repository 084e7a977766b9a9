"""Fields inside writeback event texts: tracking id, HRESULT, message, user, anchors, namespace, version.

The texts vary between builds (field order, `UserPrincipalName` with or without a
colon, a space before the comma after the TrackingId); the patterns tolerate that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Fields:
    tracking_id: str | None = None
    hresult: str | None = None  # eight upper-case hex digits
    message: str | None = None
    upn: str | None = None
    admin_upn: str | None = None
    cloud_anchor: str | None = None
    source_anchor: str | None = None
    namespace: str | None = None
    client_version: str | None = None
    dn: str | None = None

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
    hresult = _first(_HR, text) or _first(_HEX, text)
    return Fields(
        tracking_id=_first(_TRACKING, text),
        hresult=hresult.upper() if hresult else None,
        message=_first(_MESSAGE, text),
        upn=_first(_UPN, text) or _first(_DETAILS_UPN, text),
        admin_upn=_first(_ADMIN, text),
        cloud_anchor=_first(_CLOUD_ANCHOR, text),
        source_anchor=_first(_SOURCE_ANCHOR, text),
        namespace=(_first(_NAMESPACE, text) or "").casefold() or None,
        client_version=_first(_VERSION, text),
        dn=_first(_DN, text),
    )
