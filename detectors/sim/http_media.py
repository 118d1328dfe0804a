"""The simulated camera's HTTP media: ``/snapshot.jpg`` and the MJPEG ``/stream.mjpg``.

Split from :class:`~detectors.sim.camera.CameraSim`, which owns the state (credentials,
faults, footage) and the HTTP server; this class answers the two media requests the way
a camera does: HTTP Digest (always for snapshots, optional for the stream), a profile
chosen by query, and the ``drop_stream`` fault read afresh while a stream is served.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Final

from aiohttp import web

from detectors.onvif.digest_guard import DigestGuard

if TYPE_CHECKING:
    from detectors.sim.camera import CameraSim

MJPEG_BOUNDARY: Final = "schoolguardframe"
MAIN_PROFILE: Final = "main"
SUB_PROFILE: Final = "sub"


class SimHttpMedia:
    """Snapshot and MJPEG handlers for one :class:`CameraSim`."""

    def __init__(self, camera: CameraSim) -> None:
        self._camera = camera
        self._digest = DigestGuard(camera.hardware, lambda: (camera.username, camera.password))

    def _authorized(self, request: web.Request) -> bool:
        if self._camera.faults.wrong_credentials:
            return False
        return self._digest.accepts(
            request.method, request.raw_path, request.headers.get("Authorization")
        )

    def _unauthorized(self) -> web.Response:
        return web.Response(
            status=401,
            text="authentication required",
            headers={"WWW-Authenticate": self._digest.challenge()},
        )

    def _stream_dropped(self) -> bool:
        """Read the fault afresh (it changes while a stream is being served)."""
        return self._camera.faults.drop_stream

    @staticmethod
    def _requested_profile(request: web.Request) -> str:
        profile = request.query.get("profile", MAIN_PROFILE)
        if profile not in {MAIN_PROFILE, SUB_PROFILE}:
            raise web.HTTPNotFound(text=f"no profile {profile!r}")
        return profile

    async def snapshot(self, request: web.Request) -> web.Response:
        """``GET /snapshot.jpg``: the current frame at the profile's size."""
        profile = self._requested_profile(request)
        if not self._authorized(request):
            return self._unauthorized()
        frame = self._camera.video.latest
        body = await asyncio.to_thread(frame.jpeg, profile == SUB_PROFILE)
        return web.Response(body=body, content_type="image/jpeg")

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """``GET /stream.mjpg``: multipart MJPEG until the client leaves or the fault drops it."""
        with self._camera.answering():
            return await self._serve_stream(request)

    async def _serve_stream(self, request: web.Request) -> web.StreamResponse:
        camera = self._camera
        profile = self._requested_profile(request)
        if camera.stream != "mjpeg":
            raise web.HTTPNotFound(text="this camera streams RTSP (GetStreamUri)")
        if camera.stream_auth and not self._authorized(request):
            return self._unauthorized()
        if self._stream_dropped():
            return web.Response(status=503, text="stream unavailable")
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}",
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        index = -1
        with contextlib.suppress(ConnectionResetError):
            while not self._stream_dropped():
                frame = await camera.video.next_frame(index)
                index = frame.index
                if self._stream_dropped():
                    break
                jpeg = await asyncio.to_thread(frame.jpeg, profile == SUB_PROFILE)
                await response.write(
                    f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
            await response.write_eof()
        return response
