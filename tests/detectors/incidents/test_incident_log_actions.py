"""Response steps on an incident's timeline: kept in order, once per step_id, old logs migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from detectors.errors import EventNotFoundError, EventStateError, IncidentLogError
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import MAX_ACTIONS, ResponseAction
from detectors.incidents.schema import SCHEMA_VERSION
from detectors.protocol.events import event_json
from tests.detectors.incidents.conftest import FakeClock
from tests.detectors.incidents.test_incident_log import log_of_version, start

LOCKS = ("lock.front_doors", "lock.gym_doors")


def test_steps_accumulate_in_order_and_a_retry_records_once(
    log: IncidentLog, clock: FakeClock
) -> None:
    start(log)
    clock.now = 1_010.0
    locked, new = log.record_action(
        "evt-1",
        step_id="run-1-lock",
        step="doors_locked",
        targets=LOCKS,
        confirmed={"lock.front_doors": True, "lock.gym_doors": False},
        by="Weapon response",
    )
    assert (new, locked.change, locked.at) == (True, "action", 1_010.0)
    clock.now = 1_020.0
    again, new_again = log.record_action(
        "evt-1",
        step_id="run-1-lock",
        step="doors_locked",
        targets=LOCKS,
        confirmed={"lock.front_doors": True, "lock.gym_doors": False},
        by="Weapon response",
    )
    # The retry answers the change that stored the step: same cursor, same time.
    assert (new_again, again.cursor, again.at) == (False, locked.cursor, 1_010.0)
    log.dismiss("evt-1", by="SRO Diaz", reason="drill prop")
    clock.now = 1_030.0
    cleared, _ = log.record_action(
        "evt-1", step_id="run-1-clear", step="all_clear", by="All clear", note=" released "
    )
    assert log.get("evt-1").actions == (
        ResponseAction(
            "run-1-lock",
            "doors_locked",
            LOCKS,
            {"lock.front_doors": True, "lock.gym_doors": False},
            "Weapon response",
            "",
            1_010.0,
        ),
        ResponseAction("run-1-clear", "all_clear", (), {}, "All clear", "released", 1_030.0),
    )
    assert event_json(cleared.event)["actions"][1] == {
        "step_id": "run-1-clear",
        "step": "all_clear",
        "targets": [],
        "confirmed": {},
        "by": "All clear",
        "note": "released",
        "at": 1_030.0,
    }
    kinds = [c.change for c in log.changes_since(0)]
    assert kinds == ["started", "action", "dismissed", "action"]


def test_a_step_id_reused_for_another_step_is_refused(log: IncidentLog) -> None:
    start(log)
    log.record_action("evt-1", step_id="k", step="pa_played", targets=["media_player.pa"], by="x")
    with pytest.raises(EventStateError) as err:
        log.record_action("evt-1", step_id="k", step="mode_set", note="lockdown", by="x")
    assert str(err.value) == (
        "event 'evt-1': step_id 'k' was already used for a different step (pa_played by x)"
    )
    assert len(log.get("evt-1").actions) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step": "teleported"}, "step: unknown step 'teleported' (known: paged, doors_locked,"),
        ({"step_id": "  "}, "step_id must be a non-empty string"),
        ({"step_id": "k" * 65}, "step_id: at most 64 characters, got 65"),
        ({"targets": ["a"] * 2}, "targets: at most 50 different names, got 2"),
        ({"targets": [f"t{i}" for i in range(51)]}, "targets: at most 50 different names"),
        ({"targets": ["x" * 256]}, "targets: at most 255 characters each"),
        ({"targets": ["a"], "confirmed": {"b": True}}, "confirmed: not among the targets: b"),
        ({"targets": ["a"], "confirmed": {"a": "yes"}}, "confirmed: each value must be true"),
        ({"by": ""}, "by must be a non-empty string"),
    ],
)
def test_bad_steps_are_refused(log: IncidentLog, kwargs: dict[str, object], message: str) -> None:
    start(log)
    call: dict[str, object] = {"step_id": "k", "step": "doors_locked", "by": "x"} | kwargs
    with pytest.raises(IncidentLogError) as err:
        log.record_action("evt-1", **call)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)
    with pytest.raises(EventNotFoundError):
        log.record_action("nope", step_id="k", step="paged", by="x")
    assert log.get("evt-1").actions == ()


def test_one_alert_keeps_a_bounded_number_of_steps(log: IncidentLog) -> None:
    start(log)
    for n in range(MAX_ACTIONS):
        log.record_action("evt-1", step_id=f"s{n}", step="other", by="loop")
    with pytest.raises(EventStateError) as err:
        log.record_action("evt-1", step_id="one-more", step="other", by="loop")
    assert (
        str(err.value) == "event 'evt-1' already has 200 response steps, the most one alert keeps"
    )


def test_a_version_3_log_gains_actions(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    log_of_version(path, 3, ("actions",))
    with IncidentLog(path, clock=FakeClock(5.0)) as log:
        old = log.get("evt-1")
        assert old.actions == ()
        assert log.changes_since(0)[0].event.actions == ()
        log.record_action("evt-1", step_id="k", step="paged", targets=["notify.sro"], by="x")
        assert [a.step for a in log.get("evt-1").actions] == ["paged"]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
