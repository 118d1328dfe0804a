"""What the API may make the engine open, against a real engine on loopback (issue 19).

The engine's camera networks are ``127.0.0.1/32`` here, so ``127.0.0.2`` (also loopback on
Linux) stands for a host outside them: a canary listens there and counts connections, which
proves each refusal happened *before* anything connected, without any packet leaving the
machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from detectors.sim.camera import CameraSim
from detectors.zoo.store import ModelStore
from tests.detectors.engine.conftest import TOKEN, RunningEngine
from tests.real_engine import serve_engine

OUTSIDE = "127.0.0.2"


class Canary:
    """A TCP listener outside the camera networks that counts who connected."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Canary:
        async def accepted(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self._server = await asyncio.start_server(accepted, OUTSIDE, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


class ForeignCamera(CameraSim):
    """A simulated camera that points elsewhere: its media service, or its stream URIs."""

    def __init__(self, video: Path, canary: Canary, *, foreign_service: bool) -> None:
        super().__init__(video, username="admin", password="s3cret", stream="mjpeg")
        self._canary = canary
        self._foreign_service = foreign_service

    def _foreign(self, path: str) -> str:
        return f"http://{OUTSIDE}:{self._canary.port}{path}"

    def stream_url(self, profile: str = "main") -> str:
        return self._foreign(f"/stream.mjpg?profile={profile}")

    def snapshot_url(self, profile: str = "main") -> str:
        return self._foreign(f"/snapshot.jpg?profile={profile}")

    @property
    def media_service_url(self) -> str:
        if self._foreign_service:
            return self._foreign("/m")
        return super().media_service_url


@pytest.fixture
async def fenced_engine(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore, socket_enabled: None
) -> AsyncIterator[RunningEngine]:
    """The engine with camera networks ``127.0.0.1/32`` and ``tmp_path/media`` as media folder."""
    media = tmp_path / "media"
    media.mkdir()
    served = await serve_engine(
        tmp_path / "data",
        samples_dir,
        model_store,
        TOKEN,
        media_folder=media,
        camera_networks=["127.0.0.1/32"],
    )
    async with aiohttp.ClientSession() as session:
        yield RunningEngine(served, session)
    await served.stop()


async def _refused(response: aiohttp.ClientResponse, status: int, code: str) -> str:
    data = await response.json()
    assert (response.status, data["error"]["code"]) == (status, code), data
    return str(data["error"]["message"])


async def _camera_ids(engine: RunningEngine) -> set[str]:
    return {c["id"] for c in await (await engine.get("/cameras")).json()}


async def test_probe_and_discovery_targets_outside_are_refused_before_connecting(
    fenced_engine: RunningEngine,
) -> None:
    async with Canary() as canary:
        for host in (OUTSIDE, f"::ffff:{OUTSIDE}"):
            body = {"host": host, "port": canary.port, "username": "a", "password": "b"}
            message = await _refused(
                await fenced_engine.send("POST", "/onvif/probe", body), 403, "host_not_allowed"
            )
            assert "security.camera_networks" in message
            assert "127.0.0.1/32" in message
        discover = {"targets": [f"{OUTSIDE}:{canary.port}"], "multicast": False, "timeout": 1}
        await _refused(
            await fenced_engine.send("POST", "/onvif/discover", discover), 403, "host_not_allowed"
        )
        assert canary.connections == 0


async def test_a_camera_naming_a_foreign_service_address_is_refused_before_it_is_called(
    fenced_engine: RunningEngine, samples_dir: Path
) -> None:
    async with (
        Canary() as canary,
        ForeignCamera(samples_dir / "vtest.avi", canary, foreign_service=True) as sim,
    ):
        body = {"host": "127.0.0.1", "port": sim.port, "username": "admin", "password": "s3cret"}
        message = await _refused(
            await fenced_engine.send("POST", "/onvif/probe", body), 403, "host_not_allowed"
        )
        assert OUTSIDE in message
        assert "s3cret" not in message
        assert canary.connections == 0


async def test_stream_uris_a_camera_hands_back_are_checked_before_reading(
    fenced_engine: RunningEngine, samples_dir: Path
) -> None:
    async with (
        Canary() as canary,
        ForeignCamera(samples_dir / "vtest.avi", canary, foreign_service=False) as sim,
    ):
        source = {
            "type": "onvif",
            "host": "127.0.0.1",
            "port": sim.port,
            "username": "admin",
            "password": "s3cret",
        }
        body = {"id": "pointer", "name": "Pointer", "source": source}
        assert (await fenced_engine.send("POST", "/cameras", body)).status == 201
        deadline = asyncio.get_running_loop().time() + 60
        status: dict[str, object] = {}
        while status.get("reason_code") != "host_not_allowed":
            assert asyncio.get_running_loop().time() < deadline, status
            await asyncio.sleep(0.2)
            status = (await (await fenced_engine.get("/cameras/pointer")).json())["status"]
        assert OUTSIDE in str(status["reason"])
        assert status["online"] is False
        assert canary.connections == 0


@pytest.mark.parametrize(
    "source",
    [
        {"type": "rtsp", "url": f"rtsp://admin:hunter2@{OUTSIDE}:554/stream1"},
        {"type": "mjpeg", "url": f"http://{OUTSIDE}/video.mjpg"},
        {"type": "snapshot", "url": f"http://[::ffff:{OUTSIDE}]/snap.jpg"},
        {"type": "onvif", "host": OUTSIDE, "port": 80},
    ],
)
async def test_camera_sources_outside_are_refused_and_nothing_is_kept(
    fenced_engine: RunningEngine, source: dict[str, object]
) -> None:
    body = {"id": "outside", "name": "Outside", "source": source}
    message = await _refused(
        await fenced_engine.send("POST", "/cameras", body), 403, "host_not_allowed"
    )
    assert "hunter2" not in message
    assert "outside" not in await _camera_ids(fenced_engine)


async def test_a_change_to_a_host_outside_is_refused_and_the_camera_kept(
    fenced_engine: RunningEngine,
) -> None:
    inside = {"type": "mjpeg", "url": "http://127.0.0.1:9/video.mjpg"}
    body = {"id": "gate", "name": "Gate", "source": inside}
    assert (await fenced_engine.send("POST", "/cameras", body)).status == 201
    patch = {"source": {"type": "mjpeg", "url": f"http://{OUTSIDE}/video.mjpg"}}
    await _refused(
        await fenced_engine.send("PATCH", "/cameras/gate", patch), 403, "host_not_allowed"
    )
    kept = await (await fenced_engine.get("/cameras/gate")).json()
    assert kept["source"]["url"] == inside["url"]


async def test_file_sources_come_only_from_the_media_folder(
    fenced_engine: RunningEngine, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    (media / "escape.avi").symlink_to("/etc/shadow")
    (media / "clip.avi").write_bytes(b"not really a video")
    for path in ("/etc/shadow", str(media / "escape.avi"), str(media / ".." / "data" / "x")):
        body = {"id": "x2", "name": "x", "source": {"type": "file", "url": path}}
        message = await _refused(
            await fenced_engine.send("POST", "/cameras", body), 403, "source_not_allowed"
        )
        assert "security.media_folder" in message
    assert "x2" not in await _camera_ids(fenced_engine)
    body = {
        "id": "clip",
        "name": "Clip",
        "source": {"type": "file", "url": str(media / "clip.avi")},
    }
    assert (await fenced_engine.send("POST", "/cameras", body)).status == 201
