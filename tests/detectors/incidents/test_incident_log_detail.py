"""What the rule saw is part of an alert's record, in one ``detail`` object for every rule
(a fight's pose and model scores, the method that raised a person_down), and version-1
and version-2 logs gain the field in place (schema 3)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from detectors.errors import IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import record_from_stored, stored_json
from detectors.incidents.schema import SCHEMA_VERSION
from detectors.protocol.events import event_json
from tests.detectors.incidents.conftest import FakeClock
from tests.detectors.incidents.test_incident_log import log_of_version, start

FIGHT = {"method": "both", "people": 2, "pose_score": 0.71, "model_score": 0.97}
PERSON_DOWN = {"held_seconds": 10.4, "method": "rotated_sweep", "methods": ["rotated_sweep"]}


@pytest.mark.parametrize(
    ("rule", "detail", "newer"),
    [
        ("fight", FIGHT, {**FIGHT, "model_score": 0.99}),
        ("person_down", PERSON_DOWN, {**PERSON_DOWN, "methods": ["fall_transition", "pose"]}),
    ],
)
def test_detail_is_stored_at_start_replaced_on_update_and_kept_in_every_change(
    tmp_path: Path, rule: str, detail: dict[str, object], newer: dict[str, object]
) -> None:
    """One field for every rule: the fight's scores and the person_down's method alike."""
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        start(log)
        start(log, "a1", rule=rule, detail=detail)
        assert log.get("a1").detail == detail
        assert event_json(log.changes_since(0)[-1].event)["detail"] == detail
        kept = log.record_update(
            "a1", at=101.0, confidence=0.9, scores=[0.9], boxes=[], snapshot_jpeg=None
        )
        assert kept.event.detail == detail, "an update without detail keeps it"
        log.record_update(
            "a1",
            at=102.0,
            confidence=0.99,
            scores=[0.99],
            boxes=[],
            snapshot_jpeg=None,
            detail=newer,
        )
        assert log.get("a1").detail == newer
        assert event_json(log.get("a1"))["detail"] == newer
        history = [c.event.detail for c in log.changes_since(0) if c.event.id == "a1"]
        assert history == [detail, detail, newer], "each change keeps the detail of its time"
        assert log.get("evt-1").detail == {}, "rules that report nothing store an empty detail"
        with pytest.raises(IncidentLogError, match="detail cannot be stored as JSON"):
            log.record_update(
                "a1",
                at=103.0,
                confidence=0.5,
                scores=[],
                boxes=[],
                snapshot_jpeg=None,
                detail={"score": float("nan")},
            )
        assert log.get("a1").detail == newer, "a refused update changes nothing"


def test_change_rows_of_a_version_2_engine_read_with_an_empty_detail(tmp_path: Path) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        start(log, "pd-1", rule="person_down", detail=PERSON_DOWN)
        written = json.loads(stored_json(log.get("pd-1")))
    del written["detail"]  # what a version-2 engine wrote into its change rows
    assert record_from_stored(json.dumps(written)).detail == {}


def test_a_version_2_log_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_of_version(path, 2, ("detail", "actions"))

    with IncidentLog(path, clock=FakeClock(2.0)) as log:
        assert log.get("evt-1").detail == {}
        assert log.changes_since(0)[0].event.detail == {}
        assert log.get("evt-1").notified == (), "the version-2 column is untouched"
        start(log, "pd-2", rule="person_down", detail=PERSON_DOWN)
        start(log, "f-2", rule="fight", detail=FIGHT)
        assert log.get("pd-2").detail == PERSON_DOWN, "the migrated column takes new details"
        assert log.get("f-2").detail == FIGHT
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_a_version_1_log_gains_both_columns_and_stores_details_after(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_of_version(path, 1, ("notified", "detail", "actions"))

    with IncidentLog(path, clock=FakeClock(2.0)) as log:
        assert (log.get("evt-1").notified, log.get("evt-1").detail) == ((), {})
        start(log, "pd-1", rule="person_down", detail=PERSON_DOWN)
        assert log.get("pd-1").detail == PERSON_DOWN
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_a_detail_that_is_not_json_is_refused_by_name_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    with IncidentLog(tmp_path / "log.sqlite3", clock=FakeClock(1.0)) as log:
        with pytest.raises(IncidentLogError, match="detail cannot be stored as JSON"):
            start(log, "pd-1", rule="person_down", detail={"held_seconds": float("nan")})
        with pytest.raises(IncidentLogError, match="detail cannot be stored as JSON"):
            start(log, "pd-1", rule="person_down", detail={"when": object()})
        assert log.events() == []
