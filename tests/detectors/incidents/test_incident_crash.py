"""Crash recovery for real: a process killed with SIGKILL mid-alert, then a fresh open()."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from detectors.incidents.log import IncidentLog
from detectors.incidents.records import ENGINE_RESTART

REPO_ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from detectors.incidents.log import IncidentLog
    from detectors.incidents.records import ModelInfo

    log = IncidentLog(Path(sys.argv[1]), clock=lambda: 500.0)
    log.open()
    log.record_start(
        event_id="evt-crash", camera_id="gym", camera_name="Gym", location="Building B",
        rule="person_down", zone=None, at=400.0, confidence=0.7, scores=[0.6, 0.7],
        boxes=[(10.0, 20.0, 30.0, 40.0)], drill=True,
        model=ModelInfo("movenet-multipose-lightning", "0.1.0", "CPU", "f32"),
        thresholds={"seconds": 10.0}, snapshot_jpeg=b"\\xff\\xd8crash-snapshot\\xff\\xd9",
    )
    log.record_update("evt-crash", at=412.5, confidence=0.75, scores=[0.75],
                      boxes=[(11.0, 21.0, 31.0, 41.0)], snapshot_jpeg=None)
    print("ready", flush=True)
    time.sleep(120)
    """
)


def test_event_left_open_by_sigkill_is_closed_on_next_open(tmp_path: Path) -> None:
    path = tmp_path / "incidents.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line == "ready\n", child.stderr.read() if child.stderr else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream:
                stream.close()
    assert child.returncode == -signal.SIGKILL
    # The changes were committed to the WAL and never checkpointed by a clean close.
    assert Path(f"{path}-wal").stat().st_size > 0

    log = IncidentLog(path, clock=lambda: 900.0)
    recovered = log.open()
    try:
        assert [(c.cursor, c.event_id, c.change, c.at) for c in recovered] == [
            (3, "evt-crash", "ended", 900.0)
        ]
        record = log.get("evt-crash")
        assert recovered[0].event == record
        assert (record.state, record.end_reason, record.ended_at) == (
            "ended",
            ENGINE_RESTART,
            412.5,
        )
        assert (record.started_at, record.updated_at, record.confidence) == (400.0, 412.5, 0.75)
        assert (record.scores, record.boxes, record.drill) == (
            (0.75,),
            ((11.0, 21.0, 31.0, 41.0),),
            True,
        )
        assert record.thresholds == {"seconds": 10.0}
        assert log.snapshot("evt-crash") == b"\xff\xd8crash-snapshot\xff\xd9"
        assert [c.change for c in log.changes_since(0)] == ["started", "updated", "ended"]
    finally:
        log.close()

    again = IncidentLog(path, clock=lambda: 950.0)
    try:
        assert again.open() == []
    finally:
        again.close()
