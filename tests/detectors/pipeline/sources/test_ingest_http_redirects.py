"""HTTP camera sources never follow a redirect: a camera could send the engine anywhere.

A real aiohttp server on 127.0.0.1 answers every request with a redirect to a canary
listener on 127.0.0.2 (loopback too, so nothing leaves the machine); the canary counts
connections, and must count none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from detectors.http_auth import DigestAuth
from detectors.pipeline.sources import MjpegSource, OfflineReason, SnapshotSource
from detectors.pipeline.sources.base import SourceOfflineError

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def redirecting() -> AsyncIterator[tuple[str, list[int]]]:
    """A camera that redirects everything to a canary; yields its base URL and the count."""
    seen = [0]

    async def accepted(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen[0] += 1
        writer.close()

    canary = await asyncio.start_server(accepted, "127.0.0.2", 0)
    target = f"http://127.0.0.2:{canary.sockets[0].getsockname()[1]}/meta-data"

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound(target)

    app = web.Application()
    app.router.add_get("/{tail:.*}", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()
    canary.close()
    await canary.wait_closed()


@pytest.mark.parametrize("auth", [None, DigestAuth("admin", "s3cret")])
async def test_a_snapshot_redirect_is_an_http_error_and_is_not_followed(
    redirecting: tuple[str, list[int]], auth: DigestAuth | None
) -> None:
    base, seen = redirecting
    source = SnapshotSource(f"{base}/snap.jpg", auth)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SourceOfflineError) as refused:
            await source.fetch(session)
    assert refused.value.reason is OfflineReason.HTTP_ERROR
    assert "302" in str(refused.value)
    assert seen == [0]


async def test_an_mjpeg_redirect_is_an_http_error_and_is_not_followed(
    redirecting: tuple[str, list[int]],
) -> None:
    base, seen = redirecting
    source = MjpegSource(f"{base}/video.mjpg", None)
    with pytest.raises(SourceOfflineError) as refused:
        await anext(source.frames())
    assert refused.value.reason is OfflineReason.HTTP_ERROR
    assert seen == [0]
