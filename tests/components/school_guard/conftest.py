"""A real school_guard engine on loopback for the integration's tests.

The integration is a client of the engine API only; these fixtures start the real engine
(real models, a looped sample video as camera) and serve its real API on 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.const import DOMAIN
from detectors.config import parse_config
from detectors.engine.api import create_app
from detectors.engine.service import Engine
from detectors.zoo.store import ModelStore

if TYPE_CHECKING:
    from .sg_snapshot_camera import SnapshotCamera

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "integration-test-token-0123456789"
SHUTDOWN_SECONDS = 0.5
"""Restarting only the API leaves the engine's WebSocket handlers waiting for messages;
aiohttp would wait 60 s for them. A short grace period drops those links like a network
outage would, which is what the reconnect tests want."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/school_guard in every test here."""


def engine_config(data_dir: Path, samples: Path) -> dict[str, object]:
    """One looped-file camera, detector only, CPU f32 (host-independent scores)."""
    return {
        "engine": {"name": "Lincoln High", "data_dir": str(data_dir)},
        "inference": {"device": "CPU", "precision": "f32", "performance": "throughput"},
        "models": {"detector": "nanodet-m-416", "pose": None},
        "cameras": [
            {
                "id": "plaza",
                "name": "Plaza",
                "location": "Building B, outside",
                "source": {
                    "type": "file",
                    "url": str(samples / "vtest.avi"),
                    "loop": True,
                    "realtime": True,
                },
                "detect_fps": 5,
            }
        ],
    }


@dataclass
class RunningEngine:
    """The engine, where its API listens, and a way to stop it mid-test."""

    engine: Engine
    runner: web.AppRunner
    host: str
    port: int
    stopped: bool = False

    @property
    def engine_id(self) -> str:
        return self.engine.id

    async def restart_api(self, token: str = TOKEN) -> None:
        """Drop every client and serve the API again on the same port (engine keeps running)."""
        await self.runner.cleanup()
        self.runner = web.AppRunner(
            create_app(self.engine, token), shutdown_timeout=SHUTDOWN_SECONDS
        )
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()

    async def stop(self) -> None:
        """Stop serving and stop the engine (idempotent)."""
        if self.stopped:
            return
        self.stopped = True
        await self.engine.stop()
        await self.runner.cleanup()


@pytest.fixture
async def running_engine(
    hass: HomeAssistant,
    tmp_path: Path,
    samples_dir: Path,
    model_store: ModelStore,
    socket_enabled: None,
) -> AsyncIterator[RunningEngine]:
    """A started engine serving its API on a free loopback port.

    At teardown the integration's entries are unloaded first, so no client is talking
    to the engine while it shuts down.
    """
    data_dir = tmp_path / "engine"
    engine = Engine(
        parse_config(engine_config(data_dir, samples_dir)), data_dir=data_dir, store=model_store
    )
    await engine.start()
    runner = web.AppRunner(create_app(engine, TOKEN), shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    running = RunningEngine(engine, runner, "127.0.0.1", port)
    yield running
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await running.stop()


@pytest.fixture
def closed_port(socket_enabled: None) -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def config_entry(running_engine: RunningEngine) -> MockConfigEntry:
    """A config entry for the running engine (not yet added to Home Assistant)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Lincoln High",
        unique_id=running_engine.engine_id,
        data={CONF_HOST: running_engine.host, CONF_PORT: running_engine.port, CONF_TOKEN: TOKEN},
    )


@pytest.fixture
async def lobby(running_engine: RunningEngine, samples_dir: Path) -> AsyncIterator[SnapshotCamera]:
    """A loopback snapshot camera the test can unplug (not yet added to the engine)."""
    from .sg_snapshot_camera import SnapshotCamera, person_jpeg  # it imports this module

    camera = SnapshotCamera(person_jpeg(samples_dir))
    await camera.start()
    yield camera
    camera.serving = False
    await camera.stop()
