"""Clients record the response steps they take; each is kept once and every client sees it."""

from __future__ import annotations

from tests.detectors.engine.conftest import RunningEngine

LOCKED = {
    "step": "doors_locked",
    "step_id": "weapon-run-1-lock",
    "targets": ["lock.front_doors", "lock.gym_doors"],
    "confirmed": {"lock.front_doors": True, "lock.gym_doors": False},
    "by": "Weapon response",
}


async def test_a_step_is_recorded_once_pushed_once_and_shown_on_the_event(
    running_engine: RunningEngine,
) -> None:
    created = await running_engine.send(
        "POST", "/test_alert", {"camera_id": "plaza", "rule": "weapon", "seconds": 30}
    )
    started = await created.json()
    event_id = started["event_id"]
    async with running_engine.session.ws_connect(
        running_engine.base + f"/ws?since={started['cursor']}", headers=running_engine.auth
    ) as ws:
        first = await running_engine.send("POST", f"/events/{event_id}/actions", LOCKED)
        body = await first.json()
        assert (first.status, body["change"]) == (200, "action")
        assert body["event"]["actions"] == [
            {
                "step_id": "weapon-run-1-lock",
                "step": "doors_locked",
                "targets": ["lock.front_doors", "lock.gym_doors"],
                "confirmed": {"lock.front_doors": True, "lock.gym_doors": False},
                "by": "Weapon response",
                "note": "",
                "at": body["at"],
            }
        ]
        retried = await running_engine.send("POST", f"/events/{event_id}/actions", LOCKED)
        again = await retried.json()
        assert (retried.status, again["cursor"], again["change"]) == (200, body["cursor"], "action")
        mode = await running_engine.send(
            "POST",
            f"/events/{event_id}/actions",
            {"step": "mode_set", "step_id": "weapon-run-1-mode", "note": "lockdown", "by": "W"},
        )
        assert mode.status == 200
        pushed = []
        while len(pushed) < 2:
            message = await ws.receive_json(timeout=10)
            if message["type"] == "event":
                pushed.append((message["change"], message["cursor"]))
        # The retry was not pushed: the second event message is the mode step.
        assert pushed == [("action", body["cursor"]), ("action", (await mode.json())["cursor"])]

    stored = await (await running_engine.get(f"/events/{event_id}")).json()
    assert [(a["step"], a["step_id"]) for a in stored["actions"]] == [
        ("doors_locked", "weapon-run-1-lock"),
        ("mode_set", "weapon-run-1-mode"),
    ]
    info = await (await running_engine.get("/info")).json()
    assert "doors_locked" in info["response_steps"]


async def test_bad_steps_answer_a_json_4xx_with_a_code(running_engine: RunningEngine) -> None:
    created = await running_engine.send(
        "POST", "/test_alert", {"camera_id": "plaza", "rule": "fight", "seconds": 30}
    )
    event_id = (await created.json())["event_id"]
    path = f"/events/{event_id}/actions"
    for bad, fragment in (
        ({"step_id": "k", "by": "x"}, "step"),
        (LOCKED | {"step": "teleported"}, "step"),
        (LOCKED | {"step_id": "has space"}, "step_id"),
        (LOCKED | {"step_id": "k" * 65}, "step_id"),
        (LOCKED | {"by": ""}, "by"),
        (LOCKED | {"by": "x" * 101}, "by"),
        (LOCKED | {"targets": "lock.front_doors"}, "targets"),
        (LOCKED | {"targets": [f"lock.{n}" for n in range(51)]}, "targets"),
        (LOCKED | {"targets": ["x" * 256]}, "targets"),
        (LOCKED | {"confirmed": {"lock.front_doors": "yes"}}, "confirmed"),
        (LOCKED | {"confirmed": {"lock.back_doors": True}}, "confirmed"),
        (LOCKED | {"note": "x" * 1001}, "note"),
        (LOCKED | {"extra": 1}, "extra"),
    ):
        response = await running_engine.send("POST", path, bad)
        error = (await response.json())["error"]
        assert (response.status, error["code"]) == (400, "invalid"), bad
        assert fragment in error["message"], (bad, error)
    not_object = await running_engine.send("POST", path, ["doors_locked"])
    assert (not_object.status, (await not_object.json())["error"]["code"]) == (400, "bad_request")
    await running_engine.send("POST", path, LOCKED)
    reused = await running_engine.send("POST", path, LOCKED | {"step": "pa_played"})
    conflict = (await reused.json())["error"]
    assert (reused.status, conflict["code"]) == (409, "conflict")
    assert "weapon-run-1-lock" in conflict["message"]
    missing = await running_engine.send("POST", "/events/nope/actions", LOCKED)
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "not_found")
