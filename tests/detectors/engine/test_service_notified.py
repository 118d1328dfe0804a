"""Clients record who they told about an alert; every client sees it."""

from __future__ import annotations

from tests.detectors.engine.conftest import RunningEngine


async def test_notified_is_recorded_pushed_and_validated(running_engine: RunningEngine) -> None:
    created = await running_engine.send(
        "POST", "/test_alert", {"camera_id": "plaza", "rule": "fight", "seconds": 30}
    )
    event_id = (await created.json())["event_id"]
    camera = await (await running_engine.get("/cameras/plaza")).json()
    assert [(a["event_id"], a["rule"], a["drill"]) for a in camera["open_alerts"]] == [
        (event_id, "fight", True)
    ]
    async with running_engine.session.ws_connect(
        running_engine.base + f"/ws?since={(await created.json())['cursor']}",
        headers=running_engine.auth,
    ) as ws:
        told = await running_engine.send(
            "POST",
            f"/events/{event_id}/notified",
            {"recipients": ["notify.sro_phone", "SRO Diaz"], "channel": "notify", "by": "Fight"},
        )
        body = await told.json()
        assert (told.status, body["change"]) == (200, "notified")
        assert [(n["recipients"], n["channel"], n["by"]) for n in body["event"]["notified"]] == [
            (["notify.sro_phone", "SRO Diaz"], "notify", "Fight")
        ]
        while True:
            message = await ws.receive_json(timeout=10)
            if message["type"] == "event":
                break
        assert (message["change"], message["event_id"]) == ("notified", event_id)

    for bad, fragment in (
        ({"recipients": [], "channel": "notify", "by": "x"}, "recipients"),
        ({"recipients": ["a"], "by": "x"}, "channel"),
        ({"recipients": "a", "channel": "notify", "by": "x"}, "recipients"),
        ({"recipients": ["a"], "channel": "notify", "by": "x", "extra": 1}, "extra"),
    ):
        response = await running_engine.send("POST", f"/events/{event_id}/notified", bad)
        assert response.status == 400, bad
        assert fragment in (await response.json())["error"]["message"]
    missing = await running_engine.send(
        "POST", "/events/nope/notified", {"recipients": ["a"], "channel": "n", "by": "x"}
    )
    assert missing.status == 404
    stored = await (await running_engine.get(f"/events/{event_id}")).json()
    assert len(stored["notified"]) == 1
