"""`school-guard serve` as a process: SIGTERM, kill -9 and restart with the log intact."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.detectors.engine.conftest import TOKEN, free_port, serve_command
from tests.real_engine import engine_config

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _start(config: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        serve_command(config, port), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


async def _wait_up(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with session.get(base + "/health", headers=_auth()) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    pytest.fail("engine did not come up")


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_kill_9_keeps_the_log_and_clients_resume_without_gaps(
    tmp_path: Path, samples_dir: Path, samples_env: dict[str, str]
) -> None:
    config = tmp_path / "engine.yaml"
    config.write_text(yaml.safe_dump(engine_config(tmp_path / "data", samples_dir)))
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            process = _start(config, port, samples_env)
            try:
                await _wait_up(session, base)
                async with session.post(
                    base + "/test_alert",
                    headers=_auth(),
                    json={"camera_id": "plaza", "rule": "person_down", "seconds": 600},
                ) as resp:
                    started = await resp.json()
                assert started["change"] == "started"
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            process = _start(config, port, samples_env)
            try:
                await _wait_up(session, base)
                async with session.get(
                    base + f"/events/{started['event_id']}", headers=_auth()
                ) as resp:
                    event = await resp.json()
                assert event["state"] == "ended"
                assert event["end_reason"] == "engine_restart"
                assert event["drill"] is True
                url = base + f"/ws?since={started['cursor']}"
                async with session.ws_connect(url, headers=_auth()) as ws:
                    while True:
                        message = await ws.receive_json(timeout=10)
                        if message["type"] == "event":
                            break
                assert (message["event_id"], message["change"]) == (started["event_id"], "ended")
                assert message["cursor"] == started["cursor"] + 1
            finally:
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=60) == 0, "SIGTERM shuts the engine down cleanly"
                output = process.stdout.read().decode() if process.stdout else ""
                assert TOKEN not in output, "the token never reaches the logs"

    asyncio.run(scenario())
    assert (tmp_path / "data" / "token").exists() is False, "--token given: nothing written"
