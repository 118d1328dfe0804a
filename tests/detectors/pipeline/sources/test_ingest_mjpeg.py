"""MJPEG: the multipart parser, and fault tests against a real loopback server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from aiohttp import web

from detectors.pipeline.reader import BackoffPolicy, CameraReader, CameraStatus
from detectors.pipeline.sources import MjpegSource, MultipartJpegParser
from detectors.pipeline.sources.mjpeg import boundary_from_content_type

pytestmark = pytest.mark.usefixtures("socket_enabled")

FAST_BACKOFF = BackoffPolicy(initial_s=0.05, factor=2.0, cap_s=0.2, jitter=0.0)


def _jpeg(level: int) -> bytes:
    image = np.full((48, 64, 3), level, np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


GOOD = _jpeg(200)
TRUNCATED = GOOD[: len(GOOD) // 2]
CORRUPT_HEADER = GOOD[:2] + b"\x00" * 40 + GOOD[42:]


async def wait_until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail (not hang) after a generous deadline."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail("condition not reached before the deadline")
        await asyncio.sleep(0.01)


# -- parser ---------------------------------------------------------------------------


def _multipart(parts: list[bytes], *, content_length: bool, crlf_before_boundary: bool) -> bytes:
    out = b""
    for part in parts:
        out += b"--frame\r\nContent-Type: image/jpeg\r\n"
        if content_length:
            out += f"Content-Length: {len(part)}\r\n".encode()
        out += b"\r\n" + part + (b"\r\n" if crlf_before_boundary else b"")
    return out + b"--frame\r\n"


@pytest.mark.parametrize("content_length", [True, False])
@pytest.mark.parametrize("crlf_before_boundary", [True, False])
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_ingest_parser_splits_parts_whatever_the_chunking(
    content_length: bool, crlf_before_boundary: bool, chunk: int
) -> None:
    parts = [GOOD, b"\xff\xd8second\xff\xd9", TRUNCATED]
    stream = b"garbage before the first boundary\r\n" + _multipart(
        parts, content_length=content_length, crlf_before_boundary=crlf_before_boundary
    )
    parser = MultipartJpegParser("frame")
    found: list[bytes] = []
    for start in range(0, len(stream), chunk):
        found.extend(parser.feed(stream[start : start + chunk]))
    assert found == parts


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("multipart/x-mixed-replace; boundary=frame", "frame"),
        ('multipart/x-mixed-replace;boundary="--myboundary"', "myboundary"),
        ("multipart/x-mixed-replace", None),
        ("image/jpeg", None),
    ],
)
def test_ingest_boundary_from_content_type(header: str, expected: str | None) -> None:
    assert boundary_from_content_type(header) == expected


# -- loopback server ------------------------------------------------------------------


class MjpegServer:
    """Serves ``parts`` as MJPEG; ``repeat`` False sends them once and then goes silent."""

    def __init__(self, parts: list[bytes], *, repeat: bool, content_length: bool = False) -> None:
        self.parts = parts
        self.repeat = repeat
        self.content_length = content_length
        self.alive = True
        self.connections = 0
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.transports: list[asyncio.Transport] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=--frame"}
        )
        await response.prepare(request)
        if request.transport is not None:
            self.transports.append(request.transport)
        index = 0
        try:
            while self.alive:
                if index < len(self.parts) or self.repeat:
                    part = self.parts[index % len(self.parts)]
                    length = f"Content-Length: {len(part)}\r\n" if self.content_length else ""
                    head = f"--frame\r\nContent-Type: image/jpeg\r\n{length}\r\n".encode()
                    await response.write(head + part + b"\r\n")
                    index += 1
                await asyncio.sleep(0.02)
        except ConnectionResetError:
            pass
        return response

    async def start(self) -> None:
        self.alive = True
        app = web.Application()
        app.router.add_get("/video.mjpg", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self.runner.addresses[0][1]

    @property
    def url(self) -> str:
        return f"http://viewer:s3cret@127.0.0.1:{self.port}/video.mjpg"

    async def kill(self) -> None:
        """Drop every connection mid-stream and stop listening."""
        self.alive = False
        for transport in self.transports:
            transport.abort()
        self.transports.clear()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


async def test_ingest_mjpeg_server_killed_goes_offline_and_recovers_on_same_port() -> None:
    server = MjpegServer([GOOD], repeat=True, content_length=True)
    await server.start()
    statuses: list[CameraStatus] = []
    reader = CameraReader(
        "hall",
        MjpegSource(server.url, read_timeout_s=2.0),
        timeout_s=0.5,
        backoff=FAST_BACKOFF,
        on_status=statuses.append,
    )
    await reader.start()
    try:
        await wait_until(lambda: reader.status().online and reader.counters().frames_in >= 3)
        item = reader.slot.take()
        assert item is not None
        assert item.frame.image.shape == (48, 64, 3)

        await server.kill()
        await wait_until(lambda: not reader.status().online)
        await wait_until(lambda: reader.counters().reconnects >= 2)
        assert reader.status().reason == "connection refused"

        frames_before = reader.counters().frames_in
        await server.start()  # same port
        await wait_until(
            lambda: reader.status().online and reader.counters().frames_in > frames_before
        )
    finally:
        await reader.stop()
        await server.kill()

    assert statuses[0].online is True
    offline_reasons = [s.reason for s in statuses if not s.online]
    assert "connection refused" in offline_reasons
    assert offline_reasons[-1] == "stopped"
    assert [s.online for s in statuses].count(True) == 2
    assert all("s3cret" not in repr(s) for s in statuses)
    assert "s3cret" not in repr(reader)


async def test_ingest_mjpeg_bad_jpegs_are_counted_then_silence_is_a_stall() -> None:
    # Sent once per connection: 3 good frames, 2 broken ones, then the server goes quiet.
    server = MjpegServer([GOOD, TRUNCATED, GOOD, CORRUPT_HEADER, GOOD], repeat=False)
    await server.start()
    statuses: list[CameraStatus] = []
    reader = CameraReader(
        "gym",
        MjpegSource(server.url, read_timeout_s=5.0),
        timeout_s=0.5,
        backoff=FAST_BACKOFF,
        on_status=statuses.append,
    )
    await reader.start()
    try:
        await wait_until(lambda: reader.counters().stalls >= 1)
        first = reader.counters()
        assert (first.frames_in, first.decode_errors) == (3, 2)
        assert reader.status().reason == "stream stalled"
        # The watchdog reconnects; the new connection delivers the same five parts.
        await wait_until(lambda: reader.counters().frames_in >= 6)
        await wait_until(lambda: reader.counters().decode_errors >= 4)
    finally:
        await reader.stop()
        await server.kill()
    assert server.connections >= 2
    assert reader.counters().reconnects >= 1
    assert "stream stalled" in [s.reason for s in statuses]


async def test_ingest_mjpeg_flipped_bytes_never_crash() -> None:
    flipped = bytearray(GOOD)
    for position in range(len(flipped) // 3, len(flipped) - 4, 97):
        flipped[position] ^= 0xFF
    server = MjpegServer([bytes(flipped), GOOD], repeat=True)
    await server.start()
    reader = CameraReader("lab", MjpegSource(server.url), timeout_s=0.5, backoff=FAST_BACKOFF)
    await reader.start()
    try:
        await wait_until(
            lambda: reader.counters().frames_in + reader.counters().decode_errors >= 10
        )
        assert reader.status().online is True
    finally:
        await reader.stop()
        await server.kill()
    assert reader.counters().frames_in >= 5  # every intact frame got through
