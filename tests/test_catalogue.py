"""The catalogue: complete for the reference's codes, valid, examples as stated, overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.catalogue.loader import CatalogueError, example_problems, load
from analyzer.catalogue.model import fold
from analyzer.catalogue.parse import Checker, phrase_pattern, read_phrases
from tests.helpers import event, run_cli

CASES = Path(__file__).parent / "catalogue_cases"
REQUIRED = (
    [
        ("PasswordResetService", i)
        for i in [*range(31001, 31020), 31034, 31044, *range(32000, 32016), *range(33001, 33010)]
    ]
    + [("ADSync", i) for i in (6329, 6800, 6306, 6900, 2001, 2002)]
    + [("Directory Synchronization", i) for i in (611, *range(650, 658))]
    + [("Entra Connect Admin Actions", i) for i in (2503, 2517, 2518)]
)


@pytest.fixture(scope="module")
def catalogue():
    return load()


def test_every_code_of_the_reference_has_an_entry(catalogue) -> None:
    missing = [key for key in REQUIRED if catalogue.entry_for(*key) is None]
    assert missing == []
    assert {e.hresult for e in catalogue.signatures if e.hresult} == {
        "80230402",
        "800700CE",
        "8023062C",
        "80230818",
        "80004005",
        # This one and the next two are evidence wherever they appear, not only in 33008, 33004 and 6329.
        "80230619",
        "80230626",
        "8023061F",
    }
    for code in (32006, 32012):
        assert catalogue.entry_for("PasswordResetService", code).documented is False


def test_every_example_behaves_as_its_entry_says(catalogue) -> None:
    assert example_problems(catalogue) == []
    assert sum(len(e.examples) for e in catalogue.all_entries()) >= 130


def test_examples_through_the_event_model(catalogue) -> None:
    """Each entry's examples, as real events of that code, get the cause the entry names."""
    for entry in catalogue.all_entries():
        if entry.is_signature:
            continue
        for example in entry.examples:
            found, cause, _, _ = catalogue.classify(event(entry.provider, entry.event_id, example.text))
            assert found is entry and cause == example.cause, (entry.id, example.text[:60])


def test_every_sentence_has_both_languages(catalogue) -> None:
    for cause in catalogue.causes.values():
        assert all(t.en and t.zh_cn for t in (cause.title, cause.explanation, *cause.fixes)), cause.id
    for entry in catalogue.all_entries():
        assert entry.title.zh_cn and entry.meaning.zh_cn, entry.id


def test_most_specific_cause_wins(catalogue) -> None:
    entry = catalogue.entry_for("ADSync", 6329)
    assert catalogue.cause_of(entry, "BAIL: MMS(4924): 0x80230619 (A restriction…)") == ("password-policy", True)
    assert catalogue.cause_of(entry, "something new") == ("password-set-failed", False)
    generic = catalogue.entry_for("PasswordResetService", 31003)
    # A signature names it.
    assert catalogue.cause_of(generic, "Reason: hr=80230818, message=x") == ("dc-unreachable", True)
    assert catalogue.cause_of(generic, "Reason: unknown") == ("password-set-failed", False)
    proxy = catalogue.entry_for("PasswordResetService", 32002)
    assert catalogue.cause_of(proxy, "(407) Proxy Authentication Required")[0] == "proxy-auth-required"
    assert catalogue.cause_of(catalogue.entry_for("PasswordResetService", 31001), "(407)") == (None, False)


def test_specific_beats_generic(catalogue) -> None:
    """An ERR_ line that names the reason wins over the HRESULT after it; HRESULTs count in any failure
    event; E_FAIL (0x80004005) comes after every specific evidence, also inside a socket error."""
    sam = (
        '"ERR_: MMS(7104): admaexport.cpp(2944): Failed to acquire user information: CONTOSO\\MSOL_1. Error Code: '
        'ERROR_ACCESS_DENIED" "BAIL: MMS(7104): admaexport.cpp(3050): 0x80230626 (denied access.)"'
    )
    assert catalogue.cause_of(catalogue.entry_for("ADSync", 6329), sam) == ("sam-remote-restricted", True)
    for code in (31003, 31011, 33001, 32000):
        entry = catalogue.entry_for("PasswordResetService", code)
        assert catalogue.cause_of(entry, "Reason: hr=80230626, message=x")[0] == "connector-permissions"
        assert catalogue.cause_of(entry, "Reason: hr=80230619, message=x")[0] == "password-policy"
        assert catalogue.cause_of(entry, "BAIL: 0x8023061f (x)")[0] == "ma-not-enabled"
        assert catalogue.cause_of(entry, "Details: Object could not be found.")[0] == "object-not-joined"
        assert catalogue.cause_of(entry, "Details: Multiple matches found.")[0] == "duplicate-user-match"
        assert catalogue.cause_of(entry, "hr=80004005 ... hr=80230626") == ("connector-permissions", True)
        assert catalogue.cause_of(entry, "hr=80004005, message=Unspecified error") == ("sync-engine-unspecified", False)
    socket = "System.Net.Sockets.SocketException (0x80004005): No such host is known"
    assert catalogue.cause_of(catalogue.entry_for("PasswordResetService", 32002), socket)[0] == "dns-resolution"


def test_no_generic_answer_where_specific_evidence_exists(catalogue) -> None:
    """No example of the catalogue gets a default (generic) cause while some specific evidence of any
    signature or entry rule would name a cause for its text."""
    rules = [r for e in catalogue.all_entries() if not e.generic for r in e.rules if r.clues]
    for entry in catalogue.all_entries():
        for example in entry.examples:
            cause, specific = catalogue.cause_of(entry, example.text)
            if cause is None or specific or not example.matches:
                continue
            covering = [r.cause for r in rules if r.find(example.text)]
            assert covering == [], (entry.id, example.text[:80], covering)


def test_malformed_catalogue_reports_every_problem(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load(CASES / "malformed", shipped=False)
    problems = "\n".join(caught.value.problems)
    for expected in [
        "causes/bad-cause.yaml: colour: unknown key",
        "causes/bad-cause.yaml: severity: 'urgent' is not one of",
        "causes/bad-cause.yaml: title: needs exactly these languages",
        "causes/bad-cause.yaml: fixes: needs at least one step",
        "events/PasswordResetService/31999.yaml: event_id: must be int, not str",
        "events/PasswordResetService/31998.yaml: -: not valid YAML",
    ]:
        assert expected in problems
    fixed = (CASES / "malformed/events/PasswordResetService/31999.yaml").read_text().replace('"31999"', "31999")
    (tmp_path / "events").mkdir()
    (tmp_path / "events/31999.yaml").write_text(fixed)
    with pytest.raises(CatalogueError) as caught:
        load(tmp_path, shipped=True)
    problems = "\n".join(caught.value.problems)
    for expected in [
        "level: 'loud' is not one of",
        "patterns[0]: invalid regex",
        "causes[0].cause: unknown cause 'no-such-cause'",
        "operation: required for role start",
        "examples: needs at least one matching and one non-matching example",
    ]:
        assert expected in problems


def test_duplicates_are_refused() -> None:
    with pytest.raises(CatalogueError) as caught:
        load(CASES / "duplicates", shipped=False)
    assert any("event_id: passwordresetservice 31001 is also in" in p for p in caught.value.problems)


def test_codes_directory_overrides_and_adds() -> None:
    catalogue = load(CASES / "override")
    entry = catalogue.entry_for("PasswordResetService", 32002)
    assert entry.title.en.endswith("(site override)")
    assert catalogue.causes["site-proxy"].severity == "critical"
    assert catalogue.cause_of(entry, "anything") == ("site-proxy", False)
    assert len(catalogue.entries) == len(load().entries)


def test_codes_cli() -> None:
    catalogue = load()
    code, out, _ = run_cli("codes")
    assert code == 0 and len(out.splitlines()) == 2 + len(catalogue.entries) + len(catalogue.signatures)
    assert len(catalogue.entries) >= 60 and len(catalogue.signatures) == 10
    code, out, _ = run_cli("codes", "33004")
    assert code == 0 and "ADPermissionsError" in out and "Set-ADSyncPasswordWritebackPermissions" in out
    code, out, _ = run_cli("codes", "0x80230402")
    assert code == 0 and "hresult-80230402" in out
    code, out, _ = run_cli("codes", "--search", "proxy")
    assert code == 0 and "32002" in out and "network-evidence" in out and "31001" not in out
    code, out, _ = run_cli("codes", "33008", "--lang", "zh-CN")
    assert "最短密码期限" in out
    code, _, err = run_cli("codes", "99999")
    assert code == 2 and "no catalogue entry" in err


def test_codes_check_cli() -> None:
    code, out, err = run_cli("codes", "check", "codes")
    assert (code, err) == (0, "") and f"valid, {len(load().entries)} entries" in out
    override = CASES / "override"
    code, out, err = run_cli("codes", "check", str(override))
    assert (code, err) == (0, "") and out.startswith(f"{override}: valid, ")


def test_codes_check_of_a_malformed_catalogue_is_one_error_line_and_exit_1() -> None:
    """Every problem on one line naming its file; exit 1 (an error before any log is read), not an
    internal error."""
    code, out, err = run_cli("codes", "check", str(CASES / "malformed"))
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("error: invalid catalogue: ")
    for problem in ("bad-cause.yaml: colour: unknown key", "31999.yaml: event_id: must be int, not str"):
        assert problem in line
    code, out, err = run_cli("codes", "check", str(CASES / "duplicates"))
    assert (code, out) == (1, "") and err.startswith("error: invalid catalogue: ")
    assert "31001-again.yaml: event_id: passwordresetservice 31001 is also in" in err


def test_the_json_sidecar_is_the_yaml_parsed() -> None:
    """codes/catalogue.json is what the YAML parses to; stale, it would be ignored (slower start)."""
    import json
    from importlib.resources import files

    from analyzer.catalogue import loader

    root = files("analyzer.codes")
    sources = loader._sources(root)
    cached = json.loads(root.joinpath(loader.SIDECAR).read_text(encoding="utf-8"))
    assert cached["digest"] == loader._digest(sources), "codes/ changed: run python -m analyzer.catalogue.loader"
    problems: list[str] = []
    assert {k: list(v) for k, v in loader._documents(sources, problems).items()} == cached["documents"]
    assert problems == []


def test_a_stale_sidecar_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.catalogue import loader

    fresh = load()
    used: list[int] = []
    parse = loader._documents
    monkeypatch.setattr(loader, "_documents", lambda *a, **k: used.append(1) or parse(*a, **k))
    assert load().version == fresh.version and used == []
    monkeypatch.setattr(loader, "_digest", lambda sources: "stale")
    stale = load()
    assert used == [1] and stale.version == fresh.version and stale.entries == fresh.entries


def test_every_cause_fix_placeholder_is_checked(tmp_path: Path) -> None:
    """Each cause's fixes are checked, not only the last cause's (the clusters loop once sat inside it)."""
    (tmp_path / "causes").mkdir()
    (tmp_path / "causes/aaa-site.yaml").write_text(
        "id: aaa-site\ntitle: {en: A, zh-CN: 甲}\nseverity: low\ncategory: service\nscope: server\n"
        "explanation: {en: B, zh-CN: 乙}\nfixes: [{en: 'open {hosts}', zh-CN: '开放 {hosts}'}]\nreferences: []\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError) as caught:
        load(tmp_path)
    assert any("aaa-site.yaml: fixes[0]: unknown placeholder {hosts}" in p for p in caught.value.problems)


def test_a_phrase_example_must_hold_its_text() -> None:
    """The example check on load (done without compiling the phrase) accepts what the phrase's
    pattern matches (other case, other white space, either apostrophe) and refuses the rest."""
    text = "The operation hasn't   timed out"
    examples = {"x: THE operation\nhasn’t timed OUT.": True, "x: the operation hasn't run out": False}
    for example, holds in examples.items():
        assert bool(phrase_pattern(text).search(fold(example))) is holds
        problems: list[str] = []
        data = {
            "lang": "en",
            "name": "English",
            "messages": {"timeout": {"text": text, "example": example, "source": "s"}},
        }
        read_phrases(data, Checker("en.yaml", problems))
        assert problems == ([] if holds else ["en.yaml: messages.timeout.example: does not contain the text"])


def test_clues_compile_on_first_use() -> None:
    """Loading compiles no phrase (a fifth of every command's start-up did); finding one compiles it."""
    catalogue = load()
    rules = [r for e in catalogue.all_entries() for r in e.rules if r.clues]
    phrases = [c for r in rules for c in r.clues if c.kind == "phrase"]
    assert phrases and not any("pattern" in vars(c) for c in phrases)
    rule = next(r for r in rules if any(c.kind == "phrase" and c.lang == "de" for c in r.clues))
    clue = next(c for c in rule.clues if c.lang == "de")
    example = next(p.example for p in catalogue.phrases["de"][clue.message])
    found = rule.find(fold(example))
    assert found is not None and "pattern" in vars(found.clue)
