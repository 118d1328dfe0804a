"""The rule's detail travels with the alert: which method raised a person_down, kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from detectors.errors import IncidentLogError
from detectors.incident_log import EventRecord, IncidentLog, ModelInfo
from tests.detectors.store.test_incident_log import FakeClock

DETAIL = {"held_seconds": 10.4, "method": "rotated_sweep", "methods": ["rotated_sweep"]}


def _start(log: IncidentLog, detail: dict[str, object] | None, event_id: str = "evt-1") -> None:
    log.record_start(
        event_id=event_id,
        camera_id="plaza",
        camera_name="Plaza",
        location="Lawn",
        rule="person_down",
        zone=None,
        at=100.0,
        confidence=0.7,
        scores=[0.7],
        boxes=[(250.0, 400.0, 395.0, 468.0)],
        drill=False,
        model=ModelInfo("nanodet-m-416", "3.0.4", "CPU", "f32"),
        thresholds={},
        snapshot_jpeg=None,
        detail=detail,
    )


def test_detail_is_stored_replaced_by_updates_and_kept_in_every_change(tmp_path: Path) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        _start(log, DETAIL)
        assert log.get("evt-1").detail == DETAIL
        kept = log.record_update(
            "evt-1", at=101.0, confidence=0.7, scores=[0.7], boxes=[], snapshot_jpeg=None
        )
        assert kept.event.detail == DETAIL, "an update without detail keeps the stored one"
        fell = {**DETAIL, "methods": ["fall_transition", "rotated_sweep"]}
        log.record_update(
            "evt-1",
            at=102.0,
            confidence=0.8,
            scores=[0.8],
            boxes=[],
            snapshot_jpeg=None,
            detail=fell,
        )
        assert log.get("evt-1").detail == fell
        changes = log.changes_since(0)
        assert [c.event.detail for c in changes] == [DETAIL, DETAIL, fell]
        assert log.get("evt-1").to_json()["detail"] == fell


def test_change_rows_of_a_version_2_engine_read_with_an_empty_detail(tmp_path: Path) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        _start(log, DETAIL)
        written = json.loads(json.dumps(log.get("evt-1").to_json()))
    del written["detail"]  # what a version-2 engine wrote into its change rows
    assert EventRecord.from_json(written).detail == {}


def test_a_version_2_log_is_migrated_and_its_events_get_an_empty_detail(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    with IncidentLog(path, clock=FakeClock(1.0)) as log:
        _start(log, None)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE events DROP COLUMN detail")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with IncidentLog(path, clock=FakeClock(2.0)) as log:
        assert log.get("evt-1").detail == {}
        assert [c.event.detail for c in log.changes_since(0)] == [{}, {}]
        _start(log, DETAIL, "evt-2")
        assert log.get("evt-2").detail == DETAIL


def test_a_detail_that_is_not_json_is_refused_by_name(tmp_path: Path) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        with pytest.raises(IncidentLogError, match="detail cannot be stored as JSON"):
            _start(log, {"held_seconds": float("nan")})
        with pytest.raises(IncidentLogError, match="detail cannot be stored as JSON"):
            _start(log, {"when": object()})
        assert log.events() == []
