"""Start, stop and restart GStreamer's RTSP server (a helper process) from the engine's venv.

The server itself is :mod:`detectors.sim.gst_rtsp_helper`, run by Debian's ``python3``
because only that interpreter has PyGObject. This class owns the process: it starts it
with a JSON spec, waits for the line that says it listens (and on which port), keeps the
helper's stderr for error messages, and stops it by closing its stdin (then SIGTERM,
then SIGKILL), so no helper outlives its owner. ``restart`` brings a stopped server back
on the same port, which is how tests and the benchmark play a camera that reboots.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import quote

from detectors.errors import MediaError
from detectors.sim.media import Codec

HELPER = Path(__file__).with_name("gst_rtsp_helper.py")
PYTHON_ENV = "SCHOOL_GUARD_GST_PYTHON"
DEFAULT_PYTHON = "/usr/bin/python3"
SETUP_HINT = (
    "GStreamer's RTSP server is needed: run scripts/setup (Debian packages python3-gi, "
    "gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-base/good/bad)"
)


_LOGGER = logging.getLogger(__name__)
START_ATTEMPTS = 3


class HelperDiedError(MediaError):
    """The helper process ended before it said whether it serves."""


@dataclass(frozen=True, slots=True)
class RtspMount:
    """One stream the server offers: ``rtsp://host:port<path>`` serves ``file``."""

    path: str
    file: Path
    codec: Codec = "h264"

    def to_json(self) -> dict[str, str]:
        """The mount as the helper's spec wants it."""
        return {"path": self.path, "file": str(self.file), "codec": self.codec}


def gst_python() -> str:
    """The interpreter that has PyGObject: ``$SCHOOL_GUARD_GST_PYTHON`` or Debian's."""
    return os.environ.get(PYTHON_ENV) or shutil.which(DEFAULT_PYTHON) or DEFAULT_PYTHON


class RtspServerProcess:
    """GStreamer's RTSP server in a helper process; ``async with`` starts and stops it."""

    def __init__(
        self,
        mounts: list[RtspMount],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str | None = None,
        password: str | None = None,
        start_timeout_s: float = 20.0,
    ) -> None:
        if not mounts:
            raise MediaError("an RTSP server needs at least one mount")
        for mount in mounts:
            if not mount.path.startswith("/"):
                raise MediaError(f"mount path must start with '/', got {mount.path!r}")
            if not mount.file.is_file():
                raise MediaError(f"RTSP mount {mount.path}: file not found: {mount.file}")
        self.mounts = list(mounts)
        self.host = host
        self._requested_port = port
        self._port = 0
        self.username = username
        self.password = password
        self._start_timeout_s = start_timeout_s
        self._process: asyncio.subprocess.Process | None = None
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._stderr_task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start the helper and wait until it serves; raise MediaError when it cannot.

        A helper that dies before it says anything (GStreamer aborting while it prepares
        the mounts, seen under heavy load) is started again, up to ``START_ATTEMPTS``
        times; a helper that says why it cannot start is not.
        """
        for attempt in range(START_ATTEMPTS):
            try:
                await self._start_once()
                return
            except HelperDiedError:
                if attempt == START_ATTEMPTS - 1:
                    raise
                _LOGGER.warning("RTSP server helper died while starting; starting it again")

    async def _start_once(self) -> None:
        if self._process is not None:
            return
        port = self._port or self._requested_port
        spec: dict[str, object] = {
            "host": self.host,
            "port": port,
            "mounts": [m.to_json() for m in self.mounts],
        }
        if self.username:
            spec |= {"username": self.username, "password": self.password or ""}
        try:
            process = await asyncio.create_subprocess_exec(
                gst_python(),
                str(HELPER),
                "--spec",
                json.dumps(spec),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            raise MediaError(f"cannot start {gst_python()}: {error}; {SETUP_HINT}") from None
        self._process = process
        self._stderr_tail.clear()
        assert process.stderr is not None
        self._stderr_task = asyncio.create_task(self._keep_stderr(process.stderr))
        try:
            self._port = await self._wait_ready(process)
        except BaseException:
            await self.stop()
            raise

    async def _wait_ready(self, process: asyncio.subprocess.Process) -> int:
        assert process.stdout is not None
        try:
            async with asyncio.timeout(self._start_timeout_s):
                line = await process.stdout.readline()
        except TimeoutError:
            raise MediaError(
                f"the RTSP server did not start within {self._start_timeout_s:g} s"
            ) from None
        try:
            answer = json.loads(line) if line else {}
        except ValueError:
            answer = {}
        if answer.get("ready") is True and isinstance(answer.get("port"), int):
            return int(answer["port"])
        await asyncio.sleep(0.1)  # let stderr arrive for the message
        detail = answer.get("error") or " | ".join(self._stderr_tail) or "no output"
        if "error" not in answer:  # it never said why it cannot serve: it died
            raise HelperDiedError(f"the RTSP server helper died while starting: {detail}")
        if "gi" in detail and ("No module" in detail or "Namespace" in detail):
            raise MediaError(f"the RTSP server cannot start: {detail}; {SETUP_HINT}")
        raise MediaError(f"the RTSP server cannot start: {detail}")

    async def _keep_stderr(self, stream: asyncio.StreamReader) -> None:
        """Drain the helper's stderr (so it never blocks on a full pipe), keep its tail."""
        while line := await stream.readline():
            self._stderr_tail.append(line.decode(errors="replace").rstrip())

    async def stop(self) -> None:
        """Stop the helper: close its stdin, then SIGTERM, then SIGKILL; safe to repeat."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            for send in (None, process.terminate, process.kill):
                if send is not None:
                    with contextlib.suppress(ProcessLookupError):
                        send()
                try:
                    await asyncio.wait_for(process.wait(), 3.0)
                    break
                except TimeoutError:
                    continue
        await process.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
            self._stderr_task = None
        if process.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                await process.stdin.wait_closed()

    async def restart(self) -> None:
        """Stop and start again on the same port (a camera's streaming service rebooting)."""
        await self.stop()
        await self.start()

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the server."""
        await self.stop()

    # -- addresses -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Return whether the helper process is alive."""
        return self._process is not None and self._process.returncode is None

    @property
    def port(self) -> int:
        """Return the port the server listens on (0 before the first start)."""
        return self._port

    @property
    def pid(self) -> int | None:
        """Return the helper's process id while it runs (for CPU accounting)."""
        return self._process.pid if self._process is not None else None

    def url(self, path: str, *, credentials: bool = False) -> str:
        """Return the stream URL of ``path``, with the username and password if asked."""
        userinfo = ""
        if credentials and self.username:
            user = quote(self.username, safe="")
            secret = quote(self.password or "", safe="")
            userinfo = f"{user}:{secret}@"
        return f"rtsp://{userinfo}{self.host}:{self._port}{path}"
