"""Stable pseudonyms for personal and tenant data in reports (`--redact`, `--redact-hosts`).

A pseudonym is an HMAC-SHA256 of the value under the report's key, so the same
value gives the same pseudonym everywhere in one report (and across reports made
with the same `--redact-key`): correlation still works, the value is gone.
Replaced: UPNs and e-mail addresses (incl. AdminUpn; Unicode local parts, quoted
local parts with quoted-pairs, RFC 5322 comments, IDN domains) and a quoted display name
before one, distinguished names (escaped, hex-escaped or quoted values), cloudAnchor and
SourceAnchorValue, DOMAIN\\account names (non-ASCII too); with hosts also computer names
and Service Bus namespaces. An address is hashed in one spelling (comments dropped, quotes
and escapes resolved, domain labels in Unicode), a DN with its values unescaped, so every
spelling of one identity gets one pseudonym.

Text is normalized before it is searched, so that no spelling of a value slips past the
patterns: NFKC (full-width `＠`, mathematical letters), invisible format characters removed
(zero-width space and joiners, bidi controls, soft hyphen, tag characters), and
percent-decoding (`jane%40contoso.com`, repeated for `%2540`). The redacted text is the
normalized text, and every spelling of one address gets the address's pseudonym.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from analyzer.reports.json import Doc

# Every character of Unicode category Cf (format: zero-width, bidi, tags; tests/test_redact.py
# checks the list against the running Python), plus the invisible fillers and variation
# selectors that are letters or marks.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)
_DECODE_ROUNDS = 4  # `%2540` is `%40` is `@`; the address pattern takes deeper nesting itself.

# An address: a local part, then `@` (or `%40`, `%2540`, ..., `&#64;`) and a domain. The local part
# is a run of anything but the characters that end one (so letters, digits and marks of every
# script), taken from where the run starts (a long word is scanned once, not from each of its
# positions); or a quoted string (RFC 5321, of any length, with quoted-pairs `\"`); with RFC 5322
# comments (`john(c)@`, nested once) and stray parentheses around them. Each piece is atomic and
# there are at most a few, so a hostile text cannot make the search slow. The domain: labels of
# the same characters (IDN labels as they are), dotted by `.` or the ideographic full stop (one
# label is enough: a text cut short ends in `user@conto`), or a literal `[10.0.0.1]`; with comments
# before it and one right after it. A quoted local part may start anywhere (`'"john doe"@…`), a run
# only after a character that ends one. Quotes and dots in front of a run (`'john@contoso.com'`) are
# kept out of the pseudonym.
_ENDS = r"\s@,;:<>()\[\]{}\\/|=?&`"
_AT = r"(?:@|%(?:25)*40|&#0*64;|&#[xX]0*40;|&commat;)"
_COMMENT = r"\((?:[^()\\\r\n]|\\.|\((?:[^()\\\r\n]|\\.)*\))*\)"
_QUOTED = r'"(?:[^"\\\r\n]|\\[^\r\n])+"'
_RUN = rf"(?:[^{_ENDS}%]|%(?!(?:25)*40))[^{_ENDS}%]*(?:%(?!(?:25)*40)[^{_ENDS}%]*)*"  # Unrolled: faster.
_LABEL = rf"[^{_ENDS}.\u3002'\"!*+#$^~%]+"
_PIECE = rf"(?>{_COMMENT}|{_QUOTED}(?=[(.%&@])|{_RUN}|[()])"
# A domain, or what is left of one where a text was cut inside a comment (`john@(a b`).
_DOMAIN = (
    rf"(?P<domain>(?:{_COMMENT})*(?:\[[^\[\]\\\r\n]*\]|{_LABEL}(?:[.\u3002]{_LABEL})*|\([^()\r\n]*\Z)(?:{_COMMENT})?)"
)
_EMAIL = re.compile(rf"(?<![^{_ENDS}])(?P<local>{_PIECE}{{1,8}}){_AT}{_DOMAIN}")
# Searched first, apart (searching for both at every position of every text costs more).
_QUOTED_EMAIL = re.compile(rf"(?P<local>{_QUOTED}(?=[(.%&@]){_PIECE}{{0,7}}){_AT}{_DOMAIN}")
_PIECES = re.compile(rf"{_COMMENT}|{_QUOTED}|[()]")
_QUOTED_FIRST = re.compile(rf"{_QUOTED}(?=[(.%&@]|\Z)")
_QUOTED_PAIR = re.compile(r"\\(.)")
_LEAD = "'\".*"
# A text that ends inside quotes, in words a name can hold: a quoted local part cut short (the
# timeline cuts a long text where a word ends; a quote it does not know as one, `＂` or `%22`,
# lets it cut between the quotes, before the `@`; an escaped quote `\"` inside them makes it count
# wrong). A quote that closes something (`5"`) is not one.
_CUT_QUOTED = re.compile(r'(?<![^\s(<\[{:=,;])"((?:[^"\r\n\\/:;<>()\[\]{}|=?&@]|\\[^\r\n]|\\\Z)+)\Z')
_PSEUDONYM = re.compile(r"(?:user|name|dn|anchor|source|account|host|namespace)-[0-9a-f]{10}")
# A quoted display name before an address (`"John Doe" <jdoe@contoso.com>`), once the address is a
# pseudonym: a person's name.
_DISPLAY_NAME = re.compile(r'"((?:[^"\\\r\n]|\\.)+)"(?=\s*<\s*user-[0-9a-f]{10}@redacted\.invalid\s*>)')
# A distinguished name: from a naming attribute on, each value escaped (`\,`, `\2C`), quoted
# (`"Doe, John"`) or plain, in any script; a quote inside a value is part of it unless it ends the
# text or comes before a separator (`"CN=John,OU=Users"` keeps its closing quote).
_DN_VALUE = r'(?:"(?:[^"\\\r\n]|\\.)*"|(?:\\.|[^,\r\n"|\\]|"(?!\s*(?:[,|\r\n]|\Z)))+)'
_DN_TYPE = r"(?:CN|OU|DC|O|L|C|ST|STREET|UID)"
_DN = re.compile(rf"(?:CN|OU|U(?<![\w-]U)ID)={_DN_VALUE}(?:,\s*{_DN_TYPE}={_DN_VALUE})*", re.IGNORECASE)
_RDN = re.compile(rf"(\w+)=({_DN_VALUE})")
_DN_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2})|\\(.)", re.DOTALL)
_CLOUD_ANCHOR = re.compile(r"User_[0-9A-Fa-f]{4,}(?:-[0-9A-Fa-f]+)*")
_SOURCE_ANCHOR = re.compile(r"((?:SourceAnchorValue|Anchor)\s?:\s*)([A-Za-z0-9+/=]{8,})")
# DOMAIN\name: a domain (a letter, then letters, digits or `-`; any script) and a name of two or
# more characters a sAMAccountName can hold, or one that is not ASCII (`CONTOSO\张`); a doubled
# backslash too (text escaped once more). Registry roots are not accounts.
_NAME_ENDS = r"\s\\/\"\[\]:;|=,+*?<>@()"  # A sAMAccountName cannot hold these.
_ACCOUNT = re.compile(
    r"(?<![\w-])(?!HKLM\\|HKCU\\|HKEY_)([^\W\d_][\w-]{0,62})\\{1,2}"
    rf"([^{_NAME_ENDS}]{{2,}}|[^{_NAME_ENDS}\x00-\x7f])"
)
# From where a name starts, and never given back: a long run of name characters is scanned once.
_NAMESPACE = re.compile(
    r"(?<![a-z0-9-])[a-z0-9][a-z0-9-]*+(?=\.servicebus\.(?:windows\.net|usgovcloudapi\.net|chinacloudapi\.cn))",
    re.IGNORECASE,
)
_REDACTED_DOMAIN = "redacted.invalid"
# Keys of the report document whose whole value is a name to pseudonymize.
_HOST_KEYS = {"computer", "server"}
_NAMESPACE_KEYS = {"namespaces"}
# Keys whose value is a Service Bus host (`ns.servicebus.windows.net`): its namespace is pseudonymized.
_NAMESPACE_HOST_KEYS = {"host"}
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


def normalize(value: str) -> str:
    """`value` as it is searched: NFKC, without invisible characters, percent-decoded (until
    nothing changes, at most a few rounds). Plain ASCII without `%` is already all of that."""
    if value.isascii() and "%" not in value:
        return value
    for _ in range(_DECODE_ROUNDS):
        plain = _INVISIBLE.sub("", unicodedata.normalize("NFKC", value))
        if "%" in plain:
            plain = unquote(plain)
        if plain == value:
            break
        value = plain
    return value


def _label(label: str) -> str:
    """One domain label in its Unicode form (`xn--bcher-kva` -> `bücher`), case-folded."""
    if label[:4].lower() == "xn--":
        with contextlib.suppress(UnicodeError, ValueError):
            label = label[4:].encode("ascii").decode("punycode")
        label = normalize(label)  # Decoded, it is spelled as freely as any text.
    return unicodedata.normalize("NFKC", label.casefold())


def _local(local: str) -> str:
    """A local part as one spelling: comments and stray parentheses dropped, quoted strings unquoted
    (`"j\\ohn"` is `john`: RFC 5321 quoted-pairs stand for the character they escape)."""
    return _PIECES.sub(lambda m: _QUOTED_PAIR.sub(r"\1", m.group()[1:-1]) if m.group()[0] == '"' else "", local)


def _dn_value(value: str) -> str:
    """A DN value as one spelling: unquoted, escapes resolved (`\\2C` and `\\,` are `,`; hex escapes are
    UTF-8 bytes), `,` and `\\` escaped again so that values cannot run together."""
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if "\\" in value:
        raw = bytearray()
        last = 0
        for m in _DN_ESCAPE.finditer(value):
            raw += value[last : m.start()].encode()
            raw += bytes.fromhex(m.group(1)) if m.group(1) else m.group(2).encode()
            last = m.end()
        raw += value[last:].encode()
        value = unicodedata.normalize("NFKC", raw.decode("utf-8", "backslashreplace"))
    return value.strip().replace("\\", "\\\\").replace(",", "\\,")


class Redactor:
    def __init__(self, key: str, hosts: bool = False) -> None:
        self.key = key.encode()
        self.hosts = hosts
        self.known_hosts: dict[str, str] = {}  # The pseudonym of each case-folded name.
        self._spellings: set[str] = set()  # Every way the names are matched.
        self._hosts: re.Pattern[str] | None = None

    def pseudonym(self, kind: str, value: str) -> str:
        digest = hmac.new(self.key, f"{kind}:{value.casefold()}".encode(), hashlib.sha256).hexdigest()[:10]
        return f"{kind}-{digest}"

    def _email(self, match: re.Match[str]) -> str:
        local, domain = match.group("local"), match.group("domain")
        lead = ""
        if local[0] in _LEAD and not _QUOTED_FIRST.match(local):
            stripped = local.lstrip(_LEAD)  # In 'john@contoso.com' the quote is not part of it.
            lead, local = local[: len(local) - len(stripped)], stripped or local
        if "(" in local or '"' in local or ")" in local:
            local = _local(local)
        if domain == _REDACTED_DOMAIN and _PSEUDONYM.fullmatch(local):
            return f"{lead}{local}@{domain}"  # A pseudonym already (text redacted twice, or quoted first).
        if "(" in domain:
            domain = _PIECES.sub("", domain)  # Comments are no part of the name.
        canonical = local + "@" + ".".join(_label(part) for part in re.split("[.\u3002]", domain))
        return f"{lead}{self.pseudonym('user', canonical)}@{_REDACTED_DOMAIN}"

    def _dn(self, match: re.Match[str]) -> str:
        canonical = ",".join(f"{kind.casefold()}={_dn_value(value)}" for kind, value in _RDN.findall(match.group()))
        return self.pseudonym("dn", canonical)

    def _display_name(self, match: re.Match[str]) -> str:
        name = " ".join(_QUOTED_PAIR.sub(r"\1", match.group(1)).split())
        return match.group() if _PSEUDONYM.fullmatch(name) else f'"{self.pseudonym("name", name)}"'

    def _cut_quoted(self, match: re.Match[str]) -> str:
        words = match.group(1).strip()
        if not words or _PSEUDONYM.fullmatch(words):
            return match.group()  # Nothing of a name, or a pseudonym already.
        return '"' + self.pseudonym("user", words)

    def _host(self, match: re.Match[str]) -> str:
        name = match.group().casefold()
        return self.known_hosts.get(name) or self.pseudonym("host", name)

    def text(self, value: str) -> str:
        value = normalize(value)
        if "@" in value or "%" in value or "&#" in value or "&commat;" in value:
            if '"' in value:
                value = _QUOTED_EMAIL.sub(self._email, value)
            value = _EMAIL.sub(self._email, value)
        if "=" in value:
            value = _DN.sub(self._dn, value)
        if "User_" in value:
            value = _CLOUD_ANCHOR.sub(lambda m: self.pseudonym("anchor", m.group()), value)
        if "nchor" in value:
            value = _SOURCE_ANCHOR.sub(lambda m: m.group(1) + self.pseudonym("source", m.group(2)), value)
        if "\\" in value:
            value = _ACCOUNT.sub(lambda m: self.pseudonym("account", f"{m.group(1)}\\{m.group(2)}"), value)
        if self.hosts:
            if self._hosts is not None:
                value = self._hosts.sub(self._host, value)
            value = _NAMESPACE.sub(lambda m: self.pseudonym("namespace", m.group()), value)
        if '"' in value:  # Last: what the other patterns found is a pseudonym now, and stays one.
            if "<user-" in value:
                value = _DISPLAY_NAME.sub(self._display_name, value)
            value = _CUT_QUOTED.sub(self._cut_quoted, value)
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
                name = normalize(node)
                # As written, and lower-cased both ways: `İ` lower-cases to two characters, which
                # a case-insensitive pattern of the name as written does not match.
                for spelling in (name, name.lower(), name.casefold()):
                    names.add(spelling)
                    names.add(spelling.split(".")[0])

        walk(doc)
        self._spellings |= {n for n in names if len(n) >= 3}
        for name in self._spellings:
            self.known_hosts.setdefault(name.casefold(), self.pseudonym("host", name))
        if self._spellings:
            ordered = sorted(self._spellings, key=len, reverse=True)
            self._hosts = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)

    def document(self, doc: Any) -> Any:
        """A copy of a report document (or rows) with every string redacted."""
        if self.hosts:
            self.learn_hosts(doc)

        def walk(node: Any, key: str | None = None) -> Any:
            if key == "fixes" and self.hosts:  # Catalogue text, but filled with the server's namespace.
                return [_NAMESPACE.sub(lambda m: self.pseudonym("namespace", m.group()), fix) for fix in node]
            if key in _CATALOGUE_KEYS:
                return node
            if isinstance(node, dict):
                return {k: walk(v, k) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, key) for v in node]
            if isinstance(node, str):
                if self.hosts and key in _NAMESPACE_KEYS:
                    return self.pseudonym("namespace", normalize(node))
                if self.hosts and key in _NAMESPACE_HOST_KEYS:
                    namespace, dot, domain = normalize(node).partition(".")
                    return self.pseudonym("namespace", namespace) + dot + domain
                return self.text(node)
            return node

        return walk(doc)

    def model(self, doc: Doc) -> Doc:
        """A copy of a document of the report model (report, triage) with every string redacted:
        its JSON form walked as `document` walks it, then loaded back into the model."""
        return type(doc).from_json(self.document(doc.to_json()))
