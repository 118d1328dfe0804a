"""The engine with a simulated ONVIF camera: discover, probe, add, detect (loopback only)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from detectors.pipeline.sources import decode_jpeg
from detectors.sim.camera import CameraSim
from tests.detectors.engine.conftest import RunningEngine
from tests.detectors.onvif.hostile_peers import ALL_KINDS, hostile_peer
from tests.sim import RTSP_SIM


def _onvif_source(port: int) -> dict[str, object]:
    """The simulated camera on loopback, with its test credentials."""
    return {
        "type": "onvif",
        "host": "127.0.0.1",
        "port": port,
        "username": "admin",
        "password": "s3cret",
    }


async def test_discover_probe_and_add_an_onvif_camera(
    running_engine: RunningEngine, samples_dir: Path
) -> None:
    async with CameraSim(
        samples_dir / "vtest.avi",
        username="admin",
        password="s3cret",
        name="Cafeteria",
        location="Building C",
        discovery_port=0,
        **RTSP_SIM,
    ) as sim:
        found = await running_engine.send(
            "POST",
            "/onvif/discover",
            {"targets": [f"127.0.0.1:{sim.discovery_port}"], "multicast": False, "timeout": 2},
        )
        cameras = await found.json()
        assert [(c["name"], c["location"]) for c in cameras] == [("Cafeteria", "Building C")]

        probe = {"host": "127.0.0.1", "port": sim.port, "username": "admin", "password": "s3cret"}
        probed = await (await running_engine.send("POST", "/onvif/probe", probe)).json()
        assert probed["profiles"][0]["stream_uri"] == sim.stream_url("main")
        assert probed["profiles"][1]["stream_uri"] == sim.stream_url("sub")
        assert "s3cret" not in str(probed)

        wrong = await running_engine.send("POST", "/onvif/probe", probe | {"password": "nope"})
        assert wrong.status == 422
        assert (await wrong.json())["error"]["code"] == "camera_auth"
        closed = await running_engine.send("POST", "/onvif/probe", probe | {"port": 9})
        assert (await closed.json())["error"]["code"] == "camera_unreachable"

        body = {
            "id": "cafeteria",
            "name": "Cafeteria",
            "location": "Building C",
            "source": _onvif_source(sim.port),
        }
        assert (await running_engine.send("POST", "/cameras", body)).status == 201
        deadline = asyncio.get_running_loop().time() + 90
        camera: dict[str, object] = {}
        while asyncio.get_running_loop().time() < deadline:
            camera = await (await running_engine.get("/cameras/cafeteria")).json()
            status = camera["status"]
            # The arrival rate is windowed: just after the first frames it still counts the
            # open, so wait for it to pass detect_fps (the stream sends 15) instead of one read.
            if status["online"] and camera["person_count"] >= 2 and status["fps"] > 5:  # type: ignore[index,operator]
                break
            await asyncio.sleep(0.5)
        assert camera["status"]["online"], camera["status"]  # type: ignore[index]
        assert camera["person_count"] >= 2
        assert "s3cret" not in str(camera)
        # Stream roles: detection reads the sub-stream, evidence comes from the snapshot URI.
        streams = camera["streams"]
        assert streams["detection"]["profile"]["token"] == "sub"  # type: ignore[index]
        assert streams["detection"]["stream"] == {  # type: ignore[index]
            "codec": "h264",
            "width": 640,
            "height": 480,
            "decoder": "cpu",
        }
        assert streams["snapshot"]["from"] == "uri"  # type: ignore[index]
        assert streams["snapshot"]["profile"]["width"] == 1920  # type: ignore[index]
        assert camera["device"] == {
            "manufacturer": "School Guard simulator",
            "model": "school-guard-sim",
            "firmware_version": "1.0.0",
        }
        assert camera["status"]["fps"] > 5  # type: ignore[index]
        await running_engine.send("DELETE", "/cameras/cafeteria", None)


async def _camera_state(running: RunningEngine, camera_id: str) -> dict[str, object]:
    return dict(await (await running.get(f"/cameras/{camera_id}")).json())


async def _wait_online(running: RunningEngine, camera_id: str, online: bool) -> dict[str, object]:
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        camera = await _camera_state(running, camera_id)
        if camera["status"]["online"] is online:  # type: ignore[index]
            return camera
        assert asyncio.get_running_loop().time() < deadline, camera["status"]
        await asyncio.sleep(0.3)


async def test_camera_killed_goes_offline_and_comes_back(
    running_engine: RunningEngine, samples_dir: Path
) -> None:
    video = samples_dir / "vtest.avi"
    sim = CameraSim(video, username="admin", password="s3cret", **RTSP_SIM)
    await sim.start()
    port = sim.port
    assert sim.rtsp is not None
    rtsp_port = sim.rtsp.port
    body = {
        "id": "hall",
        "name": "Hall",
        "timeout_seconds": 2,
        "source": _onvif_source(port),
    }
    assert (await running_engine.send("POST", "/cameras", body)).status == 201
    await _wait_online(running_engine, "hall", True)
    await sim.stop()
    offline = await _wait_online(running_engine, "hall", False)
    assert offline["status"]["reason"]  # type: ignore[index]
    same_ports = {"port": port, "rtsp_port": rtsp_port}
    async with CameraSim(video, username="admin", password="s3cret", **RTSP_SIM, **same_ports):
        back = await _wait_online(running_engine, "hall", True)
    assert back["stats"]["reconnects"] >= 1  # type: ignore[index]


API_CODES = {
    "forbidden plain text": "camera_not_onvif",
    "empty 403": "camera_not_onvif",
    "html page": "camera_not_onvif",
    "plain text 200": "camera_not_onvif",
    "truncated xml": "camera_not_onvif",
    "xml not soap": "camera_not_onvif",
    "soap fault without detail": "camera_error",
    "huge declared body": "camera_not_onvif",
    "endless body": "camera_not_onvif",
    "headers then stall": "camera_timeout",
    "slowloris": "camera_timeout",
    "clock then html": "camera_error",
    "clock then garbage soap": "camera_error",
    "redirect loop": "camera_not_onvif",
    "tls": "camera_not_onvif",
}


async def test_probing_hostile_peers_answers_422_with_a_stable_code(
    running_engine: RunningEngine, tmp_path: Path
) -> None:
    """The reproduction of a 500 (a plain-text 403) and every other broken peer: 422."""
    assert sorted(API_CODES) == sorted(ALL_KINDS)
    for kind, code in API_CODES.items():
        async with hostile_peer(kind, tmp_path) as port:
            body = {"host": "127.0.0.1", "port": port, "password": "pw-123", "timeout": 2}
            answer = await asyncio.wait_for(
                running_engine.send("POST", "/onvif/probe", body), timeout=30
            )
            error = (await answer.json())["error"]
        assert (kind, answer.status, error["code"]) == (kind, 422, code)
        assert error["message"].startswith(f"127.0.0.1:{port}")
        assert "pw-123" not in error["message"]


async def test_alert_evidence_comes_from_the_main_profile(
    running_engine: RunningEngine, samples_dir: Path
) -> None:
    """A crowd alert on the sub-stream gets the 1920x1080 snapshot as its picture."""
    async with CameraSim(
        samples_dir / "vtest.avi", username="admin", password="s3cret", **RTSP_SIM
    ) as sim:
        body = {
            "id": "hallway",
            "name": "Hallway",
            "source": _onvif_source(sim.port),
            "rules": {"crowd": {"max_people": 1}},
        }
        assert (await running_engine.send("POST", "/cameras", body)).status == 201
        deadline = asyncio.get_running_loop().time() + 90
        size = None
        while size != (1920, 1080):
            assert asyncio.get_running_loop().time() < deadline, size
            await asyncio.sleep(0.5)
            changes = (await (await running_engine.get("/events")).json())["changes"]
            crowd = [c["event"] for c in changes if c["event"]["rule"] == "crowd"]
            if not crowd or not crowd[-1]["snapshot"]:
                continue
            picture = await running_engine.get(f"/events/{crowd[-1]['id']}/snapshot.jpg")
            image = decode_jpeg(await picture.read())
            assert image is not None
            size = (image.shape[1], image.shape[0])
        await running_engine.send("DELETE", "/cameras/hallway", None)
