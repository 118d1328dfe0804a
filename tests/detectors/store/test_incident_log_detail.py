"""What the rule saw is part of an alert's record (a fight's pose and model scores), and
version-2 logs gain the field in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from detectors.errors import IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.protocol.events import event_json
from tests.detectors.store.conftest import FakeClock
from tests.detectors.store.test_incident_log import log_of_version, start

FIGHT = {"method": "both", "people": 2, "pose_score": 0.71, "model_score": 0.97}


def test_detail_is_stored_at_start_replaced_on_update_and_kept_otherwise(tmp_path: Path) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        log.record_start(
            event_id="f1",
            camera_id="gym",
            camera_name="Gym",
            location="B",
            rule="fight",
            zone=None,
            at=10.0,
            confidence=0.97,
            scores=[0.97],
            boxes=[(1.0, 2.0, 3.0, 4.0)],
            drill=False,
            model=start(log).event.model,
            thresholds={"method": "both"},
            snapshot_jpeg=None,
            detail=FIGHT,
        )
        assert log.get("f1").detail == FIGHT
        assert event_json(log.changes_since(0)[-1].event)["detail"] == FIGHT
        log.record_update("f1", at=11.0, confidence=0.9, scores=[0.9], boxes=[], snapshot_jpeg=None)
        assert log.get("f1").detail == FIGHT, "an update without detail keeps it"
        newer = {**FIGHT, "model_score": 0.99}
        log.record_update(
            "f1",
            at=12.0,
            confidence=0.99,
            scores=[0.99],
            boxes=[],
            snapshot_jpeg=None,
            detail=newer,
        )
        assert log.get("f1").detail == newer
        assert log.get("evt-1").detail == {}, "rules that report nothing store an empty detail"
        with pytest.raises(IncidentLogError, match="detail cannot be stored as JSON"):
            log.record_update(
                "f1",
                at=13.0,
                confidence=0.5,
                scores=[],
                boxes=[],
                snapshot_jpeg=None,
                detail={"score": float("nan")},
            )


def test_a_version_2_log_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_of_version(path, 2, ("detail",))

    with IncidentLog(path, clock=FakeClock(2.0)) as log:
        assert log.get("evt-1").detail == {}
        assert log.changes_since(0)[0].event.detail == {}
        assert log.get("evt-1").notified == (), "the version-2 column is untouched"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        conn.close()
