"""The alert's evidence picture: fetched once from the camera's sharp source when it starts.

The alert itself is stored and sent at once with the analysed (sub-stream) frame, so
fetching evidence never delays it; the sharp picture replaces that snapshot a moment
later. Boxes found on the analysed frame are scaled to the evidence picture: both show
the same view, taken a fraction of a second apart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import aiohttp

from detectors.config import CameraConfig
from detectors.engine.sources import http_auth_for, with_credentials
from detectors.engine.stream_roles import CameraStreams
from detectors.pipeline.sources import Image, MjpegSource, RtspSource, SnapshotSource
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.types import BoxXYXY


def scale_boxes(
    boxes: Sequence[BoxXYXY], source: tuple[int, int], target: tuple[int, int]
) -> list[BoxXYXY]:
    """Boxes in ``source`` pixels (width, height) moved to ``target`` pixels."""
    sx, sy = target[0] / source[0], target[1] / source[1]
    return [(x1 * sx, y1 * sy, x2 * sx, y2 * sy) for x1, y1, x2, y2 in boxes]


def _grab_rtsp(url: str, camera: CameraConfig, hardware: HardwareDecoders | None) -> Image | None:
    """Open the stream, decode its first complete picture, close (runs in a thread)."""
    source = RtspSource(
        url,
        open_timeout_s=camera.timeout_seconds,
        read_timeout_s=camera.timeout_seconds,
        decode=camera.decode,
        hardware=hardware,
    )
    source.open()
    try:
        for _ in range(300):  # a key frame comes within one GOP; undecodable ones are None
            frame = source.read()
            if frame is not None:
                return frame.image
    finally:
        source.close()
    return None


async def fetch_evidence(
    camera: CameraConfig,
    streams: CameraStreams,
    *,
    session: aiohttp.ClientSession | None = None,
    hardware: HardwareDecoders | None = None,
) -> Image | None:
    """One picture from the camera's snapshot source; None when the role is ``frame``.

    Raises :class:`~detectors.pipeline.sources.SourceOfflineError` when the camera does
    not deliver it (the caller keeps the analysed frame then).
    """
    url = streams.snapshot_url
    if streams.snapshot_from == "frame" or url is None:
        return None
    source = camera.source
    timeout = camera.timeout_seconds
    if streams.snapshot_from == "uri":
        snapshot = SnapshotSource(
            url, http_auth_for(source), open_timeout_s=timeout, read_timeout_s=timeout
        )
        async with contextlib.AsyncExitStack() as stack:
            if session is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
            frame = await snapshot.fetch(session)
        return None if frame is None else frame.image
    if url.startswith("rtsp"):
        return await asyncio.to_thread(_grab_rtsp, with_credentials(url, source), camera, hardware)
    stream = MjpegSource(url, http_auth_for(source), open_timeout_s=timeout, read_timeout_s=timeout)
    async with contextlib.aclosing(stream.frames()) as frames:
        async for frame in frames:
            if frame is not None:
                return frame.image
    return None
