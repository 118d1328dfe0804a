"""A camera the tests can unplug: a loopback HTTP snapshot server added to the engine.

The engine polls it like any snapshot camera; answering 503 instead of the JPEG makes the
engine mark the camera offline ("http error"), serving again brings it back. Cameras are
added through the engine's real ``POST /cameras``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .conftest import TOKEN, RunningEngine


@dataclass
class SnapshotCamera:
    """Serves one JPEG at ``/snap.jpg`` while ``serving`` is True, else 503."""

    jpeg: bytes
    serving: bool = True
    runner: web.AppRunner | None = None
    port: int = 0

    async def _snapshot(self, _request: web.Request) -> web.Response:
        if not self.serving:
            return web.Response(status=503, text="unplugged")
        return web.Response(body=self.jpeg, content_type="image/jpeg")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/snap.jpg", self._snapshot)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def url(self, credentials: str = "") -> str:
        userinfo = f"{credentials}@" if credentials else ""
        return f"http://{userinfo}127.0.0.1:{self.port}/snap.jpg"


def person_jpeg(samples_dir: Path) -> bytes:
    """The sample photo of a person (a real JPEG the engine decodes)."""
    return (samples_dir / "person.jpg").read_bytes()


async def post_camera(
    hass: HomeAssistant, engine: RunningEngine, body: dict[str, Any]
) -> dict[str, Any]:
    """``POST /api/v1/cameras`` on the running engine; returns the engine's answer."""
    session = async_get_clientsession(hass)
    async with session.post(
        f"http://{engine.host}:{engine.port}/api/v1/cameras",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 201, answer
        return answer


def snapshot_camera_body(camera_id: str, name: str, url: str) -> dict[str, Any]:
    """An API camera polled for snapshots twice a second."""
    return {
        "id": camera_id,
        "name": name,
        "location": "Building A, lobby",
        "source": {"type": "snapshot", "url": url},
        "detect_fps": 2,
        "timeout_seconds": 5,
    }
