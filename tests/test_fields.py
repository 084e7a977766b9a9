"""The field patterns are written for speed (literal first, no backtracking); they must find
exactly what their plain forms find, on any text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.analysis import textfields

PLAIN = {
    "_HR": re.compile(r"\bhr=([0-9A-Fa-f]{8})\b"),
    "_HEX": re.compile(r"\b0x(80[0-9A-Fa-f]{6})\b"),
    "_UPN": re.compile(r"(?<!Admin)UserPrincipalName:?\s*([^\s,]+@[^\s,]+)"),
    "_SOURCE_ANCHOR": re.compile(r"(?:SourceAnchorValue|Anchor)\s?:\s*([A-Za-z0-9+/=]{8,})"),
    "_SERVICEBUS": re.compile(r"([a-z0-9][a-z0-9-]*\.servicebus(?:\.[a-z0-9-]+)*\.[a-z]{2,})", re.IGNORECASE),
}
PIECES = [
    "hr=", "0x80", "0x", "a1b2c3d4", "8023061f", "UserPrincipalName", "Admin", "Source", "Anchor", "Value",
    ":", " ", ",", "-", "_", ".", "@", "u@x.com", "abcdEFGH12==", "x", "9", "İ", "ſ", "contoso-sspr",
    ".servicebus.windows.net", ".SERVICEBUS.chinacloudapi.cn", "servicebus", ".usgovcloudapi.net", ".", "n",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_fast_patterns_match_as_the_plain_ones(text: str) -> None:
    for name, plain in PLAIN.items():
        want, got = plain.search(text), getattr(textfields, name).search(text)
        assert (want and want.group(1)) == (got and got.group(1)), name
    want = PLAIN["_SERVICEBUS"].search(text)
    assert textfields.extract(text).servicebus_host == (want.group(1).casefold() if want else None)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, ", ", ", ", "TrackingId: "]), max_size=12).map("".join))
def test_servicebus_host_found_once_per_text_after_a_head(text: str) -> None:
    """The host is remembered per text after the first ", " (heartbeats differ only before it):
    texts with one tail and other heads, the tail's host taken from memory, find what the plain
    search finds."""
    for head in ("TrackingId: 0f1e2d3c-aaaa-bbbb-cccc-0123456789ab, ", "ab-c", "x.servicebus.net, ", "", "q, "):
        full = head + text
        want = PLAIN["_SERVICEBUS"].search(full)
        assert textfields.extract(full).servicebus_host == (want.group(1).casefold() if want else None), full
