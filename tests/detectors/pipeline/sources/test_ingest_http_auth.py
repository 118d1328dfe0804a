"""Digest auth: RFC 7616 test vectors and a real loopback server that checks answers."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import cv2
import numpy as np
import pytest
from aiohttp import web

from detectors.http_auth import DigestAuth, DigestChallenge, open_with_auth
from detectors.pipeline.reader import BackoffPolicy, CameraReader, CameraStatus
from detectors.pipeline.sources import OfflineReason, SnapshotSource, SourceOfflineError

# Real loopback servers: lift the Home Assistant plugin's socket block for this module.
pytestmark = pytest.mark.usefixtures("socket_enabled")

RFC_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def _response_of(header: str) -> str:
    match = re.search(r'response="([0-9a-f]+)"', header)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_ingest_digest_matches_rfc7616_examples(algorithm: str, expected: str) -> None:
    challenge = DigestChallenge.parse(
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC_NONCE}", opaque="{RFC_OPAQUE}"'
    )
    assert challenge is not None
    assert challenge.qop == ("auth", "auth-int")
    auth = DigestAuth("Mufasa", "Circle of Life")
    header = auth.answer(challenge, "GET", "/dir/index.html", nonce_count=1, cnonce=RFC_CNONCE)
    assert _response_of(header) == expected
    assert "nc=00000001" in header
    assert f'opaque="{RFC_OPAQUE}"' in header


def test_ingest_digest_parse_rejects_basic_and_repr_hides_password() -> None:
    assert DigestChallenge.parse('Basic realm="cam"') is None
    assert repr(DigestAuth("admin", "s3cret")) == "DigestAuth(username='admin', password='***')"


class DigestServer:
    """A loopback server guarding /snap.jpg with Digest, verified independently here."""

    def __init__(self, *, algorithm: str, password: str, jpeg: bytes) -> None:
        self.algorithm = algorithm
        self.password = password
        self.jpeg = jpeg
        self.realm = "camera"
        self.nonce = os.urandom(8).hex()
        self.requests = 0
        self.challenges = 0
        self.seen_nc: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    def _hash(self, text: str) -> str:
        name = {"MD5": "md5", "SHA-256": "sha256"}[self.algorithm]
        return hashlib.new(name, text.encode()).hexdigest()

    def _valid(self, header: str, method: str) -> bool:
        if not header.startswith("Digest "):
            return False
        fields = {
            key: (quoted if quoted else bare)
            for key, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header)
        }
        if fields.get("nonce") != self.nonce or fields.get("qop") != "auth":
            return False
        ha1 = self._hash(f"{fields['username']}:{self.realm}:{self.password}")
        ha2 = self._hash(f"{method}:{fields['uri']}")
        expected = self._hash(f"{ha1}:{self.nonce}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        self.seen_nc.append(fields["nc"])
        return bool(fields["response"] == expected and fields["username"] == "admin")

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self._valid(request.headers.get("Authorization", ""), request.method):
            return web.Response(body=self.jpeg, content_type="image/jpeg")
        self.challenges += 1
        challenge = (
            f'Digest realm="{self.realm}", qop="auth", algorithm={self.algorithm}, '
            f'nonce="{self.nonce}", opaque="xyz"'
        )
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/snap.jpg", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/snap.jpg?channel=1"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def _jpeg() -> bytes:
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (0, 0, 255)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data.tobytes())


@pytest.fixture(params=["MD5", "SHA-256"])
async def digest_server(request: pytest.FixtureRequest) -> AsyncIterator[DigestServer]:
    server = DigestServer(algorithm=request.param, password="right", jpeg=_jpeg())
    await server.start()
    yield server
    await server.stop()


async def test_ingest_digest_retries_once_then_reuses_nonce(digest_server: DigestServer) -> None:
    auth = DigestAuth("admin", "right")
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with open_with_auth(session, "GET", digest_server.url, auth) as response:
                assert response.status == 200
                assert await response.read() == digest_server.jpeg
    # one challenge, then three answered requests with a growing nonce count
    assert digest_server.challenges == 1
    assert digest_server.requests == 4
    assert digest_server.seen_nc == ["00000001", "00000002", "00000003"]


async def test_ingest_snapshot_source_decodes_through_digest(digest_server: DigestServer) -> None:
    source = SnapshotSource(digest_server.url, DigestAuth("admin", "right"), interval_s=0.0)
    async with aiohttp.ClientSession() as session:
        frame = await source.fetch(session)
    assert frame is not None
    assert frame.image.shape == (48, 64, 3)
    blue, _green, red = (int(v) for v in frame.image[24, 8])
    assert red > 200
    assert blue < 50


async def test_ingest_snapshot_wrong_digest_password_is_auth_failed(
    digest_server: DigestServer,
) -> None:
    source = SnapshotSource(digest_server.url, DigestAuth("admin", "wrong"), interval_s=0.0)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SourceOfflineError) as caught:
            await source.fetch(session)
    assert caught.value.reason is OfflineReason.AUTH_FAILED
    assert "wrong" not in str(caught.value)
    assert digest_server.challenges == 2  # the first 401 and the refused answer, no loop


async def _wait_until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail("condition not reached before the deadline")
        await asyncio.sleep(0.01)


async def test_ingest_reader_wrong_digest_password_goes_offline(
    digest_server: DigestServer,
) -> None:
    statuses: list[CameraStatus] = []
    reader = CameraReader(
        "office",
        SnapshotSource(digest_server.url, DigestAuth("admin", "wrong"), interval_s=0.05),
        timeout_s=0.5,
        backoff=BackoffPolicy(initial_s=0.05, cap_s=0.1, jitter=0.0),
        on_status=statuses.append,
    )
    await reader.start()
    try:
        await _wait_until(lambda: reader.counters().reconnects >= 1)
        assert reader.status().reason == "authentication failed"
    finally:
        await reader.stop()
    assert [s.reason for s in statuses] == ["authentication failed", "stopped"]
    assert reader.counters().frames_in == 0


async def test_ingest_reader_snapshot_polling_online(digest_server: DigestServer) -> None:
    reader = CameraReader(
        "office",
        SnapshotSource(digest_server.url, DigestAuth("admin", "right"), interval_s=0.05),
        timeout_s=2.0,
    )
    await reader.start()
    try:
        await _wait_until(lambda: reader.counters().frames_in >= 3)
        assert reader.status().online is True
    finally:
        await reader.stop()
    assert digest_server.challenges == 1  # the nonce was reused for every later poll
