"""Incident log lifecycle: start/update/end, acknowledge/dismiss, change feed, queries."""

from __future__ import annotations

import json
import math
import sqlite3
import stat
from pathlib import Path

import pytest

from detectors.errors import EventNotFoundError, EventStateError, IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import (
    COLUMNS,
    EventChange,
    EventRecord,
    ModelInfo,
    record_from_stored,
)
from detectors.incidents.schema import MIGRATION_ORDER, SCHEMA_VERSION, TABLES_SINCE
from detectors.protocol.events import change_json, event_json
from tests.detectors.incidents.conftest import FakeClock

MODEL = ModelInfo(name="nanodet-m-416", version="3.0.4", device="CPU", precision="f32")


def start(
    log: IncidentLog,
    event_id: str = "evt-1",
    *,
    at: float = 100.0,
    camera_id: str = "main-entrance",
    rule: str = "weapon",
    confidence: float = 0.6,
    snapshot: bytes | None = b"jpeg-start",
    detail: dict[str, object] | None = None,
) -> EventChange:
    return log.record_start(
        event_id=event_id,
        camera_id=camera_id,
        camera_name="Main entrance",
        location="Building A, ground floor",
        rule=rule,
        zone="front-door",
        at=at,
        confidence=confidence,
        scores=[0.5, 0.6],
        boxes=[(1.0, 2.0, 3.0, 4.0)],
        drill=False,
        model=MODEL,
        thresholds={"min_score": 0.45, "confirm": {"k": 2, "m": 3}},
        snapshot_jpeg=snapshot,
        detail=detail,
    )


def log_of_version(path: Path, version: int, missing_columns: tuple[str, ...]) -> None:
    """Write a log with one event exactly as an engine of schema ``version`` left it.

    The current engine writes it; then the columns (and the change rows' keys) that the
    old version did not have are removed and the version number is set back. Columns and
    tables added after ``version`` go too, whether named or not (``missing_columns`` names
    the ones the test is about).
    """
    # The migration at index i brings a file to version i + 2: those after ``version``.
    later_migrations = MIGRATION_ORDER[version - 1 :]
    later = [
        c.name for c in COLUMNS if c.since in later_migrations and c.name not in missing_columns
    ]
    missing_columns = (*missing_columns, *later)
    with IncidentLog(path, clock=FakeClock(1.0)) as log:
        start(log)
        old_change_event = event_json(log.changes_since(0)[0].event)
    conn = sqlite3.connect(path)
    for column in missing_columns:
        conn.execute(f"ALTER TABLE events DROP COLUMN {column}")
        del old_change_event[column]
    for added in later_migrations:
        for table in TABLES_SINCE.get(added, ()):
            conn.execute(f"DROP TABLE {table.split()[2]}")
    conn.execute("UPDATE event_changes SET event = ?", (json.dumps(old_change_event),))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def test_start_stores_every_field_and_returns_cursor_one(log: IncidentLog) -> None:
    change = start(log)

    expected = EventRecord(
        id="evt-1",
        camera_id="main-entrance",
        camera_name="Main entrance",
        location="Building A, ground floor",
        rule="weapon",
        zone="front-door",
        state="started",
        started_at=100.0,
        updated_at=100.0,
        ended_at=None,
        end_reason=None,
        confidence=0.6,
        scores=(0.5, 0.6),
        boxes=((1.0, 2.0, 3.0, 4.0),),
        drill=False,
        model=MODEL,
        thresholds={"min_score": 0.45, "confirm": {"k": 2, "m": 3}},
        acknowledged_by=None,
        acknowledged_at=None,
        acknowledged_note=None,
        dismissed_by=None,
        dismissed_at=None,
        dismissed_reason=None,
        has_snapshot=True,
    )
    assert change == EventChange(
        cursor=1, event_id="evt-1", change="started", at=100.0, event=expected
    )
    assert log.get("evt-1") == expected
    assert log.snapshot("evt-1") == b"jpeg-start"
    assert log.latest_cursor() == 1


def test_to_json_has_no_image_bytes_and_round_trips(log: IncidentLog) -> None:
    record = start(log).event

    data = event_json(record)

    assert data == {
        "id": "evt-1",
        "camera_id": "main-entrance",
        "camera_name": "Main entrance",
        "location": "Building A, ground floor",
        "rule": "weapon",
        "zone": "front-door",
        "state": "started",
        "started_at": 100.0,
        "updated_at": 100.0,
        "ended_at": None,
        "end_reason": None,
        "confidence": 0.6,
        "scores": [0.5, 0.6],
        "boxes": [[1.0, 2.0, 3.0, 4.0]],
        "drill": False,
        "model": {"name": "nanodet-m-416", "version": "3.0.4", "device": "CPU", "precision": "f32"},
        "thresholds": {"min_score": 0.45, "confirm": {"k": 2, "m": 3}},
        "acknowledged": False,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "acknowledged_note": None,
        "dismissed": False,
        "dismissed_by": None,
        "dismissed_at": None,
        "dismissed_reason": None,
        "snapshot": True,
        "notified": [],
        "detail": {},
        "actions": [],
        "evidence_at": None,
    }
    assert record_from_stored(json.dumps(data)) == record


def test_update_keeps_peak_confidence_and_latest_evidence(log: IncidentLog) -> None:
    start(log, confidence=0.6)

    change = log.record_update(
        "evt-1",
        at=101.0,
        confidence=0.9,
        scores=[0.9],
        boxes=[(5.0, 6.0, 7.0, 8.0)],
        snapshot_jpeg=None,
    )
    log.record_update("evt-1", at=102.0, confidence=0.7, scores=[0.7], boxes=[], snapshot_jpeg=None)

    record = log.get("evt-1")
    assert change.cursor == 2
    assert change.change == "updated"
    assert change.event.confidence == 0.9
    assert (record.state, record.updated_at, record.confidence) == ("updated", 102.0, 0.9)
    assert (record.scores, record.boxes) == ((0.7,), ())
    assert record.started_at == 100.0


def test_snapshot_with_highest_confidence_wins(log: IncidentLog) -> None:
    start(log, confidence=0.6, snapshot=b"first-0.6")
    log.record_update(
        "evt-1", at=101.0, confidence=0.8, scores=[], boxes=[], snapshot_jpeg=b"second-0.8"
    )
    log.record_update(
        "evt-1", at=102.0, confidence=0.7, scores=[], boxes=[], snapshot_jpeg=b"third-0.7"
    )
    log.record_update(
        "evt-1", at=103.0, confidence=0.8, scores=[], boxes=[], snapshot_jpeg=b"tie-0.8"
    )
    log.record_update("evt-1", at=104.0, confidence=0.95, scores=[], boxes=[], snapshot_jpeg=None)

    assert log.snapshot("evt-1") == b"second-0.8"


def test_first_snapshot_is_kept_when_start_had_none(log: IncidentLog) -> None:
    start(log, confidence=0.9, snapshot=None)
    assert log.get("evt-1").has_snapshot is False
    assert log.snapshot("evt-1") is None

    log.record_update("evt-1", at=101.0, confidence=0.5, scores=[], boxes=[], snapshot_jpeg=b"late")

    assert log.snapshot("evt-1") == b"late"
    assert log.get("evt-1").has_snapshot is True


def test_end_closes_and_refuses_further_updates(log: IncidentLog) -> None:
    start(log)

    change = log.record_end("evt-1", at=130.0)

    assert (change.change, change.at, change.cursor) == ("ended", 130.0, 2)
    record = log.get("evt-1")
    assert (record.state, record.ended_at, record.end_reason, record.active) == (
        "ended",
        130.0,
        "quiet",
        False,
    )
    with pytest.raises(EventStateError) as err:
        log.record_update(
            "evt-1", at=131.0, confidence=0.9, scores=[], boxes=[], snapshot_jpeg=None
        )
    assert str(err.value) == "cannot update event 'evt-1': it already ended (quiet)"
    with pytest.raises(EventStateError) as err:
        log.record_end("evt-1", at=132.0, reason="camera_offline")
    assert str(err.value) == "cannot end event 'evt-1': it already ended (quiet)"


def test_duplicate_start_is_refused(log: IncidentLog) -> None:
    start(log)
    with pytest.raises(EventStateError) as err:
        start(log)
    assert str(err.value) == "event 'evt-1' is already in the incident log"
    assert log.latest_cursor() == 1


def test_acknowledge_records_person_time_and_note(log: IncidentLog, clock: FakeClock) -> None:
    start(log)
    clock.now = 1_005.0

    change = log.acknowledge("evt-1", by="Officer Diaz", note="on my way")

    assert (change.change, change.at, change.cursor) == ("acknowledged", 1_005.0, 2)
    record = log.get("evt-1")
    assert (record.acknowledged_by, record.acknowledged_at, record.acknowledged_note) == (
        "Officer Diaz",
        1_005.0,
        "on my way",
    )
    assert record.state == "started"
    with pytest.raises(EventStateError) as err:
        log.acknowledge("evt-1", by="Ms Park")
    assert str(err.value) == "event 'evt-1' was already acknowledged by Officer Diaz"


def test_unknown_event_raises_not_found_which_is_a_key_error(log: IncidentLog) -> None:
    for call in (
        lambda: log.acknowledge("nope", by="Officer Diaz"),
        lambda: log.dismiss("nope", by="Officer Diaz"),
        lambda: log.get("nope"),
        lambda: log.snapshot("nope"),
        lambda: log.record_end("nope", at=1.0),
    ):
        with pytest.raises(EventNotFoundError) as err:
            call()
        assert str(err.value) == "no event 'nope' in the incident log"
        assert isinstance(err.value, KeyError)


def test_dismiss_ends_an_open_alert_and_cannot_repeat(log: IncidentLog, clock: FakeClock) -> None:
    start(log)
    clock.now = 1_010.0

    change = log.dismiss("evt-1", by="Ms Park", reason="umbrella, not a rifle")

    record = change.event
    assert (change.change, change.at) == ("dismissed", 1_010.0)
    assert (record.state, record.ended_at, record.end_reason) == ("ended", 1_010.0, "dismissed")
    assert (record.dismissed_by, record.dismissed_at, record.dismissed_reason) == (
        "Ms Park",
        1_010.0,
        "umbrella, not a rifle",
    )
    with pytest.raises(EventStateError) as err:
        log.dismiss("evt-1", by="Officer Diaz")
    assert str(err.value) == "event 'evt-1' was already dismissed by Ms Park"
    with pytest.raises(EventStateError) as err:
        log.acknowledge("evt-1", by="Officer Diaz")
    assert str(err.value) == (
        "event 'evt-1' was dismissed by Ms Park; a dismissed alert cannot be acknowledged"
    )
    with pytest.raises(EventStateError) as err:
        log.record_update("evt-1", at=1.0, confidence=0.9, scores=[], boxes=[], snapshot_jpeg=None)
    assert str(err.value) == "cannot update event 'evt-1': it already ended (dismissed by Ms Park)"
    assert log.latest_cursor() == 2


def test_dismissing_an_ended_alert_keeps_its_end(log: IncidentLog) -> None:
    start(log)
    log.record_end("evt-1", at=120.0)
    log.acknowledge("evt-1", by="Officer Diaz")

    record = log.dismiss("evt-1", by="Officer Diaz", reason="drill prop").event

    assert (record.state, record.ended_at, record.end_reason) == ("ended", 120.0, "quiet")
    assert (record.acknowledged_by, record.dismissed_by) == ("Officer Diaz", "Officer Diaz")


def test_blank_person_and_bad_numbers_are_refused(log: IncidentLog) -> None:
    start(log)
    with pytest.raises(IncidentLogError) as err:
        log.acknowledge("evt-1", by="  ")
    assert str(err.value) == "by must be a non-empty string, got '  '"
    with pytest.raises(IncidentLogError) as err:
        log.record_update(
            "evt-1", at=1.0, confidence=math.nan, scores=[], boxes=[], snapshot_jpeg=None
        )
    assert str(err.value) == "confidence must be a finite number, got nan"
    with pytest.raises(IncidentLogError) as err:
        log.record_update(
            "evt-1", at=1.0, confidence=0.5, scores=[math.inf], boxes=[], snapshot_jpeg=None
        )
    assert str(err.value) == "score must be a finite number, got inf"
    assert log.latest_cursor() == 1


def test_change_feed_replays_each_state_in_order(log: IncidentLog, clock: FakeClock) -> None:
    start(log, "a", at=100.0)
    start(log, "b", at=101.0, camera_id="gym", rule="fight")
    log.record_update("a", at=102.0, confidence=0.8, scores=[0.8], boxes=[], snapshot_jpeg=None)
    clock.now = 1_001.0
    log.acknowledge("b", by="Officer Diaz")
    log.record_end("a", at=110.0)

    changes = log.changes_since(0)

    assert [(c.cursor, c.event_id, c.change, c.at) for c in changes] == [
        (1, "a", "started", 100.0),
        (2, "b", "started", 101.0),
        (3, "a", "updated", 102.0),
        (4, "b", "acknowledged", 1_001.0),
        (5, "a", "ended", 110.0),
    ]
    assert [c.event.state for c in changes] == ["started", "started", "updated", "started", "ended"]
    assert changes[0].event.confidence == 0.6
    assert changes[2].event.confidence == 0.8
    assert [c.cursor for c in log.changes_since(3)] == [4, 5]
    assert [c.cursor for c in log.changes_since(1, limit=2)] == [2, 3]
    assert log.changes_since(5) == []
    assert change_json(changes[3])["event"] == event_json(log.get("b"))


def test_events_filters_and_orders_newest_first(log: IncidentLog) -> None:
    start(log, "a", at=100.0, camera_id="gym", rule="fight")
    start(log, "b", at=200.0, camera_id="gym", rule="weapon")
    start(log, "c", at=300.0, camera_id="hall", rule="weapon")
    start(log, "d", at=400.0, camera_id="gym", rule="fight")

    assert [e.id for e in log.events()] == ["d", "c", "b", "a"]
    assert [e.id for e in log.events(camera_id="gym")] == ["d", "b", "a"]
    assert [e.id for e in log.events(rule="weapon")] == ["c", "b"]
    assert [e.id for e in log.events(start=200.0, end=400.0)] == ["c", "b"]
    assert [e.id for e in log.events(camera_id="gym", rule="fight", start=150.0)] == ["d"]
    assert [e.id for e in log.events(limit=2)] == ["d", "c"]
    with pytest.raises(IncidentLogError) as err:
        log.events(limit=0)
    assert str(err.value) == "limit must be at least 1, got 0"


def test_calls_before_open_are_refused(tmp_path: Path) -> None:
    log = IncidentLog(tmp_path / "log.sqlite3")
    with pytest.raises(IncidentLogError) as err:
        log.get("x")
    assert str(err.value) == f"incident log {tmp_path / 'log.sqlite3'} is not open"
    log.close()


def test_database_is_private_wal_and_versioned(log: IncidentLog) -> None:
    start(log)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    conn = sqlite3.connect(log.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()

    with pytest.raises(IncidentLogError) as err:
        IncidentLog(path).open()
    assert str(err.value) == (
        f"incident log {path} has schema version 7, newer than this engine's "
        f"{SCHEMA_VERSION}; upgrade the engine"
    )


def test_garbage_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    path.write_bytes(b"this is not a database" * 100)

    with pytest.raises(IncidentLogError) as err:
        IncidentLog(path).open()
    assert str(err.value) == f"cannot open incident log {path}: file is not a database"


def test_cursor_stays_monotonic_across_reopen(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "log.sqlite3"
    with IncidentLog(path, clock=clock) as first:
        start(first, "a")
        first.record_end("a", at=101.0)
        start(first, "b", at=102.0)
        first.record_end("b", at=103.0)
        assert first.latest_cursor() == 4

    clock.now = 10_000.0
    with IncidentLog(path, clock=clock) as second:
        assert second.latest_cursor() == 4
        assert second.purge(older_than_seconds=60) == 2
        assert second.latest_cursor() == 4

    with IncidentLog(path, clock=clock) as third:
        assert third.latest_cursor() == 4
        assert start(third, "c", at=9_999.0).cursor == 5
        assert [c.cursor for c in third.changes_since(0)] == [5]


def test_second_opener_is_refused_while_the_log_is_open(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    first = IncidentLog(path)
    first.open()
    start(first)
    second = IncidentLog(path)
    try:
        with pytest.raises(IncidentLogError) as err:
            second.open()
        assert str(err.value) == (
            f"incident log {path} is in use by another process "
            "(only one engine may open it; read it through the engine API)"
        )
        assert first.get("evt-1").state == "started"
    finally:
        first.close()
    recovered = second.open()
    second.close()
    assert [(c.event_id, c.event.end_reason) for c in recovered] == [("evt-1", "engine_restart")]
