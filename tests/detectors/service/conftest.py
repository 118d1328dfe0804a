"""A real engine on loopback: real models, a looped file camera, the real API."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from detectors.config import parse_config
from detectors.engine.api import create_app
from detectors.engine.service import Engine
from detectors.zoo.store import ModelStore

TOKEN = "test-token-0123456789"


def engine_config(data_dir: Path, samples: Path) -> dict[str, object]:
    return {
        "engine": {"name": "Test school", "data_dir": str(data_dir)},
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
    engine: Engine
    base: str
    session: aiohttp.ClientSession

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    async def get(self, path: str, **kwargs: object) -> aiohttp.ClientResponse:
        return await self.session.get(self.base + path, headers=self.auth, **kwargs)  # type: ignore[arg-type]

    async def send(self, method: str, path: str, body: object) -> aiohttp.ClientResponse:
        return await self.session.request(method, self.base + path, headers=self.auth, json=body)


@pytest.fixture
async def running_engine(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore, socket_enabled: None
) -> AsyncIterator[RunningEngine]:
    data_dir = tmp_path / "data"
    config = parse_config(engine_config(data_dir, samples_dir))
    engine = Engine(config, data_dir=data_dir, store=model_store)
    await engine.start()
    runner = web.AppRunner(create_app(engine, TOKEN))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        yield RunningEngine(engine, f"http://127.0.0.1:{port}/api/v1", session)
    await runner.cleanup()
    await engine.stop()


@pytest.fixture
def samples_env(samples_dir: Path, model_store: ModelStore) -> dict[str, str]:
    """Environment for a `school-guard serve` subprocess."""
    env = dict(os.environ)
    env["SCHOOL_GUARD_SAMPLES"] = str(samples_dir)
    env["SCHOOL_GUARD_MODEL_CACHE"] = str(model_store.cache_dir)
    if model_store.mirror_dir is not None:
        env["SCHOOL_GUARD_MODEL_MIRROR"] = str(model_store.mirror_dir)
    return env


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(config: Path, port: int) -> list[str]:
    """``school-guard serve`` for a test engine with the test token."""
    return [
        sys.executable,
        "-m",
        "detectors.cli",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
        "--token",
        TOKEN,
    ]
