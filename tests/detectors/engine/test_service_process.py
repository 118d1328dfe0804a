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


async def _wait_up(session: aiohttp.ClientSession, base: str, token: str = TOKEN) -> None:
    for _ in range(300):
        try:
            async with session.get(base + "/health", headers=_auth(token)) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    pytest.fail("engine did not come up")


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _config(tmp_path: Path, samples_dir: Path) -> tuple[Path, int]:
    """The test engine's configuration file, and a free port for it."""
    config = tmp_path / "engine.yaml"
    config.write_text(yaml.safe_dump(engine_config(tmp_path / "data", samples_dir)))
    return config, free_port()


def test_a_created_token_is_never_printed_only_its_file(
    tmp_path: Path, samples_dir: Path, samples_env: dict[str, str]
) -> None:
    """First start without --token: the output names the token file, never the token."""
    config, port = _config(tmp_path, samples_dir)
    command = serve_command(config, port)
    command = command[: command.index("--token")]
    env = {key: value for key, value in samples_env.items() if key != "SCHOOL_GUARD_TOKEN"}
    token_file = tmp_path / "data" / "token"

    async def scenario() -> str:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(300):
                    if token_file.exists() and token_file.read_text().strip():
                        break
                    await asyncio.sleep(0.2)
                token = token_file.read_text().strip()
                await _wait_up(session, f"http://127.0.0.1:{port}/api/v1", token)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        return process.stdout.read().decode() if process.stdout else ""

    output = asyncio.run(scenario())
    token = token_file.read_text().strip()
    assert len(token) >= 40
    assert token not in output, "the created token never reaches the engine's output"
    assert str(token_file) in output, "the output says where the token is"


def test_kill_9_keeps_the_log_and_clients_resume_without_gaps(
    tmp_path: Path, samples_dir: Path, samples_env: dict[str, str]
) -> None:
    config, port = _config(tmp_path, samples_dir)
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
