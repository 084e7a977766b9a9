from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from analyzer.events import (
    COLUMNS,
    Event,
    datetime_to_filetime,
    filetime_to_datetime,
    to_dataframe,
    validate_events,
)


def _event(**changes: object) -> Event:
    base = {
        "file": "f.evtx",
        "event_record_id": 7,
        "time_created": datetime(2026, 11, 1, 8, 0, 1, 5, tzinfo=UTC),
        "provider": "PasswordResetService",
        "event_id": 31001,
        "qualifiers": 0,
        "level": 4,
        "task": 0,
        "keywords": 0x80000000000000,
        "channel": "Application",
        "computer": "AADC01",
        "data": ["a", ""],
        "fields": {},
    }
    base.update(changes)
    return Event(**base)  # type: ignore[arg-type]


def test_dataframe_follows_the_column_contract() -> None:
    frame = to_dataframe([_event(), _event(qualifiers=None, keywords=0x8020000000000000, fields={"A": "1"})])
    validate_events(frame)
    assert frame["qualifiers"].isna().tolist() == [False, True]
    assert int(frame["keywords"][1]) == 0x8020000000000000  # This needs the unsigned dtype.
    assert str(frame["time_created"].dt.tz) == "UTC"


def test_validate_rejects_wrong_dtypes() -> None:
    frame = to_dataframe([_event()]).astype({"event_id": "object"})
    try:
        validate_events(frame)
    except ValueError as exc:
        assert "event_id" in str(exc)
    else:
        raise AssertionError("a wrong dtype passed validation")


def test_json_has_exactly_the_model_keys() -> None:
    row = json.loads(_event().as_json())
    assert list(row) == list(COLUMNS)
    assert row["time_created"] == "2026-11-01T08:00:01.000005Z"


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_filetime_is_truncated_to_whole_microseconds(ticks: int) -> None:
    try:
        moment = filetime_to_datetime(ticks)
    except OverflowError:
        return  # Times beyond the year 9999 cannot be represented.
    assert datetime_to_filetime(moment) == ticks - ticks % 10
    assert moment.tzinfo is UTC
