"""Who was told about an alert is part of its record, and version-1 logs gain the field."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from detectors.errors import EventNotFoundError, IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import Notification
from detectors.incidents.schema import SCHEMA_V1, SCHEMA_VERSION
from detectors.protocol.events import event_json
from tests.detectors.incidents.conftest import FakeClock
from tests.detectors.incidents.test_incident_log import log_of_version, start


def test_notifications_accumulate_in_order_with_a_change_each(tmp_path: Path) -> None:
    clock = FakeClock(1_000.0)
    with IncidentLog(tmp_path / "log.sqlite3", clock=clock) as log:
        start(log)
        first = log.record_notified(
            "evt-1", recipients=["notify.sro_phone"], channel="notify", by="Weapon response"
        )
        clock.now = 1_005.0
        log.dismiss("evt-1", by="SRO Diaz", reason="phone, not a gun")
        second = log.record_notified(
            "evt-1",
            recipients=[" notify.sro_phone ", "notify.principal"],
            channel="dismissal",
            by="Weapon response",
        )
        assert (first.change, second.change) == ("notified", "notified")
        assert second.cursor == first.cursor + 2
        assert log.get("evt-1").notified == (
            Notification(("notify.sro_phone",), "notify", "Weapon response", 1_000.0),
            Notification(
                ("notify.sro_phone", "notify.principal"), "dismissal", "Weapon response", 1_005.0
            ),
        )
        assert event_json(second.event)["notified"] == [
            {
                "recipients": ["notify.sro_phone"],
                "channel": "notify",
                "by": "Weapon response",
                "at": 1_000.0,
            },
            {
                "recipients": ["notify.sro_phone", "notify.principal"],
                "channel": "dismissal",
                "by": "Weapon response",
                "at": 1_005.0,
            },
        ]
        # The change feed replays the record as it was after each change.
        replayed = [c.event.notified for c in log.changes_since(0) if c.change == "notified"]
        assert [len(n) for n in replayed] == [1, 2]


@pytest.mark.parametrize(
    ("recipients", "channel", "message"),
    [
        ([], "notify", "recipients: between 1 and 50 names, got 0"),
        (["x"] * 51, "notify", "recipients: between 1 and 50 names, got 51"),
        (["  "], "notify", "recipient must be a non-empty string, got '  '"),
        (["a"], "", "channel must be a non-empty string, got ''"),
    ],
)
def test_bad_notifications_are_refused(
    tmp_path: Path, recipients: list[str], channel: str, message: str
) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        start(log)
        with pytest.raises(IncidentLogError) as err:
            log.record_notified("evt-1", recipients=recipients, channel=channel, by="x")
        assert str(err.value) == message
        with pytest.raises(EventNotFoundError):
            log.record_notified("nope", recipients=["a"], channel="notify", by="x")
        assert log.get("evt-1").notified == ()


def test_a_version_1_log_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_of_version(path, 1, ("notified", "detail", "actions"))
    assert "notified" not in SCHEMA_V1

    with IncidentLog(path, clock=FakeClock(2.0)) as log:
        assert log.get("evt-1").notified == ()
        assert log.changes_since(0)[0].event.notified == ()
        log.record_notified("evt-1", recipients=["a"], channel="notify", by="x")
        assert log.get("evt-1").notified[0].recipients == ("a",)
        assert log.get("evt-1").detail == {}
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
