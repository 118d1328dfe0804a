"""HTTP MJPEG (``multipart/x-mixed-replace``) cameras.

Cameras are sloppy with this format: some omit ``Content-Length``, some declare the
boundary with its leading dashes, some skip the CRLF before the next boundary. The parser
therefore finds parts by searching for ``--<boundary>`` and uses ``Content-Length`` only
as a shortcut when it is there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Iterator

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

_JPEG_END = b"\xff\xd9"

MAX_PART_BYTES = 16 * 1024 * 1024
"""A part larger than this means a broken stream, not a big picture."""


def boundary_from_content_type(content_type: str) -> str | None:
    """Return the multipart boundary token (without leading dashes), or None."""
    media_type, _, params = content_type.partition(";")
    if not media_type.strip().lower().startswith("multipart/"):
        return None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary":
            token = value.strip().strip('"').removeprefix("--")
            return token or None
    return None


class MultipartJpegParser:
    """Split a multipart byte stream into part bodies, fed one chunk at a time."""

    def __init__(self, boundary: str, *, max_part_bytes: int = MAX_PART_BYTES) -> None:
        self._marker = b"--" + boundary.encode("latin-1")
        self._max_part_bytes = max_part_bytes
        self._buffer = bytearray()
        self._in_part = False
        self._content_length: int | None = None

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Add ``chunk`` and yield every part body it completes."""
        self._buffer += chunk
        while True:
            part = self._next_part()
            if part is None:
                break
            yield part
        if len(self._buffer) > self._max_part_bytes:
            raise SourceOfflineError(OfflineReason.NOT_A_STREAM, "part too large or no boundary")

    def _next_part(self) -> bytes | None:
        if not self._in_part and not self._enter_part():
            return None
        if self._content_length is not None:
            if len(self._buffer) < self._content_length:
                return None
            body = bytes(self._buffer[: self._content_length])
            del self._buffer[: self._content_length]
        else:
            end = self._buffer.find(self._marker)
            if end < 0:
                # Without a length the next boundary ends a part, which would hold each
                # frame back until the next one is sent; a buffer ending in the JPEG
                # end-of-image marker is taken as complete instead.
                if not self._buffer.rstrip(b"\r\n").endswith(_JPEG_END):
                    return None
                end = len(self._buffer)
            body = bytes(self._buffer[:end]).rstrip(b"\r\n")
            del self._buffer[:end]
        self._in_part = False
        return body

    def _enter_part(self) -> bool:
        """Consume the boundary line and the part headers once they are complete."""
        start = self._buffer.find(self._marker)
        if start < 0:
            # Keep a tail that may hold the beginning of a split marker.
            keep = len(self._marker) - 1
            if len(self._buffer) > keep:
                del self._buffer[: len(self._buffer) - keep]
            return False
        headers_at = self._buffer.find(b"\n", start)
        if headers_at < 0:
            return False
        position = headers_at + 1
        content_length: int | None = None
        while True:
            line_end = self._buffer.find(b"\n", position)
            if line_end < 0:
                return False
            line = bytes(self._buffer[position:line_end]).strip()
            position = line_end + 1
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    content_length = int(value.strip())
                except ValueError:
                    content_length = None
        del self._buffer[:position]
        self._content_length = content_length if content_length and content_length > 0 else None
        self._in_part = True
        return True


class MjpegSource:
    """Stream an MJPEG URL with aiohttp, yielding each decoded JPEG.

    ``session`` may be shared by the engine; otherwise one is made per connection.
    """

    def __init__(
        self,
        url: str,
        auth: HttpAuth | None = None,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        chunk_bytes: int = 64 * 1024,
    ) -> None:
        self._url, self._auth = split_url_credentials(url, auth)
        self._name = redact_url(url)
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=open_timeout_s, sock_read=read_timeout_s
        )
        self._session = session
        self._chunk_bytes = chunk_bytes

    @property
    def name(self) -> str:
        """Return the URL with its password redacted."""
        return self._name

    def __repr__(self) -> str:
        """Show the redacted URL only."""
        return f"MjpegSource({self._name!r})"

    async def frames(self) -> AsyncGenerator[Frame | None]:
        """Connect and yield frames until the stream breaks (then raise)."""
        session = self._session or aiohttp.ClientSession()
        try:
            async with contextlib.aclosing(self._stream(session)) as stream:
                async for frame in stream:
                    yield frame
        finally:
            if self._session is None:
                await session.close()

    async def _stream(self, session: aiohttp.ClientSession) -> AsyncGenerator[Frame | None]:
        try:
            async with open_with_auth(
                session, "GET", self._url, self._auth, timeout=self._timeout
            ) as response:
                self._check_response(response)
                boundary = boundary_from_content_type(response.headers.get("Content-Type", ""))
                if boundary is None:
                    raise SourceOfflineError(OfflineReason.NOT_A_STREAM, self._name)
                parser = MultipartJpegParser(boundary)
                async for chunk in response.content.iter_chunked(self._chunk_bytes):
                    for part in parser.feed(chunk):
                        image = decode_jpeg(part)
                        yield None if image is None else Frame(image=image, timestamp=time.time())
        except SourceOfflineError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise offline_error_for(error, self._name) from None
        raise SourceOfflineError(OfflineReason.CONNECTION_LOST, f"{self._name}: stream ended")

    def _check_response(self, response: aiohttp.ClientResponse) -> None:
        if response.status in {401, 403}:
            raise SourceOfflineError(OfflineReason.AUTH_FAILED, self._name)
        if response.status == 404:
            raise SourceOfflineError(OfflineReason.NOT_FOUND, self._name)
        if response.status != 200:
            raise SourceOfflineError(OfflineReason.HTTP_ERROR, f"{response.status} {self._name}")
