"""Issue 11, "Knowledge to add", through real EVTX written by the project's writer and read by `wba`:
password hash sync failures get their own causes, and Entra Connect's Admin Actions audit events are
read as configuration evidence next to the writeback failures they date."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from analyzer.catalogue.loader import load
from analyzer.testkit.export_writer import evtx_bytes
from analyzer.testkit.scenarios import DIRSYNC, ERROR, INFO, Server, _clock
from tests.helpers import run_cli

if TYPE_CHECKING:
    from pathlib import Path

ADMIN = "Entra Connect Admin Actions"
CODE_90 = (
    "Failed credential provisioning batch. Error: Microsoft.Online.Coexistence.ProvisionException: An error occurred. "
    "Error Code: 90. Error Description: Password Synchronization has not been activated for this company. Tracking "
    "ID: 07e93e8a-cf2d-4f67-9e95-53169c4875e0 Server Name: BL2GR1BBA003."
)


def _log(tmp_path: Path) -> Path:
    """A day of a server whose connector account lost its rights after an administrator changed them,
    with password hash sync failing beside it."""
    s = Server("AADC09.contoso.com", "contoso.com", seed=9, start=_clock(20), hours=12)
    s.noise()
    s.heartbeats(s.start, s.end)
    changed = s.start + timedelta(hours=4)
    s.add(changed, ADMIN, 2517, INFO, ["Set Permissions: Password writeback"])
    s.add(changed + timedelta(minutes=1), ADMIN, 2518, INFO, ["Change ADDS Connector credential: CONTOSO\\MSOL_1a2b"])
    s.day_of_operations(changed + timedelta(minutes=5), s.end - timedelta(hours=1), 6, lambda k, u: "denied")
    s.add(s.start + timedelta(hours=2), DIRSYNC, 652, ERROR, [CODE_90])
    for minutes, result in ((180, "Failed."), (181, "Success.")):
        s.add(
            s.start + timedelta(minutes=minutes),
            DIRSYNC,
            657,
            INFO,
            [
                f"Password Change Result - Anchor : eX5b50Rf+UizRIMe2CA/tg==, Dn : CN=Li Na,DC=contoso, Result : {result}"
            ],
        )
    path = tmp_path / "aadc09.evtx"
    path.write_bytes(evtx_bytes(s.events()))
    return path


def test_phs_failures_are_named_apart_from_writeback(tmp_path: Path) -> None:
    code, out, err = run_cli("report", str(_log(tmp_path)), "-f", "json")
    assert (code, err) == (0, "")
    (server,) = json.loads(out)["servers"]
    causes = {c["id"]: c for c in server["causes"]}
    assert causes["connector-permissions"]["operations"] == 6  # Writeback's own cause stays on top.
    assert server["causes"][0]["id"] == "connector-permissions"
    assert causes["phs-not-activated"]["event_ids"] == [652] and causes["phs-not-activated"]["operations"] == 0
    # The success does not count.
    assert causes["phs-user-failed"]["events"] == 1 and causes["phs-user-failed"]["scope"] == "user"


def test_admin_actions_are_read_as_configuration_evidence(tmp_path: Path) -> None:
    catalogue = load()
    assert catalogue.providers[ADMIN] == "ignore"  # Its other codes are not listed as unknown writeback events.
    wanted = catalogue.wanted()[ADMIN]
    assert wanted is not None and {2503, 2517, 2518} <= wanted  # They are parsed, not only counted.
    code, out, err = run_cli("timeline", str(_log(tmp_path)), "-f", "json", "--code", "2517,2518")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [(r["provider"], r["code"], r["name"]) for r in rows] == [
        (ADMIN, 2517, "Set Permissions"),
        (ADMIN, 2518, "Change ADDS Connector credential"),
    ]
    code, out, _ = run_cli("report", str(_log(tmp_path)), "-f", "json")
    assert json.loads(out)["unknown_events"] == []
