"""One server's events read together, where one event alone says too little.

- clusters: events that mean more together than apart (codes/clusters.yaml: KB 3185990's 6306 +
  6800 + 32001 + 31044 is the licence, clock or TLS triple, not four separate failures);
- situations: a cause that refines another when the server's operations show it (`when` in a cause:
  a password rejected less than a day after the user's last change is the minimum age; denied access
  while other users succeed is a few protected objects, not the missing delegation);
- dates: administrator actions (Entra Connect Admin Actions 2503, 2517, 2518) that date a change
  behind a cause (`dates` in an entry): permissions set, connector credential changed, forests changed;
- findings: what the absence of events says (no writeback service where the sync engine runs;
  heartbeats for days but no operation while on-premises passwords change), and exports too
  filtered to count operations.
"""

from __future__ import annotations

import bisect
from datetime import timedelta
from typing import TYPE_CHECKING

from analyzer import sentences

if TYPE_CHECKING:
    from datetime import datetime

    from analyzer.analysis.diagnosis import CauseSummary
    from analyzer.analysis.operations import Evidence, Operation
    from analyzer.catalogue.loader import Catalogue

DAY = timedelta(days=1)
QUIET_DAYS = 2  # heartbeats but no operation for this long, while passwords change on-premises
Finding = tuple[str, str, "datetime", "datetime"]  # cause, evidence, first and last seen


def code(item: Evidence) -> str:
    return f"{item.event.provider}/{item.event.event_id}"


def clusters(evidence: list[Evidence], catalogue: Catalogue) -> None:
    """Members of a cluster found in the evidence (time-ordered) take the cluster's cause."""
    for cluster in catalogue.clusters:
        members = [e for e in evidence if code(e) in cluster.codes]
        window = timedelta(minutes=cluster.within_minutes)
        times = [e.time for e in members]
        for i, first in enumerate(members):
            group = members[i : bisect.bisect_right(times, first.time + window)]
            present = sorted({code(e) for e in group})
            if len(present) < cluster.minimum or not _one_tracking_id(group, cluster.tracking_id):
                continue
            codes = [int(c.split("/")[1]) for c in present]
            found = sentences.CLUSTER_SEEN.say(title=cluster.title.en, codes=codes, minutes=cluster.within_minutes)
            for item in group:
                item.cause, item.specific, item.found = cluster.cause, True, found


def _one_tracking_id(group: list[Evidence], codes: tuple[str, ...]) -> bool:
    """Where two or more of `codes` are in the group, they share one TrackingId."""
    ids = [e.fields.tracking_id for e in group if code(e) in codes]
    return len(ids) < 2 or (len({i for i in ids if i}) == 1 and None not in ids)


def situations(ops: list[Operation], catalogue: Catalogue) -> None:
    """Failed operations whose situation refines their cause (`when`) take the refining cause; the
    operation's `context` says what showed it."""
    refiners = [c for c in catalogue.causes.values() if c.when]
    if not refiners:
        return
    done = sorted((op for op in ops if op.end is not None and op.outcome != "unfinished"), key=lambda op: op.end)  # type: ignore[arg-type, return-value]
    successes = [op for op in done if op.outcome == "succeeded"]
    for refiner in refiners:
        for base in refiner.refines:
            failed = [op for op in done if op.outcome == "failed" and op.cause == base]
            if not failed:
                continue
            if refiner.when == "changed-within-a-day":
                for op in failed:
                    earlier = [
                        s
                        for s in successes
                        if s.user == op.user and op.user and s.end and op.end - DAY < s.end < op.end  # type: ignore[operator]
                    ]
                    if earlier:
                        since = (op.end - earlier[-1].end).total_seconds()  # type: ignore[operator]
                        op.cause, op.context = refiner.id, sentences.MINIMUM_AGE.say(since=since)
            elif refiner.when == "others-succeed":
                users = {op.user for op in failed}
                start = failed[0].end
                others = [s for s in successes if s.end and s.end > start and s.user not in users]  # type: ignore[operator]
                if others:
                    note = sentences.OTHERS_SUCCEED.say(count=len(others))
                    for op in failed:
                        op.cause, op.context = refiner.id, note


def dates(causes: list[CauseSummary], evidence: list[Evidence]) -> None:
    """Each cause that an administrator action dates names it (time, and whether it came before or after
    the cause was first seen): `2517 Set Permissions at 2026-11-20T07:58:02Z, before the first failure`."""
    actions = [e for e in evidence if e.entry.dates]
    for summary in causes:
        for item in actions:
            if summary.id in item.entry.dates and summary.first_seen is not None:
                order = "before" if item.time <= summary.first_seen else "after"
                stamp = item.time.strftime("%Y-%m-%dT%H:%M:%SZ")
                action = sentences.ADMIN_ACTION.say(
                    event_id=item.event.event_id, name=item.entry.name, stamp=stamp, order=order
                )
                summary.evidence[action] += 1


def findings(
    evidence: list[Evidence], ops: list[Operation], beats: list[datetime], span: tuple[datetime, datetime]
) -> list[Finding]:
    """Causes told by what the log lacks, as (cause, evidence, first seen, last seen)."""
    found: list[Finding] = []
    writeback = [e for e in evidence if e.event.provider == "PasswordResetService"]
    if not writeback and not beats and any(e.event.provider == "ADSync" for e in evidence):
        found.append(("writeback-not-running", sentences.SYNC_ONLY.say(), *span))
    offboarded = [e for e in writeback if e.event.event_id == 31013]
    if offboarded:
        last = offboarded[-1].time
        alive = any(e.time > last and e.event.event_id in (31005, 31015) for e in writeback) or any(
            b > last for b in beats
        )
        if not alive and not any(op.first_seen > last for op in ops):
            found.append(("writeback-not-running", sentences.OFFBOARDED.say(), last, span[1]))
    changes = [e for e in evidence if e.role == "phs-change"]
    if beats and not ops and changes and span[1] - span[0] >= QUIET_DAYS * DAY:
        days = (span[1] - span[0]) / DAY
        note = sentences.QUIET.say(heartbeats=len(beats), changes=len(changes), days=days)
        found.append(("writeback-disabled-in-portal", note, span[0], span[1]))
    return found


def incomplete(evidence: list[Evidence], beats: list[datetime]) -> str | None:
    """Why the operation counts cannot be trusted, if they cannot: failures without any start, success
    or heartbeat is what an export filtered to errors looks like."""
    roles = {e.role for e in evidence}
    if (
        roles & {"failure", "companion", "connectivity-error"}
        and not beats
        and not roles & {"start", "success", "heartbeat"}
    ):
        return sentences.FILTERED.say()
    return None
