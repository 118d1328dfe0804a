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

from detectors.engine.service import Engine
from detectors.zoo.store import ModelStore
from tests.real_engine import ServedEngine, engine_config, serve_engine

__all__ = ["TOKEN", "RunningEngine", "engine_config"]

TOKEN = "test-token-0123456789"


@dataclass
class RunningEngine:
    """The served engine and a client session with the token."""

    served: ServedEngine
    session: aiohttp.ClientSession

    @property
    def engine(self) -> Engine:
        return self.served.engine

    @property
    def base(self) -> str:
        return self.served.base

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    async def get(self, path: str, **kwargs: object) -> aiohttp.ClientResponse:
        return await self.session.get(self.base + path, headers=self.auth, **kwargs)  # type: ignore[arg-type]

    async def send(self, method: str, path: str, body: object) -> aiohttp.ClientResponse:
        return await self.session.request(method, self.base + path, headers=self.auth, json=body)


@pytest.fixture
async def running_engine(
    tmp_path: Path,
    samples_dir: Path,
    model_store: ModelStore,
    socket_enabled: None,
    request: pytest.FixtureRequest,
) -> AsyncIterator[RunningEngine]:
    """The engine on loopback; ``@pytest.mark.media_folder_tmp`` makes ``tmp_path`` the
    folder API file cameras may come from (the samples folder otherwise)."""
    media = tmp_path if request.node.get_closest_marker("media_folder_tmp") else None
    served = await serve_engine(
        tmp_path / "data", samples_dir, model_store, TOKEN, media_folder=media
    )
    async with aiohttp.ClientSession() as session:
        yield RunningEngine(served, session)
    await served.stop()


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
