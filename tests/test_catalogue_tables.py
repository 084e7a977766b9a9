"""The catalogue's tables: the prerequisites checklist (codes/checklist.yaml) and the SSPR codes users see
(codes/sspr-codes.yaml): loaded, validated like the rest, used by reports and `wba codes` (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.catalogue.loader import CatalogueError, load
from tests.conftest import ROOT
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def catalogue():
    return load()


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --- checklist ----------------------------------------------------------------------------------------
def test_every_cause_names_an_item_of_the_checklist(catalogue) -> None:
    named = {c.checklist for c in catalogue.causes.values() if c.checklist}
    assert named and named <= set(catalogue.checklist)
    for item, text in catalogue.checklist.items():
        assert text.en and text.zh_cn and text.en != text.zh_cn, item
    # No item names a cloud's host (the fixes name the server's own cloud's endpoints).
    assert not any("servicebus" in t.en or "microsoftonline" in t.en for t in catalogue.checklist.values())


def test_a_cause_naming_no_checklist_item_is_refused(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "causes/site-cause.yaml",
        "id: site-cause\ntitle: {en: A, zh-CN: 甲}\nseverity: low\ncategory: service\nscope: server\n"
        "checklist: no-such-item\nexplanation: {en: B, zh-CN: 乙}\nfixes: [{en: C, zh-CN: 丙}]\nreferences: []\n",
    )
    with pytest.raises(CatalogueError) as caught:
        load(tmp_path)
    assert "causes/site-cause.yaml: checklist: 'no-such-item' is not an item of checklist.yaml" in str(caught.value)


def test_a_malformed_checklist_reports_each_problem(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "checklist.yaml",
        "items:\n  tls: {en: only English}\n",
    )
    with pytest.raises(CatalogueError) as caught:
        load(tmp_path)
    problems = "\n".join(caught.value.problems)
    assert "checklist.yaml: items.tls: needs exactly these languages" in problems
    assert "is not an item of checklist.yaml" in problems  # The shipped causes name items that are now missing.


def test_reports_take_the_checklist_in_their_language() -> None:
    path = str(ROOT / "samples" / "ad-permissions.evtx")
    texts = {}
    for lang in ("en", "zh-CN"):
        code, out, _ = run_cli("report", path, "-f", "json", "--lang", lang)
        assert code == 0
        (server,) = json.loads(out)["servers"]
        texts[lang] = {c["item"]: c["text"] for c in server["checklist"]}
    assert texts["en"]["permissions"].startswith("The AD DS connector account")
    assert "AD DS 连接器帐户" in texts["zh-CN"]["permissions"]


# --- SSPR codes ------------------------------------------------------------------------------------------
def test_sspr_codes_map_to_causes(catalogue) -> None:
    codes = catalogue.user_codes
    assert {"SSPR_0009", "SSPR_0010", "SSPR_0029", "SSPR_0030"} <= set(codes)
    assert codes["SSPR_0029"].name == "OnPremisesAdminActionRequired" and codes["SSPR_0029"].number == 29
    assert codes["SSPR_0029"].causes[:2] == ("connector-permissions", "sam-remote-restricted")
    assert codes["SSPR_0010"].causes == ("writeback-disabled-in-portal",)
    assert "servicebus-unreachable" in codes["SSPR_0030"].causes
    assert codes["SSPR_0009"].steps and not codes["SSPR_0009"].causes  # A tenant setting has steps of its own.
    portal = catalogue.causes["writeback-disabled-in-portal"]
    assert portal.scope == "server" and "On-premises integration" in portal.fixes[0].en


@pytest.mark.parametrize("spelling", ["SSPR_0029", "sspr_0029", "SSPR-29", "SSPR 029", "OnPremisesAdminActionRequired"])
def test_find_reads_the_usual_spellings(catalogue, spelling: str) -> None:
    assert [c.code for c in catalogue.find(spelling)] == ["SSPR_0029"]


def test_codes_cli_shows_an_sspr_code() -> None:
    code, out, _ = run_cli("codes", "SSPR_0029")
    assert code == 0
    assert out.startswith("SSPR_0029: OnPremisesAdminActionRequired")
    assert "connector-permissions" in out and "sam-remote-restricted" in out
    assert "Set-ADSyncPasswordWritebackPermissions" in out and "RestrictRemoteSam" in out
    code, out, _ = run_cli("codes", "SSPR_0010", "--lang", "zh-CN")
    assert code == 0 and "writeback-disabled-in-portal" in out and "本地集成" in out
    code, _, err = run_cli("codes", "SSPR_0099")
    assert code == 2 and "no catalogue entry" in err


def test_sspr_codes_are_validated(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "sspr-codes.yaml",
        "codes:\n"
        "  SSPR_29: {name: X, number: 29, meaning: {en: a, zh-CN: 甲}, steps: [{en: b, zh-CN: 乙}]}\n"
        "  SSPR_0031: {name: Y, number: 30, meaning: {en: a, zh-CN: 甲}, causes: [no-such-cause]}\n"
        "  SSPR_0032: {name: Z, number: 32, meaning: {en: a, zh-CN: 甲}}\n",
    )
    with pytest.raises(CatalogueError) as caught:
        load(tmp_path)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "codes.SSPR_29: must be SSPR_ and four digits",
        "codes.SSPR_0031.number: 30 is not the number of SSPR_0031",
        "codes.SSPR_0031.causes: unknown cause 'no-such-cause'",
        "codes.SSPR_0032.causes: needs causes to check or steps of its own",
    ):
        assert expected in problems
