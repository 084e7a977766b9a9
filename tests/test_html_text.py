"""The HTML report's text, checked without a browser: hostile log text is escaped into inert text, and
the screenshot in docs/ is a whole picture of a drawn page. (tests/test_html.py checks the layout in
Chromium.)"""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analyzer.testkit import write_evtx
from analyzer.testkit.scenarios import SCENARIOS
from tests.browser import picture
from tests.conftest import ROOT
from tests.helpers import run_cli

# Text that would be markup, a script, a style or a link if it were not escaped: in users' names
# and in the server's name.
MARKUP = ['x"><script>console.error("pwned")</script>', "<img/src=x/onerror=console.error(1)>"]
SERVER = "AADC07<style>body{display:none}</style><a/href='https://attacker.example/'><b onmouseover=alert(1)>x</a>"
# Text that would reorder or hide what is shown: a right-to-left override, terminal escapes, C0 and C1
# controls.
INVISIBLE = ["\u202egnp.exe", "\x07\x1b[31mred\x1b[0m\x08\x7f", "\x85\x9b"]


class _Page(HTMLParser):
    """The elements (with their attributes) and the text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log of failed password changes whose users are prefixed by hostile text, on a server whose
    name holds markup."""
    events = SCENARIOS["ad-permissions"][0]()
    texts = MARKUP + INVISIBLE
    changed = 0
    for i, event in enumerate(events):
        if event.provider == "PasswordResetService" and "Details: " in event.data[0]:
            text = texts[changed % len(texts)]
            events[i] = replace(event, data=[event.data[0].replace("Details: ", f"Details: {text}", 1)])
            changed += 1
    events = [replace(e, computer=SERVER) for e in events]
    assert changed > 3 * len(texts)
    path = tmp_path_factory.mktemp("hostile") / "hostile.evtx"
    with path.open("wb") as fh:
        write_evtx(fh, events)
    return path


@pytest.mark.parametrize("command", [["report"], ["triage", "-q"]], ids=lambda c: c[0])
def test_hostile_log_text_is_escaped_into_inert_text(hostile: Path, command: list[str]) -> None:
    code, html, err = run_cli(*command, str(hostile), "-f", "html")
    assert (code, err) == (0, "")
    page = _Page()
    page.feed(html)
    page.close()
    tags = [tag for tag, _ in page.elements]
    # Only the report's own markup: no element or attribute came from the log.
    assert not {"script", "img", "iframe", "object", "embed", "form", "base", "link"} & set(tags)
    assert tags.count("style") == 1 and tags.index("style") < tags.index("body")
    assert all(not name.startswith("on") for _, attrs in page.elements for name in attrs)
    links = [attrs.get("href") or "" for tag, attrs in page.elements if tag == "a"]
    assert links and all(link.startswith("https://learn.microsoft.com/") for link in links)
    # The hostile text is there, as text: a browser shows it rather than running it.
    text = "".join(page.texts)
    for markup in [*MARKUP, SERVER]:
        assert markup in text, markup
    # Controls and the override are shown as visible escapes, never written raw.
    assert "\\u202egnp.exe" in text and "\\x07\\x1b[31mred" in text
    raw = {c for c in html if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 or c == "\u202e"}
    assert raw == set()


def _png(width: int, height: int, row: bytes) -> bytes:
    """An 8-bit RGB PNG whose every row is `row` (filter byte included)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def test_the_picture_check_tells_a_drawn_page_from_a_blank_or_broken_one() -> None:
    blank = _png(1280, 900, b"\0" + b"\xff" * 3 * 1280)
    assert picture(blank).distinct_rows == 1
    docs = (ROOT / "docs" / "triage-report.png").read_bytes()
    for broken in (docs[: len(docs) // 2], docs[:-4], docs[:4000] + bytes([docs[4000] ^ 1]) + docs[4001:]):
        with pytest.raises(ValueError, match="PNG"):
            picture(broken)
    with pytest.raises(ValueError, match="image data"):
        picture(_png(1280, 900, b"\0" + b"\xff" * 3 * 1279))


def test_the_docs_screenshot_is_a_whole_picture_of_a_drawn_page() -> None:
    """docs/triage-report.png (README shows it) is Chromium's 1280-pixel-wide screenshot of a report:
    whole, and drawn: many different rows of pixels (a blank page has one or two)."""
    shot = picture((ROOT / "docs" / "triage-report.png").read_bytes())
    assert shot.width == 1280 and shot.height > 1000
    assert shot.distinct_rows > shot.height // 5
