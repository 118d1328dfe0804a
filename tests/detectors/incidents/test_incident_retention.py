"""Retention, export and concurrent writers of the incident log."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from detectors.errors import EventNotFoundError, IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import ModelInfo
from detectors.protocol.events import event_json
from detectors.protocol.export import export_incidents, snapshot_file_name
from tests.detectors.incidents.conftest import FakeClock

MODEL = ModelInfo(name="nanodet-m-416", version="3.0.4", device="GPU", precision="f16")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(10_000.0)


def start(
    log: IncidentLog,
    event_id: str,
    at: float,
    snapshot: bytes | None = None,
    camera_id: str = "hall",
) -> None:
    log.record_start(
        event_id=event_id,
        camera_id=camera_id,
        camera_name="Hall",
        location="Building C",
        rule="loitering",
        zone=None,
        at=at,
        confidence=0.5,
        scores=[0.5],
        boxes=[(0.0, 0.0, 10.0, 10.0)],
        drill=False,
        model=MODEL,
        thresholds={"seconds": 60},
        snapshot_jpeg=snapshot,
    )


def test_purge_removes_old_ended_events_snapshots_and_changes(log: IncidentLog) -> None:
    marker = b"PRIVATE-IMAGE-OF-A-STUDENT-" * 40
    start(log, "old", at=1_000.0, snapshot=marker)
    log.record_end("old", at=2_000.0)
    start(log, "recent", at=8_000.0, snapshot=b"recent")
    log.record_end("recent", at=9_500.0)
    start(log, "still-open", at=500.0, snapshot=b"open")

    removed = log.purge(older_than_seconds=1_000.0)

    assert removed == 1
    with pytest.raises(EventNotFoundError):
        log.get("old")
    with pytest.raises(EventNotFoundError):
        log.snapshot("old")
    assert sorted(e.id for e in log.events()) == ["recent", "still-open"]
    assert [c.event_id for c in log.changes_since(0)] == ["recent", "recent", "still-open"]
    assert log.snapshot("recent") == b"recent"
    assert log.latest_cursor() == 5
    # Deleted images are overwritten and the WAL is emptied, not just unlinked rows.
    stored = log.path.read_bytes() + Path(f"{log.path}-wal").read_bytes()
    assert marker[:27] not in stored
    assert log.purge(older_than_seconds=1_000.0) == 0


def test_purge_rejects_negative_age(log: IncidentLog) -> None:
    with pytest.raises(IncidentLogError) as err:
        log.purge(older_than_seconds=-1)
    assert str(err.value) == "older_than_seconds must not be negative, got -1"


def test_export_writes_json_and_images_for_the_window(
    log: IncidentLog, clock: FakeClock, tmp_path: Path
) -> None:
    start(log, "before", at=50.0, snapshot=b"before")
    start(log, "with-image", at=100.0, snapshot=b"\xff\xd8image-1\xff\xd9")
    log.record_end("with-image", at=130.0)
    clock.now = 10_001.0
    log.acknowledge("with-image", by="Officer Diaz", note="checked")
    start(log, "no-image", at=150.0)
    start(log, "weird/../id", at=160.0, snapshot=b"weird")
    start(log, "after", at=200.0, snapshot=b"after")
    clock.now = 10_002.0

    dest = tmp_path / "export"
    result = export_incidents(log, dest, start=100.0, end=200.0)

    assert result == dest / "events.json"
    weird_name = snapshot_file_name("weird/../id")
    assert weird_name.startswith("event-")
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == sorted(
        ["events.json", "images/with-image.jpg", f"images/{weird_name}"]
    )
    assert (dest / "images" / "with-image.jpg").read_bytes() == b"\xff\xd8image-1\xff\xd9"
    assert (dest / "images" / weird_name).read_bytes() == b"weird"
    document = json.loads(result.read_text())
    assert (document["exported_at"], document["start"], document["end"], document["count"]) == (
        10_002.0,
        100.0,
        200.0,
        3,
    )
    events = document["events"]
    assert [e["id"] for e in events] == ["with-image", "no-image", "weird/../id"]
    assert [e["snapshot_file"] for e in events] == [
        "images/with-image.jpg",
        None,
        f"images/{weird_name}",
    ]
    first = events[0]
    assert first["history"] == [
        {"cursor": 2, "change": "started", "at": 100.0},
        {"cursor": 3, "change": "ended", "at": 130.0},
        {"cursor": 4, "change": "acknowledged", "at": 10_001.0},
    ]
    assert {
        k: v
        for k, v in first.items()
        if k not in ("history", "snapshot_file", "clip_file", "strip_file")
    } == (event_json(log.get("with-image")))
    assert first["model"] == {
        "name": "nanodet-m-416",
        "version": "3.0.4",
        "device": "GPU",
        "precision": "f16",
    }
    assert first["acknowledged_by"] == "Officer Diaz"


def test_export_refuses_a_folder_that_is_not_empty(log: IncidentLog, tmp_path: Path) -> None:
    dest = tmp_path / "export"
    dest.mkdir()
    (dest / "old.txt").write_text("older export")

    with pytest.raises(IncidentLogError) as err:
        export_incidents(log, dest, start=0.0, end=1.0)
    assert str(err.value) == f"export destination {dest} must be a new or empty folder"


def test_concurrent_writers_get_unique_gapless_cursors(log: IncidentLog) -> None:
    threads = 4
    per_thread = 20
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                event_id = f"t{index}-{n}"
                start(log, event_id, at=float(n), camera_id=f"cam-{index}")
                log.record_update(
                    event_id, at=n + 0.5, confidence=0.9, scores=[0.9], boxes=[], snapshot_jpeg=b"x"
                )
                log.record_end(event_id, at=n + 1.0)
        except BaseException as err:
            errors.append(err)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert errors == []
    total = threads * per_thread * 3
    changes = log.changes_since(0, limit=10_000)
    assert [c.cursor for c in changes] == list(range(1, total + 1))
    assert log.latest_cursor() == total
    per_event: dict[str, list[str]] = {}
    for change in changes:
        per_event.setdefault(change.event_id, []).append(change.change)
    assert len(per_event) == threads * per_thread
    assert all(kinds == ["started", "updated", "ended"] for kinds in per_event.values())
    assert {e.state for e in log.events(limit=1_000)} == {"ended"}
