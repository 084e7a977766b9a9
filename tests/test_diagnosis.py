"""Stitching operations, picking causes, ranking them and deciding a server's status."""

from __future__ import annotations

import pytest

from analyzer.analysis.collect import Collector
from analyzer.analysis.textfields import extract
from analyzer.catalogue.loader import load
from tests.helpers import bail, event, failure, prs, start, success


@pytest.fixture(scope="module")
def catalogue():
    return load()


def diagnose(catalogue, events):
    collector = Collector(catalogue)
    for item in events:
        collector.add(item)
    servers = collector.diagnose()
    assert len(servers) == 1
    return servers[0]


def test_join_by_tracking_id_even_out_of_order(catalogue) -> None:
    # The failure is logged a second before its start (seen in the field).
    server = diagnose(catalogue, [failure("t1", "ann@c.com", 9), start("t1", "ann@c.com", 10), bail("80230626", 9.5)])
    [op] = server.operations
    assert (op.kind, op.outcome, op.cause, op.specific) == ("reset", "failed", "connector-permissions", True)
    assert len(op.evidence) == 3  # They are the start, 33004 and the companion 6329.


def test_missing_start_still_counts_as_an_operation(catalogue) -> None:
    server = diagnose(catalogue, [success("old", "bob@c.com", 1, eid=31007)])
    [op] = server.operations
    assert (op.kind, op.start, op.outcome) == ("change", None, "succeeded")
    assert server.counts("change") == {"started": 1, "succeeded": 1, "failed": 0, "unfinished": 0}


def test_start_without_outcome_is_unfinished(catalogue) -> None:
    server = diagnose(
        catalogue, [start("t1", "ann@c.com", 1), start("t2", "bob@c.com", 2), success("t2", "bob@c.com", 3)]
    )
    assert [(op.user, op.outcome) for op in server.operations] == [
        ("ann@c.com", "unfinished"),
        ("bob@c.com", "succeeded"),
    ]
    assert server.status == "degraded"


def test_two_operations_of_one_user_without_tracking_ids(catalogue) -> None:
    events = [
        start(None, "ann@c.com", 0),
        failure(None, "ann@c.com", 2, hr="80230619", eid=33008),
        start(None, "ann@c.com", 300),
        success(None, "ann@c.com", 302),
    ]
    server = diagnose(catalogue, events)
    assert [(op.outcome, op.cause) for op in server.operations] == [("failed", "password-policy"), ("succeeded", None)]


def test_outcome_too_late_for_the_window_is_its_own_operation(catalogue) -> None:
    server = diagnose(catalogue, [start(None, "ann@c.com", 0), success(None, "ann@c.com", 3600)])
    assert [op.outcome for op in server.operations] == ["unfinished", "succeeded"]


def test_generic_failure_takes_the_companions_specific_cause(catalogue) -> None:
    generic = prs(
        31003, "TrackingId: t9, PasswordResetFail, Details: Context: UserPrincipalName: cy@c.com", 5, level="error"
    )
    server = diagnose(catalogue, [start("t9", "cy@c.com", 4), generic, bail("80230619", 5.2)])
    [op] = server.operations
    assert (op.outcome, op.cause) == ("failed", "password-policy")
    [cause] = server.causes
    assert (cause.id, cause.operations, cause.events, sorted(cause.event_ids)) == (
        "password-policy",
        1,
        2,
        [6329, 31003],
    )


def test_cause_by_pattern_in_a_connectivity_error(catalogue) -> None:
    text = "TrackingId: x, Error Connecting to ServiceBus., Details: The remote name could not be resolved: 'ns'"
    server = diagnose(catalogue, [prs(32002, text, 1, level="error")])
    assert server.causes[0].id == "dns-resolution"
    assert server.status == "failing"  # The outage does not recover by the end of the log.


def test_unfinished_operation_in_an_outage_takes_its_cause(catalogue) -> None:
    proxy = "TrackingId: e, Error Connecting to ServiceBus., Details: (407) Proxy Authentication Required"
    events = [
        prs(32002, proxy, 0, level="error"),
        start("t1", "ann@c.com", 60),
        prs(32002, proxy, 600, level="error"),
        prs(31019, "TrackingId: h, ServiceBusHeartBeat, Details: ok", 1200),
    ]
    server = diagnose(catalogue, events)
    assert [(op.outcome, op.cause) for op in server.operations] == [("unfinished", "proxy-auth-required")]
    [outage] = server.outages
    assert (outage.events, outage.cause, outage.recovered is not None) == (2, "proxy-auth-required", True)
    assert server.status == "degraded"


def test_ranking_by_operations_then_users_then_events(catalogue) -> None:
    events = []
    for i, user in enumerate(["a@c.com", "b@c.com", "a@c.com"]):  # Policy: 3 operations of 2 users.
        events += [start(f"p{i}", user, i * 100), failure(f"p{i}", user, i * 100 + 1, hr="80230619", eid=33008)]
    for i, user in enumerate(["c@c.com", "d@c.com", "e@c.com"]):  # Permissions: 3 operations of 3 users.
        events += [start(f"d{i}", user, 1000 + i * 100), failure(f"d{i}", user, 1001 + i * 100)]
    events.append(start("d9", "f@c.com", 5000))
    events.append(success("d9", "f@c.com", 5001))
    server = diagnose(catalogue, events)
    assert [(c.id, c.operations, len(c.users)) for c in server.causes] == [
        # f@c.com succeeded after them, so a few objects are at fault, not the delegation.
        ("protected-object-permissions", 3, 3),
        ("password-policy", 3, 2),
    ]


def _failed(tid: str, user: str, at: float, hr: str = "80230626") -> list:
    return [start(tid, user, at), failure(tid, user, at + 1, hr=hr, eid=33008 if hr == "80230619" else 33004)]


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([event("ADSync", 904, "Scheduler", 0)], "no-data"),
        ([start("a", "u@c.com", 0), success("a", "u@c.com", 1)], "healthy"),
        # The cause has server scope.
        ([start("a", "u@c.com", 0), failure("a", "u@c.com", 1, hr="8023062C", eid=33001)], "failing"),
        # Denied and nobody succeeds: the delegation.
        ([start("a", "u@c.com", 0), failure("a", "u@c.com", 1)], "failing"),
        (
            [
                x
                for i, u in enumerate(["u@c.com", "v@c.com", "u@c.com"])
                for x in _failed(f"t{i}", u, 100 * i, "80230619")
            ],
            "failing",
        ),  # Three failures in a row of two users (even of a user-scope cause) mean broken for everyone.
        (
            [x for i, u in enumerate(["u@c.com"] * 4) for x in _failed(f"t{i}", u, 100 * i, "80230619")],
            "degraded",
        ),  # One user's password policy, however often, only degrades it.
        (
            [
                *_failed("t0", "u@c.com", 0),
                *_failed("t1", "v@c.com", 100),
                start("t2", "w@c.com", 200),
                success("t2", "w@c.com", 201),
                *_failed("t3", "u@c.com", 300),
            ],
            "degraded",
        ),  # One user fails at the end while others still succeed.
        (
            [
                start("a", "u@c.com", 0),
                failure("a", "u@c.com", 1),
                start("b", "u@c.com", 50),
                success("b", "u@c.com", 51),
            ],
            "degraded",
        ),  # It is fixed by the end.
        # The cause is user-level.
        ([start("a", "u@c.com", 0), failure("a", "u@c.com", 1, hr="80230619", eid=33008)], "degraded"),
        (
            [
                start("a", "u@c.com", 0),
                success("a", "u@c.com", 1),
                prs(31016, "TrackingId: s, WriteBackServiceStopped, Details: ", 9),
            ],
            "failing",
        ),  # The service is stopped at the end.
        (
            [
                prs(31016, "TrackingId: s, WriteBackServiceStopped, Details: ", 1),
                prs(31015, "TrackingId: s, WriteBackServiceStarted, Details: ", 9),
            ],
            "healthy",
        ),
    ],
)
def test_status_rules(catalogue, events, status) -> None:
    """The rule of the report contract (analyzer/reports/document.py): failing = broken for everyone."""
    assert diagnose(catalogue, events).status == status


def test_diagnosis_does_not_depend_on_event_order(catalogue) -> None:
    events = [
        start("a", "u@c.com", 0),
        failure("a", "u@c.com", 1),
        bail("80230626", 1.1),
        start("b", "v@c.com", 5),
        success("b", "v@c.com", 6),
        start(None, "w@c.com", 9),
    ]
    forward, backward = diagnose(catalogue, events), diagnose(catalogue, events[::-1])
    summary = lambda s: (
        [(o.kind, o.user, o.outcome, o.cause) for o in s.operations],
        [(c.id, c.events, c.operations) for c in s.causes],
        s.status,
    )
    assert summary(forward) == summary(backward)


def test_unknown_codes_of_reported_providers_are_counted(catalogue) -> None:
    collector = Collector(catalogue)
    for item in [prs(31999, "new thing", 0), prs(31999, "new thing", 1), event("ADSync", 904, "noise", 2)]:
        collector.add(item)
    assert dict(collector.unknown) == {("PasswordResetService", 31999): 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "TrackingId: 7344da2c-5f8e-4ab1-9c3d-0e1f2a3b4c5d, Reason: Synchronization Engine returned an error hr=80230626, "
            "message=The password could not be updated., Context: cloudAnchor: User_9b83f544-aa, SourceAnchorValue: "
            "F39SWQrM2EidaboN8UC8Ww==, UserPrincipalName: ethan@contoso.co.uk, Details: x",
            {
                "tracking_id": "7344da2c-5f8e-4ab1-9c3d-0e1f2a3b4c5d",
                "hresult": "80230626",
                "upn": "ethan@contoso.co.uk",
                "message": "The password could not be updated.",
                "cloud_anchor": "User_9b83f544-aa",
                "source_anchor": "F39SWQrM2EidaboN8UC8Ww==",
            },
        ),
        (
            "TrackingId: abc, ResetUserPasswordByAdminSuccess, Details: Context: cloudAnchor: User_1a, SourceAnchorValue: "
            "xxxxxxxxxx, AdminUpn: admin@c.com, UserPrincipalName bob@c.com, ForcePasswordChange: False",
            {"tracking_id": "abc", "upn": "bob@c.com", "admin_upn": "admin@c.com"},
        ),  # There is no colon after UserPrincipalName.
        (
            "TrackingId: 3f369fe9-2b7e-4d6c-9a51-0c7d1e8a4b21 , Password writeback service is not in a healthy state. "
            "Details: Version: 5.0.0.686",
            {"tracking_id": "3f369fe9-2b7e-4d6c-9a51-0c7d1e8a4b21", "client_version": "5.0.0.686"},
        ),
        ("TrackingId: x1, PasswordResetRequestStart, Details: joe@contoso.com", {"upn": "joe@contoso.com"}),
        (
            '"BAIL: MMS(5716): ..\\server.cpp(11139): 0x8023061f (x)" Azure AD Sync 1.0.8641.0',
            {"hresult": "8023061F", "client_version": "1.0.8641.0"},
        ),
        (
            "Service bus endpoint: sb://ssprdedicatedsbprodfra-1.servicebus.windows.net/",
            {"namespace": "ssprdedicatedsbprodfra-1"},
        ),
        ("Namespace: SSPRdedicatedsbmcprodcne.servicebus.chinacloudapi.cn", {"namespace": "ssprdedicatedsbmcprodcne"}),
    ],
)
def test_field_extraction_tolerates_variants(text: str, expected: dict[str, str]) -> None:
    fields = extract(text)
    assert {k: getattr(fields, k) for k in expected} == expected


def test_a_policy_rejection_a_day_after_a_change_is_the_minimum_age(catalogue) -> None:
    events = [start("c1", "u@c.com", 0, "ChangePasswordRequestStart", 31006), success("c1", "u@c.com", 1, eid=31007)]
    events += [start("c2", "u@c.com", 3600 * 5), failure("c2", "u@c.com", 3600 * 5 + 1, hr="80230619", eid=33008)]
    events += [start("c3", "v@c.com", 3600 * 6), failure("c3", "v@c.com", 3600 * 6 + 1, hr="80230619", eid=33008)]
    server = diagnose(catalogue, events)
    assert [(op.user, op.cause) for op in server.operations if op.outcome == "failed"] == [
        ("u@c.com", "password-minimum-age"),  # The password was changed 5 h before.
        ("v@c.com", "password-policy"),  # With no earlier change in the log, it is the policy; which rule is not known.
    ]
    age = next(c for c in server.causes if c.id == "password-minimum-age")
    assert list(age.evidence) == ["previous change of the same user 5.0 h earlier"]


def test_denied_for_a_few_while_others_succeed_is_protected_objects(catalogue) -> None:
    everyone = [
        x for i, u in enumerate(["a@c.com", "b@c.com"]) for x in (start(f"e{i}", u, i), failure(f"e{i}", u, i + 1))
    ]
    assert [c.id for c in diagnose(catalogue, everyone).causes] == ["connector-permissions"]
    few = [*everyone, start("s", "c@c.com", 100), success("s", "c@c.com", 101)]
    server = diagnose(catalogue, few)
    assert [c.id for c in server.causes] == ["protected-object-permissions"]
    fixes = catalogue.causes["protected-object-permissions"].fixes
    assert "inheritance" in fixes[0].en and "adminCount" in fixes[0].en  # Inheritance and adminCount come first.


def test_the_kb3185990_cluster_names_licence_clock_or_tls(catalogue) -> None:
    text = "The server encountered an unexpected error while performing an operation for the client."
    cluster = [
        event("ADSync", 6306, text, 0, level="error"),
        event(
            "ADSync", 6800, "The password management extension encountered an error. Couldn't connect", 1, level="error"
        ),
        prs(32001, "TrackingId: 3f3, Couldn't connect to any service bus endpoint(s), Details:", 2, level="error"),
        prs(31044, "TrackingId: 3f3 , Password writeback service is not in a healthy state.", 3, level="error"),
    ]
    server = diagnose(catalogue, cluster)
    assert [c.id for c in server.causes] == ["writeback-setup-licence-time-tls"]
    assert "6306, 6800, 31044, 32001" in next(iter(server.causes[0].evidence))
    other_ids = [
        *cluster[:3],
        prs(31044, "TrackingId: 999, Password writeback service is not healthy", 3, level="error"),
    ]
    assert "writeback-setup-licence-time-tls" not in {c.id for c in diagnose(catalogue, other_ids).causes}


def test_findings_from_what_the_log_lacks(catalogue) -> None:
    sync_only = [event("ADSync", 2001, "The Microsoft Azure AD Sync service started.", 0)]
    assert [c.id for c in diagnose(catalogue, sync_only).causes] == ["writeback-not-running"]
    offboarded = [
        prs(31019, "TrackingId: h, ServiceBusHeartBeat, Details: ok", 0),
        prs(31012, "TrackingId: o, OffboardingEventStart, Details:", 10),
        prs(31013, "TrackingId: o, OffboardingEventSuccess, Details:", 11),
    ]
    assert [c.id for c in diagnose(catalogue, offboarded).causes] == ["writeback-not-running"]
    quiet = [prs(31019, "TrackingId: h, ServiceBusHeartBeat, Details: ok", hour * 3600) for hour in range(0, 60, 6)]
    quiet.append(
        event("Directory Synchronization", 656, "Password Change Request - Anchor : abcdefgh12, Dn : CN=x", 7200)
    )
    assert [c.id for c in diagnose(catalogue, quiet).causes] == ["writeback-disabled-in-portal"]
    assert diagnose(catalogue, quiet[:3] + quiet[-1:]).causes == []  # Less than two days is too soon to tell.


def test_a_forced_change_reset_notes_the_catch_up_time(catalogue) -> None:
    done = "TrackingId: a, ResetUserPasswordByAdminSuccess, Details: Context: cloudAnchor: User_1, UserPrincipalName u@c.com"
    events = [start("a", "u@c.com", 0, "ResetUserPasswordByAdminStart", 31009)]
    assert diagnose(catalogue, [*events, prs(31010, done + ", ForcePasswordChange: False", 1)]).causes == []
    server = diagnose(catalogue, [*events, prs(31010, done + ", ForcePasswordChange: True", 1)])
    assert [c.id for c in server.causes] == ["forced-change-catch-up"] and server.status == "healthy"


def test_an_administrator_action_dates_the_change_behind_a_cause(catalogue) -> None:
    events = [
        event("Entra Connect Admin Actions", 2517, "Set Permissions: Password writeback", -60),
        *[x for i, u in enumerate(["a@c.com", "b@c.com"]) for x in (start(f"e{i}", u, i), failure(f"e{i}", u, i + 1))],
    ]
    [cause] = diagnose(catalogue, events).causes
    assert cause.id == "connector-permissions"
    assert "2517 Set Permissions at 2026-11-20T07:59:00Z, before it was first seen" in cause.evidence
