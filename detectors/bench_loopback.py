"""What ``bench --capacity`` runs beside the engine on loopback: Mosquitto and two listeners.

The listeners stand where Home Assistant (WebSocket) and a door controller (MQTT) would,
and note when each alert message arrives, so the benchmark measures frame -> WebSocket and
frame -> MQTT latency through the real engine API and a real broker. Also process
accounting from /proc: CPU seconds and resident memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from detectors.errors import SchoolGuardError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (all threads), or of ``pid``."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    with open("/proc/self/statm", encoding="utf-8") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mosquitto:
    """A Mosquitto broker on 127.0.0.1 for the run (Debian's, installed by scripts/setup)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: asyncio.subprocess.Process | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="sg-bench-mqtt-")

    async def __aenter__(self) -> Mosquitto:
        """Start the broker and wait until it accepts connections."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise SchoolGuardError("mosquitto is not installed: run scripts/setup")
        conf = Path(self._folder.name) / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "-c",
            str(conf),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return self
            await asyncio.sleep(0.05)
        raise SchoolGuardError("mosquitto did not start on loopback")

    async def __aexit__(self, *_: object) -> None:
        """Stop the broker."""
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()
        self._folder.cleanup()


class Arrivals:
    """Alert messages seen by one listener: (arrival wall time, frame time) pairs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[tuple[float, float]] = []

    def note(self, message: dict[str, Any]) -> None:
        """Keep a started/updated change: frame-driven, stamped with the frame's time.

        WebSocket changes carry ``at``; MQTT carries the event itself, whose
        ``started_at``/``updated_at`` is the same frame time.
        """
        change = message.get("change")
        if change not in ("started", "updated"):
            return
        at = message.get("at", message.get(f"{change}_at"))
        if isinstance(at, int | float):
            with self._lock:
                self._seen.append((time.time(), float(at)))

    def latencies_ms(self, since: float) -> list[float]:
        """Frame -> arrival latencies of messages that arrived after ``since``."""
        with self._lock:
            return [(arrived - at) * 1000.0 for arrived, at in self._seen if arrived >= since]


async def listen_websocket(url: str, token: str, arrivals: Arrivals) -> None:
    """Follow the engine's WebSocket feed until cancelled, noting event messages."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if data.get("type") == "event":
                arrivals.note(data)


class MqttListener:
    """A paho subscriber on the engine's events topic (its own network thread)."""

    def __init__(self, port: int, topic: str, arrivals: Arrivals) -> None:
        from paho.mqtt.client import Client
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        self._client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self._topic = topic
        self._arrivals = arrivals
        self._client.on_message = self._on_message
        self._client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with contextlib.suppress(ValueError):
            data = json.loads(message.payload)
            if isinstance(data, dict):
                self._arrivals.note(data)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()
