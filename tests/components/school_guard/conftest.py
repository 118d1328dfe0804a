"""A real school_guard engine on loopback for the integration's tests.

The integration is a client of the engine API only; these fixtures start the real engine
(real models, a looped sample video as camera) and serve its real API on 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.const import DOMAIN
from detectors.zoo.store import ModelStore
from tests.real_engine import ServedEngine, serve_engine

if TYPE_CHECKING:
    from .sg_snapshot_camera import SnapshotCamera

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "integration-test-token-0123456789"
SHUTDOWN_SECONDS = 0.5
"""Restarting only the API leaves the engine's WebSocket handlers waiting for messages;
aiohttp would wait 60 s for them. A short grace period drops those links like a network
outage would, which is what the reconnect tests want."""

RunningEngine = ServedEngine
"""The engine, where its API listens, and a way to restart or stop it mid-test."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/school_guard in every test here."""


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
    running = await serve_engine(
        tmp_path / "engine",
        samples_dir,
        model_store,
        TOKEN,
        name="Lincoln High",
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
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
