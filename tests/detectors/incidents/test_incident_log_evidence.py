"""An event's clip and keyframe strip in the incident log: stored, read, purged, exported."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from detectors.errors import EventNotFoundError, IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.incidents.schema import SCHEMA_VERSION
from detectors.protocol.events import event_json
from detectors.protocol.export import export_incidents
from tests.detectors.incidents.conftest import FakeClock
from tests.detectors.incidents.test_incident_log import log_of_version, start

CLIP = b"\x00\x00\x00 ftypisom" + b"PRIVATE-CLIP-OF-A-STUDENT-" * 40
STRIP = b"\xff\xd8" + b"PRIVATE-STRIP-" * 40


def test_evidence_is_stored_with_its_time_and_told_as_a_change(
    log: IncidentLog, clock: FakeClock
) -> None:
    start(log)
    assert log.get("evt-1").evidence_at is None
    assert log.evidence("evt-1", "clip") is None, "nothing until the post-roll has passed"
    clock.now = 1_006.0
    change = log.attach_clip("evt-1", CLIP, STRIP, at=clock.now)
    assert (change.change, change.event.evidence_at) == ("evidence", 1_006.0)
    assert change.event.state == "started", "evidence does not change the alert's state"
    assert log.evidence("evt-1", "clip") == CLIP
    assert log.evidence("evt-1", "strip") == STRIP
    assert event_json(log.get("evt-1"))["evidence_at"] == 1_006.0
    assert [c.change for c in log.changes_since(0)] == ["started", "evidence"]


def test_an_ended_alert_still_takes_its_evidence(log: IncidentLog) -> None:
    start(log)
    log.record_end("evt-1", at=102.0)
    change = log.attach_clip("evt-1", CLIP, STRIP, at=106.0)
    assert (change.event.state, change.event.evidence_at) == ("ended", 106.0)


def test_unknown_events_and_empty_evidence_are_refused(log: IncidentLog) -> None:
    with pytest.raises(EventNotFoundError):
        log.evidence("nope", "strip")
    with pytest.raises(EventNotFoundError):
        log.attach_clip("nope", CLIP, STRIP, at=1.0)
    start(log)
    with pytest.raises(IncidentLogError, match="both a clip and a strip"):
        log.attach_clip("evt-1", b"", STRIP, at=1.0)


def test_retention_takes_the_evidence_with_the_event(log: IncidentLog, clock: FakeClock) -> None:
    start(log, "old", at=100.0)
    log.attach_clip("old", CLIP, STRIP, at=106.0)
    log.record_end("old", at=200.0)
    clock.now = 10_000.0
    assert log.purge(older_than_seconds=1_000.0) == 1
    with pytest.raises(EventNotFoundError):
        log.evidence("old", "clip")
    conn = sqlite3.connect(log.path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0
    finally:
        conn.close()
    for stored in (log.path, log.path.with_name(log.path.name + "-wal")):
        if stored.exists():
            assert b"PRIVATE-CLIP-OF-A-STUDENT" not in stored.read_bytes()


def test_export_writes_the_clip_and_the_strip(log: IncidentLog, tmp_path: Path) -> None:
    start(log, "with-clip", at=100.0)
    log.attach_clip("with-clip", CLIP, STRIP, at=106.0)
    start(log, "without", at=110.0)
    document = json.loads(
        export_incidents(log, tmp_path / "export", start=0.0, end=200.0).read_text()
    )
    with_clip, without = document["events"]
    assert (with_clip["clip_file"], with_clip["strip_file"]) == (
        "clips/with-clip.mp4",
        "images/with-clip-strip.jpg",
    )
    assert (tmp_path / "export" / with_clip["clip_file"]).read_bytes() == CLIP
    assert (tmp_path / "export" / with_clip["strip_file"]).read_bytes() == STRIP
    assert (without["clip_file"], without["strip_file"]) == (None, None)


def test_a_version_3_log_gains_the_evidence_table(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_of_version(path, 3, ("evidence_at",))
    with IncidentLog(path, clock=FakeClock(2.0)) as log:
        assert log.get("evt-1").evidence_at is None
        assert log.changes_since(0)[0].event.evidence_at is None
        log.attach_clip("evt-1", CLIP, STRIP, at=3.0)
        assert log.evidence("evt-1", "clip") == CLIP
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
