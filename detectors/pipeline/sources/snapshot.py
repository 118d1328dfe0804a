"""Cameras polled for single JPEG snapshots.

The fallback for cameras whose RTSP is broken or whose stream costs too much: a few
pictures a second are plenty for the rules, and the request is cheap for the camera.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable

import aiohttp

from detectors.http_auth import HttpAuth, open_with_auth
from detectors.pipeline.sources.base import (
    Frame,
    OfflineReason,
    SourceOfflineError,
    decode_jpeg,
    redact_url,
)
from detectors.pipeline.sources.http_common import offline_error_for, split_url_credentials

MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024


class SnapshotSource:
    """Poll a JPEG URL every ``interval_s`` seconds (Basic or Digest auth)."""

    def __init__(
        self,
        url: str,
        auth: HttpAuth | None = None,
        interval_s: float = 1.0,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url, self._auth = split_url_credentials(url, auth)
        self._name = redact_url(url)
        self._interval_s = interval_s
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=open_timeout_s, sock_read=read_timeout_s
        )
        self._session = session
        self._clock = clock

    @property
    def name(self) -> str:
        """Return the URL with its password redacted."""
        return self._name

    def __repr__(self) -> str:
        """Show the redacted URL only."""
        return f"SnapshotSource({self._name!r})"

    async def frames(self) -> AsyncGenerator[Frame | None]:
        """Yield one frame per poll until a request fails (then raise)."""
        session = self._session or aiohttp.ClientSession()
        try:
            while True:
                started = self._clock()
                yield await self.fetch(session)
                delay = self._interval_s - (self._clock() - started)
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            if self._session is None:
                await session.close()

    async def fetch(self, session: aiohttp.ClientSession) -> Frame | None:
        """Fetch and decode one snapshot; None when its JPEG is broken."""
        try:
            async with open_with_auth(
                session, "GET", self._url, self._auth, timeout=self._timeout
            ) as response:
                if response.status in {401, 403}:
                    raise SourceOfflineError(OfflineReason.AUTH_FAILED, self._name)
                if response.status == 404:
                    raise SourceOfflineError(OfflineReason.NOT_FOUND, self._name)
                if response.status != 200:
                    raise SourceOfflineError(
                        OfflineReason.HTTP_ERROR, f"{response.status} {self._name}"
                    )
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > MAX_SNAPSHOT_BYTES:
                        raise SourceOfflineError(OfflineReason.HTTP_ERROR, "snapshot too large")
        except SourceOfflineError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise offline_error_for(error, self._name) from None
        image = decode_jpeg(bytes(body))
        return None if image is None else Frame(image=image, timestamp=time.time())
