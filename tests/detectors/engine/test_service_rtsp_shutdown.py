"""`school-guard serve` reading RTSP cameras stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest
import yaml

from detectors.sim.rtsp_server import RtspServerProcess
from tests.detectors.conftest import RTSP_PASSWORD, RTSP_USER
from tests.detectors.engine.conftest import TOKEN, free_port, serve_command

pytestmark = pytest.mark.usefixtures("socket_enabled")
CAMERAS = 6


def _config(data_dir: Path, server: RtspServerProcess) -> dict[str, object]:
    cameras = [
        {
            "id": f"cam-{index}",
            "name": f"Camera {index}",
            "source": {
                "type": "rtsp",
                "url": server.url("/h264" if index % 2 else "/h265"),
                "username": RTSP_USER,
                "password": RTSP_PASSWORD,
            },
            "detect_fps": 2,
            "decode": "cpu",
        }
        for index in range(CAMERAS)
    ]
    return {
        "engine": {"name": "Shutdown test", "data_dir": str(data_dir)},
        "inference": {"device": "CPU", "precision": "f32"},
        "models": {"detector": "nanodet-m-416", "pose": None},
        "cameras": cameras,
    }


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_serve_joins_every_reader_on_a_stop_signal(
    tmp_path: Path,
    rtsp_server: RtspServerProcess,
    samples_env: dict[str, str],
    stop_signal: signal.Signals,
) -> None:
    config = tmp_path / "engine.yaml"
    config.write_text(yaml.safe_dump(_config(tmp_path / "data", rtsp_server)))
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    process = await asyncio.create_subprocess_exec(
        *serve_command(config, port),
        env=samples_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = b""
    try:
        async with aiohttp.ClientSession() as session:
            online = 0
            for _ in range(600):
                await asyncio.sleep(0.2)
                try:
                    async with session.get(
                        base + "/cameras", headers={"Authorization": f"Bearer {TOKEN}"}
                    ) as response:
                        cameras = await response.json()
                except aiohttp.ClientConnectionError:
                    continue
                online = sum(c["status"]["online"] and c["stats"]["analysed"] > 0 for c in cameras)
                if online == CAMERAS:
                    break
            assert online == CAMERAS
        process.send_signal(stop_signal)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "FATAL" not in text
    assert "Traceback" not in text
    assert "every camera reader has stopped" in text
    assert RTSP_PASSWORD not in text
