"""One field table behind every stored form of an event, and the async façade over the log."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from detectors.incidents.aio import AsyncIncidentLog
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import (
    COLUMNS,
    EventRecord,
    record_from_stored,
    stored_json,
)
from detectors.incidents.schema import MIGRATION_ORDER, MIGRATIONS, SCHEMA_VERSION
from tests.detectors.incidents.conftest import FakeClock
from tests.detectors.incidents.test_incident_log import start


def test_the_table_lists_every_field_and_derives_the_migrations() -> None:
    assert [c.name for c in COLUMNS] == [f.name for f in dataclasses.fields(EventRecord)]
    assert SCHEMA_VERSION == 5
    assert MIGRATIONS[2] == ("ALTER TABLE events ADD COLUMN notified TEXT NOT NULL DEFAULT '[]'",)
    assert MIGRATIONS[3] == ("ALTER TABLE events ADD COLUMN detail TEXT NOT NULL DEFAULT '{}'",)
    assert MIGRATIONS[4] == ("ALTER TABLE events ADD COLUMN actions TEXT NOT NULL DEFAULT '[]'",)
    evidence_column, evidence_table = MIGRATIONS[5]
    assert evidence_column == "ALTER TABLE events ADD COLUMN evidence_at REAL"
    assert evidence_table.startswith("CREATE TABLE evidence (")
    assert MIGRATION_ORDER[2:] == ("actions", "evidence"), "appended in the order they merged"


def test_a_stored_copy_reads_back_equal_and_old_copies_read_with_defaults(
    log: IncidentLog,
) -> None:
    record = start(log).event
    assert record_from_stored(stored_json(record)) == record
    older = json.loads(stored_json(record))
    del older["notified"], older["detail"], older["actions"]  # what a version-1 engine stored
    assert record_from_stored(json.dumps(older)) == record
    assert json.loads(stored_json(record))["snapshot"] is True  # the key the copies always had


async def test_the_async_log_answers_what_the_log_holds(log: IncidentLog, clock: FakeClock) -> None:
    incidents = AsyncIncidentLog(log)
    started = await incidents.record_start(
        event_id="a",
        camera_id="gym",
        camera_name="Gym",
        location="Building C",
        rule="fight",
        zone=None,
        at=100.0,
        confidence=0.7,
        scores=[0.7],
        boxes=[],
        drill=True,
        model=start(log, "b").event.model,
        thresholds={},
        snapshot_jpeg=b"jpeg",
    )
    updated = await incidents.record_update(
        "a", at=101.0, confidence=0.9, scores=[0.9], boxes=[], snapshot_jpeg=None
    )
    told = await incidents.record_notified("a", recipients=["sro"], channel="notify", by="x")
    acknowledged = await incidents.acknowledge("a", by="SRO", note="")
    ended = await incidents.record_end("a", at=102.0)
    dismissed = await incidents.dismiss("b", by="SRO", reason="drill")
    assert [c.change for c in (started, updated, told, acknowledged, ended, dismissed)] == [
        "started",
        "updated",
        "notified",
        "acknowledged",
        "ended",
        "dismissed",
    ]
    assert await incidents.get("a") == log.get("a")
    assert await incidents.snapshot("a") == b"jpeg"
    assert await incidents.changes_since(0) == log.changes_since(0)
    gathered = await asyncio.gather(incidents.get("a"), incidents.get("b"))
    assert [record.id for record in gathered] == ["a", "b"]
    clock.now += 1.0  # b was dismissed (and ended) at the clock's time
    assert await incidents.purge(older_than_seconds=0.0) == 2
