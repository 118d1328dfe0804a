"""Run inside a private network namespace: an ONVIF camera that is not ours, end to end.

``ipycam`` (PyPI, an independent pure-Python virtual IP camera with its own ONVIF, WS-
Discovery and RTSP server, fed by ffmpeg) plays the sample footage. This driver finds it
by WS-Discovery, probes it, then runs ``school-guard serve`` with it as an ONVIF camera and
waits until the engine analyses its stream and sees people. It prints one JSON line; the
test that starts it asserts on it. ipycam joins the WS-Discovery multicast group, which is
why this runs only inside ``unshare -n``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from detectors.onvif.discovery import discover
from detectors.onvif.probe import probe

ONVIF_PORT, RTSP_PORT, WEB_PORT, API_PORT = 18080, 18554, 18081, 18765
TOKEN = "interop-token-0123456789"
CAMERA = {
    "name": "Gym Hallway",
    "local_ip": "127.0.0.1",
    "onvif_port": ONVIF_PORT,
    "rtsp_port": RTSP_PORT,
    "web_port": WEB_PORT,
    "username": "admin",
    "password": "interop-pw",
    "main_width": 640,
    "main_height": 480,
    "main_fps": 10,
    "main_bitrate": "1M",
    "sub_width": 320,
    "sub_height": 240,
    "sub_fps": 10,
    "sub_bitrate": "1M",
    "hw_accel": "cpu",
    "show_timestamp": False,
}


async def wait_port(port: int, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def engine_config(data_dir: Path) -> dict[str, Any]:
    return {
        "engine": {"name": "Interop school", "data_dir": str(data_dir)},
        "api": {"host": "127.0.0.1", "port": API_PORT},
        "inference": {"device": "CPU", "precision": "f32"},
        "models": {"detector": "nanodet-m-416", "pose": None},
        "cameras": [
            {
                "id": "gym-hallway",
                "name": "Gym hallway",
                "source": {
                    "type": "onvif",
                    "host": "127.0.0.1",
                    "port": ONVIF_PORT,
                    "username": CAMERA["username"],
                    "password": CAMERA["password"],
                },
                "detect_fps": 5,
                "timeout_seconds": 15,
                "rules": {"crowd": {"max_people": 50}},
            }
        ],
    }


async def watch_engine(timeout: float) -> dict[str, Any]:
    """Poll the camera until it has analysed frames with people in them."""
    url = f"http://127.0.0.1:{API_PORT}/api/v1/cameras/gym-hallway"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + timeout
    best_people = 0
    last: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url, headers=headers) as answer:
                    if answer.status == 200:
                        last = await answer.json()
                        best_people = max(best_people, int(last.get("person_count") or 0))
                        analysed = int((last.get("stats") or {}).get("analysed", 0))
                        if last["status"]["online"] and analysed >= 25 and best_people >= 2:
                            break
            await asyncio.sleep(1.0)
    return {"camera": last, "most_people": best_people}


async def main(video: Path, interop_python: str, school_guard: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="sg-ipycam-"))
    (work / "camera_config.json").write_text(json.dumps(CAMERA))
    camera = subprocess.Popen(
        [
            interop_python,
            "-m",
            "ipycam",
            "--config",
            str(work / "camera_config.json"),
            "--source",
            str(video),
            "--log-level",
            "WARNING",
        ],
        cwd=work,
        stdout=(work / "ipycam.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    engine = None
    try:
        await wait_port(ONVIF_PORT, 90, camera, work / "ipycam.log")
        found = await discover([("127.0.0.1", 3702)], multicast=False, timeout=2.0)
        probed = await probe("127.0.0.1", ONVIF_PORT, "admin", str(CAMERA["password"]))
        (work / "engine.yaml").write_text(yaml.safe_dump(engine_config(work / "data")))
        engine = subprocess.Popen(
            [school_guard, "serve", "--config", str(work / "engine.yaml"), "--token", TOKEN],
            stdout=(work / "engine.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        await wait_port(API_PORT, 120, engine, work / "engine.log")
        seen = await watch_engine(120)
        result = {
            "discovered": [(c.name, c.host, c.port) for c in found],
            "device": [probed.device.manufacturer, probed.device.model],
            "profiles": [
                (p.name, p.codec, p.width, p.height, p.stream_kind) for p in probed.profiles
            ],
            **seen,
            "engine_log_has_password": str(CAMERA["password"]) in (work / "engine.log").read_text(),
        }
        print(json.dumps(result), flush=True)
    finally:
        for process in (engine, camera):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
