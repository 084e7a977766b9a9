"""Issue 11, "Corrections": each test fails on the catalogue as it was before the correction it names.

The facts come from Microsoft's pages named in each test; the examples inside the entries check the
text recognition, these check what an example cannot (levels, scopes, fix steps, translations).
"""

from __future__ import annotations

import pytest

from analyzer.catalogue.loader import load
from tests.helpers import event


@pytest.fixture(scope="module")
def catalogue():
    return load()


def _pick(catalogue, provider: str, event_id: int, text: str) -> str | None:
    _, cause, _, _ = catalogue.classify(event(provider, event_id, text))
    return cause


# --- Directory Synchronization (troubleshoot-pwd-sync, "Event ID messages") -------------------------
def test_issue_11_phs_events_have_microsofts_names_and_levels(catalogue) -> None:
    names = {
        650: "Provision credentials batch start",
        651: "Provision credentials batch end",
        652: "Failed credential provisioning batch",
        653: "Provision credentials ping start",
        654: "Provision credentials ping end",
        655: "Failed credential provisioning ping",
    }
    for code, alias in names.items():
        entry = catalogue.entry_for("Directory Synchronization", code)
        assert alias in entry.aliases, code
        others = [c for c in names if c != code]
        assert not any(catalogue.entry_for("Directory Synchronization", c).recognizes(alias) for c in others), code
    levels = {c: catalogue.entry_for("Directory Synchronization", c).level for c in (*names, 656, 657, 611)}
    assert levels == {650: "info", 651: "info", 652: "error", 653: "info", 654: "info", 655: "error"} | {
        656: "info",
        657: "info",
        611: "error",
    }


def test_issue_11_error_code_90_means_phs_not_activated(catalogue) -> None:
    text = (
        "Failed credential provisioning {}. Error: Microsoft.Online.Coexistence.ProvisionException: An error "
        "occurred. Error Code: 90. Error Description: Password Synchronization has not been activated for this "
        "company. Tracking ID: 07e93e8a-cf2d-4f67-9e95-53169c4875e0 Server Name: BL2GR1BBA003."
    )
    assert _pick(catalogue, "Directory Synchronization", 652, text.format("batch")) == "phs-not-activated"
    assert _pick(catalogue, "Directory Synchronization", 655, text.format("ping")) == "phs-not-activated"
    assert _pick(catalogue, "ADSync", 6900, "processing a password change notification: " + text) == "phs-not-activated"
    # Code 900 is not code 90.
    assert _pick(catalogue, "Directory Synchronization", 652, "Error Code: 900.") == "phs-failure"
    cause = catalogue.causes["phs-not-activated"]
    assert cause.category == "password-hash-sync" and cause.scope == "server"
    assert any("Set-ADSyncAADPasswordSyncState" in f.en for f in cause.fixes)


def test_issue_11_a_failed_657_names_a_user_scoped_phs_cause(catalogue) -> None:
    for text in (
        "Password Change Result - Anchor: eX5b50Rf+UizRIMe2CA/tg==, Dn: CN=Viola,DC=contoso,DC=local, Result: Failed.",
        "Password Change Result - Anchor : B0H+OD3LM0GEnYODwdPhpg==, Result : failed, Extended Error :",
    ):
        assert _pick(catalogue, "Directory Synchronization", 657, text) == "phs-user-failed"
    success = "Password Change Result - Anchor: eX5b50Rf+UizRIMe2CA/tg==, Dn: CN=Viola,DC=contoso, Result: Success."
    assert _pick(catalogue, "Directory Synchronization", 657, success) is None
    cause = catalogue.causes["phs-user-failed"]
    assert cause.scope == "user" and cause.category == "password-hash-sync"
    assert "not a writeback failure" in cause.explanation.en


def test_issue_11_credentials_changed_outside_the_wizard(catalogue) -> None:
    text = "The user name or password is incorrect. Verify your user name, and then type your password again."
    assert _pick(catalogue, "Directory Synchronization", 655, text) == "phs-cloud-credentials"
    assert catalogue.entry_for("Directory Synchronization", 655).recognizes(text)
    busy = "ProvisionRetryException: An error occurred. Error Code: 81. Error Description: ... currently busy."
    assert _pick(catalogue, "Directory Synchronization", 652, busy) == "phs-cloud-busy"


def test_issue_11_phs_zh_cn_texts(catalogue) -> None:
    entries = [catalogue.entry_for("Directory Synchronization", c) for c in range(652, 657)]
    assert all("云调用" not in e.title.zh_cn + e.meaning.zh_cn for e in entries)
    assert "检测到密码更改" in catalogue.entry_for("Directory Synchronization", 656).title.zh_cn


# --- ADSync 2001/2002: no Microsoft page lists them -------------------------------------------------
def test_issue_11_adsync_2001_2002_are_marked_undocumented(catalogue) -> None:
    for code in (2001, 2002):
        entry = catalogue.entry_for("ADSync", code)
        assert entry.documented is False
        assert not any("how-to-connect-sync-feature-scheduler" in r for r in entry.references)


# --- connector-permissions (tutorial-enable-sspr-writeback, SSPR_0029, concept-sspr-writeback) ------
def test_issue_11_connector_permissions_apply_to_the_tutorials_objects(catalogue) -> None:
    fixes = catalogue.causes["connector-permissions"].fixes
    grant = fixes[0].en
    rights = grant.index("Reset password"), grant.index("Write lockoutTime"), grant.index("Write pwdLastSet")
    descendants = grant.index("Descendant User objects")
    unexpire = grant.index("Unexpire Password")
    assert max(rights) < descendants < unexpire < grant.index("This object and all descendant objects")
    assert "“不过期密码”" in fixes[0].zh_cn and "“lockoutTime 的写入权限”(Write lockoutTime)" in fixes[0].zh_cn


def test_issue_11_inheritance_and_admincount_are_one_step_of_their_own(catalogue) -> None:
    """The step for a few failing users (inheritance, a stale adminCount) stands alone, so that it can be
    moved first; it names nothing of the delegation step."""
    cause = catalogue.causes["connector-permissions"]
    steps = [f for f in cause.fixes if "adminCount" in f.en]
    assert len(steps) == 1
    step = steps[0].en
    assert "inheritance" in step and "former member" in step and "Reset password" not in step
    protected = [f.en for f in cause.fixes if "Current members" in f.en]
    assert len(protected) == 1 and "change" in protected[0] and "by design" in protected[0]
    assert "reset" in cause.explanation.en and "can still change" in cause.explanation.en


# --- cloud-admin-auth, 32011/32013, 31014 (troubleshoot-sspr-writeback) -------------------------------
def test_issue_11_wizard_administrator_is_managed(catalogue) -> None:
    cause = catalogue.causes["cloud-admin-auth"]
    assert "managed (cloud-only or password-synchronized)" in cause.explanation.en
    assert "managed (cloud-only or password-synchronized)" in cause.fixes[0].en
    assert "混合标识管理员" in cause.fixes[0].zh_cn


def test_issue_11_onboarding_errors_name_the_firewall_first(catalogue) -> None:
    for code in (32011, 32013):
        assert _pick(catalogue, "PasswordResetService", code, "TrackingId: 1, Details: ") == (
            "onboarding-service-unreachable"
        )
    cause = catalogue.causes["onboarding-service-unreachable"]
    first = cause.fixes[0].en
    assert "TCP 443" in first and "9350-9354" in first and "1.1.443.0" in first and "{endpoints}" in first
    assert "federated" in cause.fixes[1].en
    assert cause.scope == "server" and cause.checklist == "firewall-proxy"


def test_issue_11_offboarding_failure_has_an_on_premises_half(catalogue) -> None:
    cause = catalogue.causes[_pick(catalogue, "PasswordResetService", 31014, "TrackingId: 1, OffboardingEventFail")]
    assert any("On-premises administrator" in f.en and "Connect to AD DS" in f.en for f in cause.fixes)
    assert any("Cloud administrator" in f.en for f in cause.fixes)


# --- severities and wordings (troubleshoot-sspr-writeback, general-troubleshooting-steps, concept) ------
def test_issue_11_ma_not_enabled_is_high(catalogue) -> None:
    """Every password operation for the users of the forest fails."""
    cause = catalogue.causes["ma-not-enabled"]
    assert cause.severity == "high" and "every password operation" in cause.explanation.en


def test_issue_11_reserved_ou_characters_include_lf_and_cr(catalogue) -> None:
    text = catalogue.causes["ad-unknown-error"].explanation
    assert "line feed (LF)" in text.en and "carriage return (CR)" in text.en
    assert "换行符 (LF)" in text.zh_cn and "回车符 (CR)" in text.zh_cn


def test_issue_11_dc_unreachable_sets_one_preferred_dc(catalogue) -> None:
    cause = catalogue.causes["dc-unreachable"]
    step = next(f.en for f in cause.fixes if "preferred" in f.en)
    assert "one preferred DC" in step and "nearest" in step and "PDC emulator" in step and "FQDN" in step
    assert "talks to the PDC emulator" not in cause.explanation.en  # That was the 2017 wording.


def test_issue_11_decryption_key_mismatch_needs_no_extra_restart(catalogue) -> None:
    """Disabling and re-enabling writeback restarts the service and rolls the keys; a restart step on top of it
    only repeats what it did."""
    fixes = catalogue.causes["decryption-key-mismatch"].fixes
    assert len(fixes) == 1 and "Disable password writeback" in fixes[0].en
    assert not any("Restart" in f.en for f in fixes)


# --- zh-CN: Microsoft's Chinese terms ------------------------------------------------------------------
def _all_zh(catalogue) -> list[str]:
    texts = [t.zh_cn for c in catalogue.causes.values() for t in (c.title, c.explanation, *c.fixes)]
    return texts + [t.zh_cn for e in catalogue.all_entries() for t in (e.title, e.meaning)]


def test_issue_11_zh_cn_terms(catalogue) -> None:
    texts = _all_zh(catalogue)
    assert not any("混合身份管理员" in t for t in texts)
    assert sum("混合标识管理员" in t for t in texts) >= 3
    prs = {c: catalogue.entry_for("PasswordResetService", c).title.zh_cn for c in (31004, 31012, 31044)}
    assert "登记已开始" in prs[31004] and "已开始取消登记" in prs[31012]
    assert prs[31044].endswith("服务总线终结点没有处于运行状态的 ServiceHost")
    meaning = catalogue.entry_for("PasswordResetService", 31044).meaning.zh_cn
    assert meaning.startswith("密码写回无法工作")  # As in English, what it means comes first, then why.


def test_issue_11_ui_labels_stay_in_english_in_zh_cn(catalogue) -> None:
    """Synchronization Service Manager is not translated: its labels are quoted as the customer sees them."""
    assert "“Sign and Encrypt LDAP Traffic”" in catalogue.causes["ldap-sign-encrypt"].fixes[0].zh_cn
    assert "Connect to Active Directory Forest" in catalogue.causes["connector-password-too-long"].fixes[0].zh_cn
    assert "Only use preferred domain controllers" in " ".join(
        f.zh_cn for f in catalogue.causes["dc-unreachable"].fixes
    )


# --- item 10: the rest checked against the pages -------------------------------------------------------
def test_issue_11_levels_follow_the_names_where_no_real_event_was_seen(catalogue) -> None:
    """Microsoft states no level; the reference's rule (…Error/…Fail is an error, …Warning a warning)
    holds for every name, and real events confirm 31044 and 33001. ReportServiceHealthError was a warning."""
    assert catalogue.entry_for("PasswordResetService", 32015).level == "error"
    assert catalogue.entry_for("PasswordResetService", 32014).level == "warning"
    for entry in catalogue.entries.values():
        if "Error" in entry.name or "Fail" in entry.name:
            assert entry.level == "error", entry.id


def test_issue_11_dc_audit_needs_failure_auditing(catalogue) -> None:
    step = next(f.en for f in catalogue.causes["password-policy"].fixes if "4724" in f.en)
    assert "failure auditing of account management" in step
