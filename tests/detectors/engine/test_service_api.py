"""The engine API against a real engine (real models, a looped file camera) on loopback."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import cv2
import numpy as np
import pytest

from detectors.engine.api import create_app
from tests.detectors.engine.conftest import TOKEN, RunningEngine


async def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


def _routes(running: RunningEngine) -> list[tuple[str, str]]:
    app = create_app(running.engine, TOKEN)
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        path = path.replace("{camera_id}", "plaza").replace("{event_id}", "nope")
        if route.method != "HEAD":
            routes.append((route.method, path))
    return routes


async def test_every_route_needs_the_token(running_engine: RunningEngine) -> None:
    routes = _routes(running_engine)
    assert len(routes) == 27
    for method, path in routes:
        url = running_engine.base.rsplit("/api/v1", 1)[0] + path
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            async with running_engine.session.request(
                method, url, headers=headers, json={}
            ) as resp:
                assert resp.status == 401, (method, path, headers)
                body = await resp.json()
                assert body["error"]["code"] == "unauthorized"


async def test_info_health_and_the_live_camera(running_engine: RunningEngine) -> None:
    info = await (await running_engine.get("/info")).json()
    assert info["engine_id"] == running_engine.engine.id
    assert info["name"] == "Test school"
    assert info["inference"]["available_devices"] == ["CPU"]
    assert info["models"]["detector"]["name"] == "nanodet-m-416"
    assert info["models"]["fight"] is None
    assert info["models_skipped"] == {
        "fight": {
            "name": "fight-mc3-18",
            "reason": "not loaded: it needs the pose model as its gate (models.pose is null)",
        }
    }

    async def people_seen() -> bool:
        camera = await (await running_engine.get("/cameras/plaza")).json()
        return camera["status"]["online"] and camera["person_count"] >= 2

    await _wait_for(people_seen)
    health = await (await running_engine.get("/health")).json()
    assert (health["cameras"], health["cameras_online"]) == (1, 1)
    snapshot = await running_engine.get("/cameras/plaza/snapshot.jpg", params={"annotated": "1"})
    assert snapshot.content_type == "image/jpeg"
    assert (await snapshot.read())[:2] == b"\xff\xd8"


async def test_cameras_added_through_the_api_never_return_credentials(
    running_engine: RunningEngine,
) -> None:
    body = {
        "id": "gate",
        "name": "Gate",
        "location": "North gate",
        "source": {
            "type": "mjpeg",
            "url": "http://127.0.0.1:9/stream.mjpg",
            "username": "operator",
            "password": "s3cret-pass",
        },
    }
    created = await running_engine.send("POST", "/cameras", body)
    assert created.status == 201
    text = await created.text()
    for secret in ("hunter2", "s3cret-pass", "operator"):
        assert secret not in text
    listing = await (await running_engine.get("/cameras")).text()
    assert "s3cret-pass" not in listing and "hunter2" not in listing
    in_url = {
        "id": "gate-2",
        "name": "Gate 2",
        "source": {"type": "mjpeg", "url": "http://admin:hunter2@127.0.0.1:9/stream.mjpg"},
    }
    second = await running_engine.send("POST", "/cameras", in_url)
    assert (await second.json())["source"]["url"] == "http://admin:***@127.0.0.1:9/stream.mjpg"
    listing = await (await running_engine.get("/cameras")).text()
    assert "hunter2" not in listing
    assert (await running_engine.send("DELETE", "/cameras/gate-2", None)).status == 200

    async def gate_offline() -> bool:
        camera = await (await running_engine.get("/cameras/gate")).json()
        return camera["status"]["reason"] not in (None, "starting")

    await _wait_for(gate_offline, 30)
    duplicate = await running_engine.send("POST", "/cameras", body)
    assert duplicate.status == 409
    renamed = await running_engine.send("PATCH", "/cameras/gate", {"name": "North gate"})
    assert (await renamed.json())["name"] == "North gate"
    # A client that never saw the password changes the username and keeps the password...
    relogged = {"source": {"username": "viewer"}}
    assert (await running_engine.send("PATCH", "/cameras/gate", relogged)).status == 200
    source = running_engine.engine.cameras["gate"].config.source
    assert (source.url, source.username, source.password) == (
        "http://127.0.0.1:9/stream.mjpg",
        "viewer",
        "s3cret-pass",
    )
    # ...but a new address never inherits it: the stored password stays with its camera.
    moved = {"source": {"url": "http://127.0.0.1:10/stream.mjpg"}}
    refused = await running_engine.send("PATCH", "/cameras/gate", moved)
    assert refused.status == 400
    assert "password again" in (await refused.json())["error"]["message"]
    assert running_engine.engine.cameras["gate"].config.source.url.endswith(":9/stream.mjpg")  # type: ignore[union-attr]
    stored = (running_engine.engine.data_dir / "cameras.json").stat().st_mode & 0o777
    assert stored == 0o600
    assert (await running_engine.send("DELETE", "/cameras/gate", None)).status == 200
    assert (await running_engine.get("/cameras/gate")).status == 404
    config_camera = await running_engine.send("DELETE", "/cameras/plaza", None)
    assert config_camera.status == 409


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "/cameras", {"id": "x"}, 400, "name"),
        (
            "POST",
            "/cameras",
            {"id": "Bad Id", "name": "n", "source": {"type": "file", "url": "/x"}},
            400,
            "id",
        ),
        ("POST", "/cameras", [1, 2], 400, "JSON object"),
        ("PUT", "/mode", {"mode": "panic"}, 400, "mode"),
        ("PUT", "/mode", {"mode": "hold", "extra": 1}, 400, "extra"),
        ("POST", "/test_alert", {"camera_id": "plaza", "rule": "dance"}, 400, "rule"),
        ("POST", "/test_alert", {"camera_id": "nowhere", "rule": "weapon"}, 404, "nowhere"),
        ("POST", "/events/none/acknowledge", {"by": "SRO Diaz"}, 404, "none"),
        ("POST", "/events/none/dismiss", {}, 400, "by"),
        ("GET", "/events?since=abc", None, 400, "since"),
        ("GET", "/cameras/nowhere", None, 404, "nowhere"),
        ("DELETE", "/mode", None, 405, ""),
    ],
)
async def test_bad_input_gets_a_4xx_with_a_message(
    running_engine: RunningEngine, method: str, path: str, body: object, status: int, fragment: str
) -> None:
    response = await running_engine.send(method, path, body)
    assert response.status == status
    error = (await response.json())["error"]
    assert fragment in error["message"]


async def test_invalid_json_body_is_a_400(running_engine: RunningEngine) -> None:
    response = await running_engine.session.post(
        running_engine.base + "/cameras", data=b"{not json", headers=running_engine.auth
    )
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["error"]["message"]


async def test_drill_alert_acknowledge_dismiss_and_websocket_resume(
    running_engine: RunningEngine,
) -> None:
    ws_url = running_engine.base + "/ws"
    async with running_engine.session.ws_connect(ws_url, headers=running_engine.auth) as ws:
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
        created = await running_engine.send(
            "POST", "/test_alert", {"camera_id": "plaza", "rule": "weapon", "seconds": 60}
        )
        assert created.status == 201
        started = await created.json()
        event_id = started["event_id"]
        assert started["event"]["drill"] is True
        assert started["event"]["location"] == "Building B, outside"
        seen = []
        while not any(m.get("event_id") == event_id for m in seen):
            seen.append(await ws.receive_json(timeout=10))
        ack = await running_engine.send(
            "POST", f"/events/{event_id}/acknowledge", {"by": "SRO Diaz"}
        )
        assert (await ack.json())["event"]["acknowledged_by"] == "SRO Diaz"
        dismissed = await running_engine.send(
            "POST", f"/events/{event_id}/dismiss", {"by": "SRO Diaz", "reason": "drill"}
        )
        assert (await dismissed.json())["change"] == "dismissed"
        again = await running_engine.send("POST", f"/events/{event_id}/dismiss", {"by": "x"})
        assert again.status == 409
    # A client that saw only the start resumes from its cursor and gets exactly the rest.
    async with running_engine.session.ws_connect(
        ws_url + f"?since={started['cursor']}", headers=running_engine.auth
    ) as ws:
        changes = []
        while len(changes) < 2:
            message = await ws.receive_json(timeout=10)
            if message["type"] == "event" and message["change"] != "evidence":
                changes.append((message["change"], message["event_id"]))
        assert changes == [("acknowledged", event_id), ("dismissed", event_id)]
    listing = await (await running_engine.get("/events", params={"since": "0"})).json()
    # The clip and strip ("evidence") follow the post-roll, so a slow run may list them too.
    mine = listing["changes"]
    assert [
        c["change"] for c in mine if c["event_id"] == event_id and c["change"] != "evidence"
    ] == [
        "started",
        "acknowledged",
        "dismissed",
    ]
    snapshot = await running_engine.get(f"/events/{event_id}/snapshot.jpg")
    assert snapshot.status in (200, 404)


async def test_mode_is_kept_across_restart(running_engine: RunningEngine) -> None:
    response = await running_engine.send("PUT", "/mode", {"mode": "lockdown", "drill": True})
    assert (await response.json())["mode"] == "lockdown"
    running_engine.engine._load_mode()
    assert running_engine.engine.mode["mode"] == "lockdown"
    document = await (await running_engine.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/test_alert" in document["paths"]


async def test_unknown_route_is_a_json_404(running_engine: RunningEngine) -> None:
    response = await running_engine.get("/nothing")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    assert isinstance(aiohttp.__version__, str)


@pytest.mark.media_folder_tmp
async def test_motion_ends_by_itself_when_frames_stop(
    running_engine: RunningEngine, tmp_path: pytest.TempPathFactory, samples_dir
) -> None:
    import cv2

    from detectors.media import iter_video

    clip = tmp_path / "short.avi"  # type: ignore[operator]
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (768, 576))
    for frame, _ in zip(iter_video(samples_dir / "vtest.avi"), range(15), strict=False):
        writer.write(frame.image)
    writer.release()
    body = {
        "id": "short",
        "name": "Short",
        "detect_fps": 10,
        "source": {"type": "file", "url": str(clip), "loop": False, "realtime": True},
    }
    assert (await running_engine.send("POST", "/cameras", body)).status == 201
    seen: list[bool] = []
    async with running_engine.session.ws_connect(
        running_engine.base + "/ws", headers=running_engine.auth
    ) as ws:
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            message = await ws.receive_json(timeout=20)
            if message["type"] == "camera" and message["camera"]["id"] == "short":
                seen.append(message["camera"]["motion"])
                if True in seen and seen[-1] is False:
                    break
    assert True in seen, seen
    assert seen[-1] is False, "motion ended without any other change on the camera"


async def test_a_drills_snapshot_carries_the_drill_banner(running_engine: RunningEngine) -> None:
    """The picture staff see of a drill says DRILL on it (engine side, every client)."""
    runtime = running_engine.engine.cameras["plaza"]

    async def analysed() -> bool:
        return runtime.last_result is not None and runtime.last_result.image is not None

    await _wait_for(analysed)
    response = await running_engine.send(
        "POST", "/test_alert", {"camera_id": "plaza", "rule": "weapon", "seconds": 60}
    )
    event_id = (await response.json())["event_id"]
    snapshot = await running_engine.get(f"/events/{event_id}/snapshot.jpg")
    assert snapshot.status == 200
    data = np.frombuffer(await snapshot.read(), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    blue, green, red = (int(v) for v in image[3, 3])
    assert red > 200 and 150 < green < 240 and blue < 60, "amber DRILL banner at the top"


async def test_a_changing_person_count_reaches_clients_about_once_a_second(
    running_engine: RunningEngine,
) -> None:
    """vtest's head count changes on most analysed frames; clients get the newest each second.

    Every change sent at once would be five Home Assistant state writes a second per camera.
    """
    messages: list[dict[str, object]] = []

    async def people_seen() -> bool:
        camera = await (await running_engine.get("/cameras/plaza")).json()
        return camera["status"]["online"] and camera["person_count"] >= 1

    await _wait_for(people_seen)
    running_engine.engine.outbox.add_listener(lambda message: messages.append(dict(message)))
    await asyncio.sleep(6.0)
    counts = [
        m["camera"]["person_count"]  # type: ignore[index]
        for m in messages
        if m.get("type") == "camera" and m["camera"]["id"] == "plaza"  # type: ignore[index]
    ]
    changes = [n for n, before in itertools.pairwise(counts) if n != before]
    events = [m for m in messages if m.get("type") == "event"]
    analysed = running_engine.engine.cameras["plaza"].worker.stats.analysed  # type: ignore[union-attr]
    assert analysed > 10, "the camera was analysed throughout"
    assert len(changes) >= 2, f"the count moved on vtest and clients were told: {counts}"
    # One count message a second at most (sent at once, every change would be ~20 here);
    # an alert's start or end sends the camera's state as well.
    assert len(changes) <= 6 + 1 + len(events), (counts, len(events))
