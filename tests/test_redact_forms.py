"""--redact, the forms the last session left open: quoted-pairs and long quoted local parts, RFC 5322
comments, DNs with escapes, quoted values and other scripts, DOMAIN\\name, UPNs in URLs, full-width and
NFD spellings; and one identity getting one pseudonym in every format of a report and a timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.reports.redact import Redactor
from analyzer.testkit.export_writer import evtx_bytes
from tests.helpers import failure, prs, start, success
from tests.test_redact import FORMATS, _every_output, _leaks

PSEUDONYM = re.compile(r"\b(?:user|dn|anchor|source|account|name)-[0-9a-f]{10}")


def _redact(text: str) -> str:
    return Redactor("k").text(f"Details: {text}, Result: failed")


def _same(*spellings: str) -> str:
    """The redacted text of each spelling: one and the same."""
    redacted = {_redact(s) for s in spellings}
    assert len(redacted) == 1, redacted
    return redacted.pop()


@pytest.mark.parametrize(
    ("spellings", "secrets"),
    [
        # RFC 5321 quoted-pairs: an escaped quote or backslash inside a quoted local part; `\o` is `o`.
        (['"john\\"doe"@contoso.com', '"j\\ohn\\"doe"@contoso.com', "＂john＼＂doe＂＠contoso.com"], ["john", "doe"]),
        (['"john\\\\doe"@contoso.com', '"john\\\\doe"%40contoso.com'], ["john", "doe"]),
        (['"john\\" doe"@contoso.com'], ["john", "doe"]),
        # A quoted local part that needs no quotes is the same address as the bare one.
        (['"john.doe"@contoso.com', "john.doe@contoso.com", "JOHN.DOE@CONTOSO.COM"], ["john", "doe"]),
        # RFC 5322 comments, anywhere around the local part and the domain, nested, with names in them.
        (
            [
                "john(comment)@contoso.com",
                "john@(comment)contoso.com",
                "(comment)john@contoso.com",
                "john(a(b)c)@contoso.com(d)",
                "john(my comment)@contoso.com",
                "john(c)%40contoso.com",
                "john@contoso.com",
            ],
            ["john", "comment", "contoso"],
        ),
        (["jdoe(John Doe)@contoso.com"], ["jdoe", "john", "doe"]),
        (['"john doe"(x)@contoso.com'], ["john", "doe"]),
        # A quoted local part over 64 characters: every word of it, not only the last.
        (['"' + " ".join(f"word{i}x" for i in range(12)) + '"@contoso.com'], [f"word{i}x" for i in range(12)]),
        # Full-width and NFD spellings of a UPN.
        (["ｊöｈｎ＠ｃｏｎｔｏｓｏ．ｃｏｍ", "jo\u0308hn@contoso.com", "jöhn@contoso.com"], ["jöhn", "john"]),
        # In a URL, percent-encoded (once or twice), and as an HTML entity.
        (["jdoe%40contoso.com", "jdoe%2540contoso.com", "jdoe&#64;contoso.com", "jdoe&#x40;contoso.com"], ["jdoe"]),
        # A domain literal.
        (["jdoe@[10.0.0.1]"], ["jdoe"]),
        # What the timeline leaves of an address cut inside a comment before its domain.
        (["jdoe@(a b"], ["jdoe"]),
    ],
)
def test_addresses(spellings: list[str], secrets: list[str]) -> None:
    redacted = _same(*spellings)
    assert _leaks(redacted, secrets) == [], redacted
    assert Redactor("k").text(redacted) == redacted  # redacting twice changes nothing


def test_a_login_hint_in_a_url_is_redacted_and_the_microsoft_host_stays() -> None:
    url = "https://login.microsoftonline.com/common/oauth2/authorize?login_hint=jdoe%40contoso.com&prompt=login"
    redacted = Redactor("k").text(url)
    assert "jdoe" not in redacted and redacted.startswith("https://login.microsoftonline.com/common/oauth2/")
    assert redacted.endswith("&prompt=login")
    assert PSEUDONYM.search(redacted).group() in Redactor("k").text("jdoe@contoso.com")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "spellings",
    [
        ['"John Doe" <jdoe@contoso.com>', "＂John  Doe＂ ＜jdoe@contoso.com＞", '"John\\ Doe" <jdoe@contoso.com>'],
        ['"Doe, John" <jdoe@contoso.com>'],
    ],
)
def test_a_quoted_display_name_before_an_address_is_a_name(spellings: list[str]) -> None:
    redacted = _same(*spellings)
    assert _leaks(redacted, ["john", "doe", "jdoe"]) == [] and "name-" in redacted, redacted
    assert Redactor("k").text(redacted) == redacted


@pytest.mark.parametrize(
    ("spellings", "secrets"),
    [
        # An escaped comma, as `\,`, as `\2C`, or in a quoted value (LDAPv2): one DN.
        (
            [
                "CN=Doe\\, John,OU=Users,DC=contoso,DC=com",
                "CN=Doe\\2C John,OU=Users,DC=contoso,DC=com",
                'CN="Doe, John",OU=Users,DC=contoso,DC=com',
                "cn=Doe\\, John, ou=Users, dc=contoso, dc=com",
            ],
            ["doe", "john"],
        ),
        # Hex-escaped values (UTF-8 bytes) are the values they spell.
        (["CN=\\4a\\6f\\68\\6e,OU=Users,DC=contoso,DC=com", "CN=John,OU=Users,DC=contoso,DC=com"], ["john"]),
        (["CN=张三,OU=用户,DC=contoso,DC=com", "CN=\\e5\\bc\\a0\\e4\\b8\\89,OU=用户,DC=contoso,DC=com"], ["张三"]),
        (["ＣＮ＝张三，OU=用户,DC=contoso,DC=com"], ["张三"]),
        # Other naming attributes than CN and OU.
        (["UID=jdoe,OU=People,DC=contoso,DC=com"], ["jdoe"]),
    ],
)
def test_distinguished_names(spellings: list[str], secrets: list[str]) -> None:
    redacted = _same(*spellings)
    assert _leaks(redacted, secrets) == [], redacted
    assert redacted.count("dn-") == 1 and redacted.endswith(", Result: failed")


@pytest.mark.parametrize(
    "spellings",
    [
        ["CONTOSO\\jdoe", "contoso\\JDOE", "ＣＯＮＴＯＳＯ＼ｊｄｏｅ", "CONTOSO\\\\jdoe", "CONTOSO%5Cjdoe"],
        ["CONTOSO\\jöhn", "CONTOSO\\jo\u0308hn"],
    ],
)
def test_account_names(spellings: list[str]) -> None:
    redacted = _same(*spellings)
    assert _leaks(redacted, ["jdoe", "jöhn", "contoso"]) == [], redacted


@pytest.mark.parametrize(
    "text",
    [
        "Failed (code 5) for the request, see event 6329 (0x80230626)",
        "Error: hr=0x80230626 (x), Result: failed",
        "connector-permissions: the AD DS connector account lacks Reset Password (see Microsoft Learn)",
        "https://contoso-sb.servicebus.windows.net/ and login.microsoftonline.com, event 31001 and 33004",
        'BAIL: MMS(5716): 0x80230626 (x) "quoted text" and 5" floppy',
        "DC=contoso,DC=com",  # A naming context names a domain, not a person.
        'said "hello" <see the docs>',
    ],
)
def test_text_that_is_no_identity_stays(text: str) -> None:
    assert Redactor("k").text(text) == text


# A real report over a log built with the testkit: each form in an event's data, every format.

FORMS = {
    "escaped": '"john\\"doe"@contoso.com',
    "comment": "ann(comment)@(x)contoso.com",
    "long": '"' + " ".join(f"lw{i}q" for i in range(12)) + '"@contoso.com',
    "url": "https://login.microsoftonline.com/authorize?login_hint=bob%40contoso.com&x=1",
    "dn": "CN=Doe\\, Jane,OU=Users,DC=contoso,DC=com",
    "hexdn": "CN=\\4b\\61\\72\\6c,OU=Users,DC=contoso,DC=com",
    "cjk": "CN=张三,OU=用户,DC=contoso,DC=com",
    "account": "CONTOSO\\mallory",
    "fullwidth": "ｃａｒｏｌ＠ｃｏｎｔｏｓｏ．ｃｏｍ",
    "nfd": "do\u0308rte@contoso.com",
    # The timeline cuts a text after about 120 characters where a word ends: at a comment's `(`, at a
    # space inside it, inside a quoted local part with escaped quotes; never before the `@` unseen.
    "cut-at-comment": "jdoe(" + "c" * 120 + ")@contoso.com",
    "cut-in-comment": "kdoe(" + "word " * 30 + ")@contoso.com",
    "cut-in-domain-comment": "ldoe@(" + "word " * 30 + ")contoso.com",  # found by the deep property run
    "cut-in-quotes": '"' + '\\"'.join(f"qw{i}z" for i in range(30)) + '"@contoso.com',
}
SECRETS = ["john", "doe", "ann", "comment", "bob", "jane", "karl", "张三", "用户", "mallory", "carol", "dörte"]
SECRETS += [f"lw{i}q" for i in range(12)] + ["jdoe", "kdoe", "ldoe"] + [f"qw{i}z" for i in range(30)]


def _forms_log(computer: str = "AADC01.contoso.com") -> bytes:
    events = []
    for i, text in enumerate(FORMS.values()):
        tid = f"{i:08x}-0000-4000-8000-000000000000"
        events.append(start(tid, text, i * 60, computer=computer, record=10 * i + 1))
        events.append(failure(tid, text, i * 60 + 5, computer=computer, record=10 * i + 2))
        events.append(
            prs(39999, f"Details: {text}, TrackingId: {tid}", i * 60 + 6, computer=computer, record=10 * i + 3)
        )
    events.append(success("f" * 8 + "-0000-4000-8000-000000000000", "x@y.z", 9000, computer=computer, record=999))
    return evtx_bytes(events)


def test_no_form_survives_any_output_of_a_real_report(tmp_path: Path) -> None:
    path = tmp_path / "forms.evtx"
    path.write_bytes(_forms_log())
    text = _every_output(path)
    assert _leaks(text, SECRETS) == []


def test_one_identity_gets_one_pseudonym_in_every_format(tmp_path: Path) -> None:
    """Spellings of one user (quoted, escaped, with comments, full-width, NFD, percent-encoded) and of
    one DN, each in its own operation: every format of report and timeline shows one pseudonym for
    each, the same one."""
    spellings = [
        '"j\\ohn.doe"@contoso.com',
        "john.doe(c)@contoso.com",
        "ＪＯＨＮ.ＤＯＥ＠ＣＯＮＴＯＳＯ.ＣＯＭ",
        "john.doe%40contoso.com",
        "(x)john.doe@(y)contoso.com",
    ]
    dns = ["CN=Doe\\, Jane,OU=Users,DC=contoso,DC=com", "CN=Doe\\2C Jane,OU=Users,DC=contoso,DC=com"]
    events = []
    for i, (upn, dn) in enumerate(zip(spellings, [*dns, *dns, dns[0]], strict=True)):
        tid = f"{i:08x}-0000-4000-8000-000000000000"
        events.append(start(tid, upn, i * 60, record=10 * i + 1))
        events.append(failure(tid, upn, i * 60 + 5, record=10 * i + 2))
        events.append(prs(39999, f"Details: {upn}, DN: {dn}, TrackingId: {tid}", i * 60 + 6, record=10 * i + 3))
    path = tmp_path / "one.evtx"
    path.write_bytes(evtx_bytes(events))
    expected = Redactor("k").text("john.doe@contoso.com")
    runner, seen = CliRunner(), set()
    for command, formats in FORMATS.items():
        for fmt in formats:
            for extra in [[], ["--operations"]] if command == "timeline" else [[]]:
                args = [command, str(path), "-f", fmt, "--redact", "--redact-key", "k", *extra]
                result = runner.invoke(app, args)
                assert result.exit_code == 0, result.stderr
                users = set(re.findall(r"user-[0-9a-f]{10}", result.stdout))
                assert users <= {expected.split("@")[0]}, (args, users)
                seen |= users
                dn_pseudonyms = set(re.findall(r"dn-[0-9a-f]{10}", result.stdout))
                assert dn_pseudonyms <= {Redactor("k").text(dns[0])}, (args, dn_pseudonyms)
                assert _leaks(result.stdout, ["john", "doe", "jane"]) == [], args
    assert seen == {expected.split("@")[0]}  # and it is there (the JSON, HTML and timelines show users)
