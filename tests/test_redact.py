"""--redact: no user, DN, anchor (and with --redact-hosts no computer or namespace) survives in any output."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analyzer.analysis.textfields import extract
from analyzer.cli import app
from analyzer.events import Event
from analyzer.ingest.read import FileReport, read_file
from analyzer.reports.redact import Redactor, normalize
from analyzer.testkit.export_writer import evtx_bytes
from tests.conftest import ROOT, SAMPLES
from tests.helpers import failure, prs, start

FORMATS = {
    "report": ["table", "markdown", "json", "html"],
    "triage": ["table", "markdown", "json", "html"],
    "timeline": ["table", "markdown", "json", "csv", "jsonl"],
}


def _secrets() -> tuple[set[str], set[str]]:
    """(personal values, host values) found in the sample logs."""
    personal, hosts = set(), set()
    for path in sorted(SAMPLES.glob("*.evtx")):
        for event in read_file(path, "rust", FileReport(str(path), "rust")):
            if event.computer:
                hosts |= {event.computer, event.computer.split(".")[0]}
            fields = extract("\n".join(event.data))
            for value in (fields.upn, fields.admin_upn, fields.cloud_anchor, fields.source_anchor, fields.dn):
                if value:
                    personal.add(value)
            if fields.upn:
                personal.add(fields.upn.split("@")[0])  # the user name part on its own
            if fields.dn:
                personal |= set(re.findall(r"CN=([^,]+)", fields.dn))
            if fields.namespace:
                hosts.add(fields.namespace)
    return personal, hosts


def _outputs(*extra: str) -> dict[str, str]:
    runner = CliRunner()
    out = {}
    for command, formats in FORMATS.items():
        for fmt in formats:
            args = [command, "samples", "-f", fmt, "--redact", "--redact-key", "test-key", *extra]
            variants = [args, [*args, "--operations"]] if command == "timeline" else [args]
            for variant in variants:
                result = runner.invoke(app, variant)
                assert result.exit_code == 0, result.stderr
                out[" ".join(variant)] = result.stdout
    return out


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_no_personal_or_host_value_survives_any_format() -> None:
    personal, hosts = _secrets()
    assert len(personal) > 100 and len(hosts) >= 10
    for name, text in _outputs("--redact-hosts").items():
        lowered = text.casefold()
        leaked = sorted(v for v in personal | hosts if len(v) >= 4 and v.casefold() in lowered)
        assert leaked == [], f"{name}: {leaked[:5]}"


def test_without_redact_hosts_the_servers_stay_but_people_go() -> None:
    personal, _ = _secrets()
    text = _outputs()["report samples -f json --redact --redact-key test-key"]
    assert "AADC02.corp.fabrikam.com" in text
    assert not [v for v in personal if len(v) >= 4 and v.casefold() in text.casefold()]


def test_pseudonyms_are_stable_per_key_and_keep_correlation() -> None:
    runner = CliRunner()

    def report(key: str) -> str:
        return runner.invoke(app, ["timeline", "samples", "-f", "csv", "--redact", "--redact-key", key]).stdout

    first, again, other = report("k1"), report("k1"), report("k2")
    assert first == again and first != other
    plain = runner.invoke(app, ["timeline", "samples", "-f", "csv"]).stdout
    real = set(re.findall(r"[\w.]+@[\w.]+", plain))
    pseudonyms = set(re.findall(r"user-[0-9a-f]{10}@redacted\.invalid", first))
    assert len(pseudonyms) == len(real) > 20  # one pseudonym per real user: correlation survives


def test_random_key_is_announced(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "samples/healthy.evtx", "--redact", "-f", "json"])
    assert result.exit_code == 0 and result.stderr.startswith("redaction key: ")
    assert CliRunner().invoke(app, ["report", "samples", "--redact-key", "x"]).exit_code == 2


# Issue 12, item 6: redaction on normalized text. Identities are generated from letters, digits and
# marks of every script, shown in many spellings (percent-encoded, full-width, zero-width characters
# inside, IDN domains as punycode, quoted local parts), embedded in event-like text.

# HYPOTHESIS_PROFILE=deep (random, see tests/conftest.py) runs many more examples of these tests too.
DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\U000e0041"]
PSEUDONYM = re.compile(r"\b(?:user|name|dn|anchor|source|account|host|namespace)-[0-9a-f]{10}")
PREFIXES = ["", "Details: ", "UserPrincipalName: ", "user ", "(", "'", '"', "<", "mailto:", "upn=", "用户：", "\n"]
PREFIXES += ["https://login.microsoftonline.com/common/oauth2/authorize?login_hint=", "DN: "]
SUFFIXES = ["", ", Result: failed", ")", "'", '"', ">", ".", " ", "，失败", "\n", "?x=1"]


def _namelike(c: str) -> bool:
    """Characters names are made of: their NFKC form is letters, digits and marks only."""
    folded = unicodedata.normalize("NFKC", c)
    return bool(folded) and all(unicodedata.category(x)[0] in "LNM" for x in folded)


NAME_CHAR = st.characters(categories=("Lu", "Ll", "Lo", "Nd", "Mn", "Mc")).filter(_namelike)
FIRST_CHAR = st.characters(categories=("Lu", "Ll", "Lo")).filter(_namelike)


@st.composite
def names(draw: st.DrawFn, inner: str = ".-_'+", min_size: int = 3) -> str:
    """A name: a letter, then runs of letters, digits and marks joined by one of `inner`."""
    runs = draw(st.lists(st.text(NAME_CHAR, min_size=1, max_size=6), min_size=1, max_size=3 if inner else 1))
    name = draw(FIRST_CHAR) + "".join(run + draw(st.sampled_from(inner)) for run in runs[:-1]) + runs[-1]
    return name if len(name) >= min_size else name + draw(FIRST_CHAR) * (min_size - len(name))


@st.composite
def domains(draw: st.DrawFn) -> str:
    labels = draw(st.lists(names(inner="-", min_size=2), min_size=1, max_size=3))
    return ".".join([*labels, draw(st.sampled_from(["com", "de", "cn", "中国", "рф", "भारत", "xn--p1ai"]))])


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _punycode(domain: str) -> str:
    return ".".join(
        label
        if label.isascii()
        else "xn--" + unicodedata.normalize("NFKC", label).casefold().encode("punycode").decode()
        for label in domain.split(".")
    )


@st.composite
def identities(draw: st.DrawFn, display: bool = False) -> tuple[str, str, list[str]]:
    """(plain spelling, another spelling of the same identity, the parts that must not survive);
    `display`: addresses may come with a quoted display name (`"John Doe" <jdoe@contoso.com>`)."""
    kind = draw(st.sampled_from(["email", "quoted", "account", "dn"]))
    steps = ["zw", "fullwidth", "pct", "pct2", "upper", "puny", "esc", "nfd", "comment", "hex", "dquote"]
    spelling = draw(st.lists(st.sampled_from(steps), max_size=3))
    if kind in ("email", "quoted"):
        if kind == "email":
            local = draw(names())
            secrets = [local]
        else:
            # Quoted local parts of any length, with quoted-pairs (`\"`, `\\`) between words.
            words = draw(st.lists(names(inner=""), min_size=2, max_size=12))
            gaps = [draw(st.sampled_from([" ", " ", '\\"', "\\\\", "\\ "])) for _ in words[1:]]
            local, secrets = '"' + words[0] + "".join(g + w for g, w in zip(gaps, words[1:], strict=True)) + '"', words
        domain = draw(domains())
        plain = f"{local}@{domain}"
        if "puny" in spelling:
            domain = _punycode(domain)
        if "esc" in spelling and kind == "quoted":
            local = '"\\' + local[1:]  # A quoted-pair stands for its character: `"\\john"` is `"john"`.
        if "comment" in spelling:  # RFC 5322 comments around the local part or the domain.
            comment = "(" + draw(names(inner=" ")) + ")"
            at = draw(st.sampled_from(["local<", "local>", "domain<", "domain>"]))
            local = comment + local if at == "local<" else local + comment if at == "local>" else local
            domain = comment + domain if at == "domain<" else domain + comment if at == "domain>" else domain
            secrets.append(comment[1:-1])
        other = f"{local}@{domain}"
        secrets.append(plain)
        if display and draw(st.booleans()):
            words = draw(st.lists(names(inner=""), min_size=1, max_size=3))
            name = '"' + draw(st.sampled_from([" ", ", ", "\\ "])).join(words) + '" <'
            plain, other, secrets = f"{name}{plain}>", f"{name}{other}>", [*secrets, *words]
    elif kind == "account":
        domain, name = draw(st.sampled_from(["CONTOSO", "FABRIKAM", "CORP-EU", "例子"])), draw(names(".-_", 2))
        plain = other = f"{domain}\\{name}"
        if "esc" in spelling:
            other = f"{domain}\\\\{name}"
        secrets = [name, plain]
    else:
        # A value with an escaped comma (`Doe\, John`), spelled `\2C`, quoted or hex-escaped throughout.
        first = draw(names(inner=" -'"))
        second = draw(st.one_of(st.none(), names(inner="")))
        value, secrets = (first, [first]) if second is None else (f"{first}, {second}", [first, second])
        escaped = value.replace(",", "\\2C" if "esc" in spelling else "\\,")
        if "hex" in spelling:
            escaped = "".join(f"\\{b:02x}" for b in value.encode())
        elif "dquote" in spelling:
            escaped = f'"{value}"'
        plain = "CN=" + value.replace(",", "\\,") + ",OU=Users,DC=contoso,DC=com"
        other = f"CN={escaped},OU=Users,DC=contoso,DC=com"
    for step in spelling:
        if step == "zw":
            at = draw(st.integers(0, len(other)))
            other = other[:at] + draw(st.sampled_from(INVISIBLE)) + other[at:]
        elif step == "fullwidth":
            other = _fullwidth(other)
        elif step == "pct":
            other = quote(other, safe="")
        elif step == "pct2":
            other = other.replace("@", "%2540")
        elif step == "upper" and kind != "dn":
            other = "".join(c.upper() if c.isascii() else c for c in other)
        elif step == "nfd":
            other = unicodedata.normalize("NFD", other)
    return plain, other, secrets


def _view(text: str) -> str:
    """What a reader sees of an output, spelled as the redactor searches it, without pseudonyms."""
    return PSEUDONYM.sub(" ", normalize(html.unescape(text)).casefold())


def _leaks(text: str, secrets: list[str]) -> list[str]:
    """The secrets found in `text` (short ASCII ones are everywhere in English: not checked, also when
    only normalization makes them short ASCII: `A` and an invisible variation selector is `A`)."""
    seen = _view(text)
    return [s for s in secrets if (v := _view(s).strip()) in seen and (len(v) >= 4 or not v.isascii())]


@settings(max_examples=5000 if DEEP else 500, deadline=None)
@given(identities(display=True), st.sampled_from(PREFIXES), st.sampled_from(SUFFIXES))
@example(("A0A@A\U000e0100.com", "A0A@xn--a-fg21m.com", ["A0A"]), "", "")  # an invisible mark, in punycode
@example(("CONTOSO\\A\U000e0100", "CONTOSO\\A\U000e0100", ["A\U000e0100"]), "", "")  # found by a deep run
def test_no_spelling_of_an_identity_survives_and_all_get_one_pseudonym(
    identity: tuple[str, str, list[str]], prefix: str, suffix: str
) -> None:
    plain, other, secrets = identity
    assume(not _leaks(prefix + suffix, secrets))
    redactor = Redactor("k")
    redacted = redactor.text(prefix + other + suffix)
    assert _leaks(redacted, secrets) == [], (prefix + other + suffix, redacted)
    assert redacted == redactor.text(prefix + plain + suffix)  # every spelling, one pseudonym
    assert redactor.text(redacted) == redacted  # redacting twice changes nothing


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("张三@contoso.com", None),
        ("john@bücher.de", "john@xn--bcher-kva.de"),
        ("李四@例子.中国", "李四@例子。中国"),
        ("jane%40contoso.com", "jane@contoso.com"),
        ("jane%2540contoso.com", "JANE@contoso.com"),
        ('"john doe"@contoso.com', '"john doe"＠contoso.com'),
        ("CONTOSO\\张三", "CONTOSO＼张\u200b三"),
        ("jo\u200bhn@con\u2060toso.com", "john@contoso.com"),
        ("ｊｏｈｎ＠ｃｏｎｔｏｓｏ．ｃｏｍ", "john@contoso.com"),
        ("CN=张三,OU=用户,DC=contoso,DC=com", "cn=张三,OU=用户,DC=contoso,DC=com"),
    ],
)
def test_the_spellings_of_issue_12(text: str, same_as: str | None) -> None:
    redactor = Redactor("k")
    redacted = redactor.text(f"UserPrincipalName: {text}, Details: x")
    assert not ({"张三", "李四", "john", "jane", "doe"} & set(re.findall(r"\w+", _view(redacted))))
    assert "bücher" not in redacted and "例子" not in redacted and "contoso" not in redacted.split(",")[0]
    if same_as:
        assert redacted == redactor.text(f"UserPrincipalName: {same_as}, Details: x")


@pytest.mark.parametrize(
    "text",
    [
        "Details: ＂ŕłĵ",  # the timeline cut `＂ŕłĵ ţȾｏţĭÚĞ＂＠…` after the first word
        "Details: %22john",
        'user "doe,',
        "(＂Jöhn Doe",
    ],
)
def test_a_quoted_local_part_cut_short_is_redacted(text: str) -> None:
    redacted = Redactor("k").text(text)
    assert not {"ŕłĵ", "john", "doe", "jöhn"} & set(re.findall(r"[^\W_]+", redacted.casefold())), redacted
    assert Redactor("k").text(redacted) == redacted


@pytest.mark.parametrize(
    "text",
    [
        'a 5" disk',
        'the value "abc" is wrong',
        'path "C:\\Program Files',
        'said "x" then "y" ok',
        'ends with a quote"',
        "Error: 0x80230626, Result: failed",
    ],
)
def test_text_with_quotes_that_is_no_identity_stays(text: str) -> None:
    assert Redactor("k").text(text) == text


def test_every_format_character_is_invisible_to_the_patterns() -> None:
    """The list of invisible characters holds every character of category Cf of this Python."""
    from analyzer.reports.redact import _INVISIBLE

    missing = [
        f"U+{c:04X}" for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf" and not _INVISIBLE.match(chr(c))
    ]
    assert missing == []


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redact")


def _every_output(path: Path) -> str:
    """Every format of report, triage and timeline of `path`, redacted, as one text a reader sees."""
    runner, texts = CliRunner(), []
    for command, formats in FORMATS.items():
        for fmt in formats:
            args = [command, str(path), "-f", fmt, "--redact", "--redact-key", "k", "--redact-hosts"]
            for variant in [args, [*args, "--operations"]] if command == "timeline" else [args]:
                result = runner.invoke(app, variant)
                assert result.exit_code == 0, result.stderr
                text = result.stdout
                if fmt == "json":
                    text = "\n".join(_strings(json.loads(text)))
                elif fmt == "jsonl":
                    text = "\n".join(_strings([json.loads(line) for line in text.splitlines()]))
                elif fmt == "csv":
                    text = "\n".join(cell for row in csv.reader(io.StringIO(text)) for cell in row)
                else:
                    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)  # Markdown escapes
                texts.append(text)
    return "\n".join(texts)


@pytest.fixture(scope="module")
def tool_text(folder: Path) -> str:
    """What the outputs say besides the identities: a secret found in it proves nothing."""
    path = folder / "baseline.evtx"
    path.write_bytes(evtx_bytes(_log([("x@y.z", "x@y.z", []), ("a@b.c", "a@b.c", [])], "AADC-X.contoso.com")))
    return _every_output(path) + str(folder)


def _log(people: list[tuple[str, str, list[str]]], computer: str) -> list[Event]:
    events = []
    for i, (_, spelling, _) in enumerate(people):
        tid = f"{i:08x}-0000-4000-8000-000000000000"
        events.append(start(tid, spelling, i * 60, computer=computer, record=10 * i + 1))
        events.append(failure(tid, spelling, i * 60 + 5, computer=computer, record=10 * i + 2))
        text = f"Details: {spelling}, TrackingId: {tid}"
        events.append(prs(39999, text, i * 60 + 6, computer=computer, record=10 * i + 3))  # not in the catalogue
    return events


QUOTED = '"yn닊 w4ĜŇ ŨXĤ1İ뙅Ė"@'  # found by a long run: the timeline cut the text inside the quotes
LONG_IDN = "AiĴŧ-Ń0ūŊ掾ĸ.Įķ𪧕ć𰄌Î𡳭-ģ.qŌØĽH-𣥹Ť-jŰî𣣂.com"
# Found by a run of the suite: the timeline cut the text inside full-width quotes (`＂`, which it did
# not take for quotes), before the `@`, and `"ŕłĵ` was left in every timeline format.
FULLWIDTH = "ù0.0.00@ç0-00-0.ÿę.cn"
IDN = "ĳÁ𭰏å-6ĩµņ-ıdȺ.ċœȾ𘥯-Ŏ𨕧BĦ-ķÒĒZJ𨩨.ōťÎöŸĂi-Ü-Ņ1ď.xn--p1ai"
QUOTED_IDN, SPELLED = '"ŕłĵ ţȾoţĭÚĞ"@' + IDN, _fullwidth('"ŕłĵ ţȾoţĭÚĞ"@' + _punycode(IDN))
PCT2 = '"ŌŢľ 𦍙ŝ𓁩gŨőº QìĳÁ"@ĻŌ.ŧëqõģ𩚒Ę-Ŭď.com'
RUN_1 = [
    (FULLWIDTH, _fullwidth(FULLWIDTH), ["ù0.0.00", FULLWIDTH]),
    (QUOTED_IDN, SPELLED[:115] + "\u2060" + SPELLED[115:], ["ŕłĵ", "ţȾoţĭÚĞ", QUOTED_IDN]),
    (PCT2, PCT2.replace("@", "%2540").replace("ď", "\u2060ď"), ["ŌŢľ", "𦍙ŝ𓁩gŨőº", "QìĳÁ", PCT2]),
]


# Found by a deep run: the timeline cut the text inside a comment between `@` and the domain.
RUN_2 = [
    (
        "𠮻o.𦡳Ąã.3뮏𖣠@𩖹ŗK-ęyĸģc-ŘSÌáļ.com",
        "\u200b𠮻o.𦡳Ąã.3뮏𖣠@(AôöÌľ𠡙W 0Ç ŭĦ䁈0)𩖹ŗK-ęyĸģc-ŘSÌáļ.com",
        ["𠮻o.𦡳Ąã.3뮏𖣠"],
    ),
    ("A0A@A0.com", "A0A@A0.com", []),
]


@settings(max_examples=150 if DEEP else 12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(identities(), min_size=2, max_size=5), names(inner="-"))
@example(
    [(QUOTED + LONG_IDN, QUOTED + _punycode(LONG_IDN), ["yn닊", "w4ĜŇ", "ŨXĤ1İ뙅Ė"]), ("A0A@A0.com", "A0A@A0.com", [])],
    "A0000",
)
@example(RUN_1, "됨𣜧à")
@example(RUN_2, "A0A")
def test_no_generated_identity_survives_any_output(
    folder: Path, tool_text: str, people: list[tuple[str, str, list[str]]], host: str
) -> None:
    """Identities in event texts and a generated computer name: nothing of them in any format of a
    redacted report, triage or timeline (with --redact-hosts)."""
    secrets = [s for _, _, parts in people for s in parts] + [host]
    assume(not _leaks(tool_text, secrets))
    path = folder / "log.evtx"
    path.write_bytes(evtx_bytes(_log(people, f"AADC-{host}.contoso.com")))
    assert _leaks(_every_output(path), secrets) == []


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (str(k), *_strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_host_names_are_found_in_any_case() -> None:
    """`İ` lower-cases to two characters (found by the property test): the name is matched as
    written and lower-cased, and each spelling gets the one pseudonym."""
    doc = {"servers": [{"computer": "AADC-İ01.contoso.com"}], "note": "AADC-İ01, aadc-i̇01.contoso.com, ＡＡＤＣ-İ01"}
    redacted = Redactor("k", hosts=True).document(doc)
    alias = redacted["servers"][0]["computer"]
    assert "01" not in json.dumps(redacted, ensure_ascii=False).replace(alias, "")


def test_namespace_hosts_get_the_namespaces_pseudonyms() -> None:
    """Every Service Bus host keeps its domain; its namespace gets the pseudonym `namespaces` has."""
    result = CliRunner().invoke(
        app, ["report", "samples", "-f", "json", "--redact", "--redact-key", "k", "--redact-hosts"]
    )
    servers = json.loads(result.stdout)["servers"]
    for server in servers:
        hosts = server["namespace_hosts"]
        assert hosts and {h["host"].split(".", 1)[0] for h in hosts} == set(server["namespaces"])
        assert all(re.fullmatch(r"namespace-[0-9a-f]{10}\.servicebus\.[a-z.]+", h["host"]) for h in hosts)
    assert len({n for s in servers for n in s["namespaces"]}) == 5  # one per sample server, still apart
