"""A real engine serving its real API on loopback, for every suite that needs one.

Real models (the cache scripts/setup filled), one camera looping the sample video, CPU
f32 so scores do not depend on the host. The engine tests, the integration's tests, the
MQTT tests and the contract test all start it through :func:`serve_engine`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from detectors.config import parse_config
from detectors.engine.api import create_app
from detectors.engine.service import Engine
from detectors.zoo.store import ModelStore


def engine_config(
    data_dir: Path,
    samples: Path,
    *,
    name: str = "Test school",
    media_folder: Path | None = None,
    camera_networks: list[str] | None = None,
) -> dict[str, object]:
    """One looped-file camera ("plaza"), detector only, CPU f32 (host-independent scores).

    The samples folder is the media folder (unless ``media_folder`` says otherwise), so
    tests may add file cameras through the API. ``camera_networks`` replaces the default
    (loopback and the private ranges).
    """
    return {
        "engine": {"name": name, "data_dir": str(data_dir)},
        "inference": {"device": "CPU", "precision": "f32", "performance": "throughput"},
        "models": {"detector": "nanodet-m-416", "pose": None},
        # Tests add file cameras through the API from the samples folder.
        "security": {"media_folder": str(media_folder or samples)}
        | ({} if camera_networks is None else {"camera_networks": camera_networks}),
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
class ServedEngine:
    """The started engine, where its API listens, and how to restart or stop it mid-test."""

    engine: Engine
    runner: web.AppRunner
    host: str
    port: int
    token: str
    shutdown_timeout: float = 60.0
    stopped: bool = False

    @property
    def engine_id(self) -> str:
        """The engine's id (the config entry's unique id in Home Assistant)."""
        return self.engine.id

    @property
    def base(self) -> str:
        """The API's root URL."""
        return f"http://{self.host}:{self.port}/api/v1"

    async def restart_api(self, token: str | None = None) -> None:
        """Drop every client and serve the API again on the same port (engine keeps running)."""
        await self.runner.cleanup()
        self.runner = await _serve(self.engine, token or self.token, self.shutdown_timeout)
        await web.TCPSite(self.runner, self.host, self.port).start()

    async def stop(self) -> None:
        """Stop the engine (clients see its cameras stop), then stop serving (idempotent)."""
        if self.stopped:
            return
        self.stopped = True
        await self.engine.stop()
        await self.runner.cleanup()


async def _serve(engine: Engine, token: str, shutdown_timeout: float) -> web.AppRunner:
    runner = web.AppRunner(create_app(engine, token), shutdown_timeout=shutdown_timeout)
    await runner.setup()
    return runner


async def serve_engine(
    data_dir: Path,
    samples: Path,
    store: ModelStore,
    token: str,
    *,
    name: str = "Test school",
    shutdown_timeout: float = 60.0,
    port: int = 0,
    media_folder: Path | None = None,
    camera_networks: list[str] | None = None,
    clock: Callable[[], float] | None = None,
) -> ServedEngine:
    """Start the engine of :func:`engine_config`; serve it on ``port`` (0: a free one).

    ``clock`` replaces the engine's wall clock (a test that needs a known timeline)."""
    engine = Engine(
        parse_config(
            engine_config(
                data_dir,
                samples,
                name=name,
                media_folder=media_folder,
                camera_networks=camera_networks,
            )
        ),
        data_dir=data_dir,
        store=store,
        clock=clock or time.time,
    )
    await engine.start()
    runner = await _serve(engine, token, shutdown_timeout)
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return ServedEngine(engine, runner, "127.0.0.1", port, token, shutdown_timeout)
