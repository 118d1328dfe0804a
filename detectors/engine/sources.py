"""Build a camera's frame source from its configuration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from detectors.config import CameraConfig, SourceConfig
from detectors.http_auth import DigestAuth, HttpAuth
from detectors.pipeline.sources import (
    FileSource,
    FrameSource,
    MjpegSource,
    RtspSource,
    SnapshotSource,
)

type StreamResolver = Callable[[SourceConfig], Awaitable[str]]
"""Turns an ONVIF source into a stream URL (probe the camera, pick the profile)."""


def _auth(source: SourceConfig) -> HttpAuth | None:
    """Digest credentials when a username is given.

    Cameras protect HTTP with Digest far more often than Basic, and Digest never sends the
    password itself.
    """
    if source.username is None:
        return None
    return DigestAuth(source.username, source.password or "")


def source_for_url(url: str, camera: CameraConfig, source: SourceConfig) -> FrameSource:
    """A frame source for a stream URL (from the config or from an ONVIF probe)."""
    if url.startswith("rtsp"):
        if source.username is not None and "@" not in url.partition("://")[2].partition("/")[0]:
            scheme, _, rest = url.partition("://")
            user = quote(source.username, safe="")
            secret = quote(source.password or "", safe="")
            url = f"{scheme}://{user}:{secret}@{rest}"
        return RtspSource(
            url, open_timeout_s=camera.timeout_seconds, read_timeout_s=camera.timeout_seconds
        )
    if source.type == "snapshot":
        interval = 1.0 / camera.detect_fps if camera.detect_fps > 0 else 1.0
        return SnapshotSource(url, _auth(source), interval_s=interval)
    return MjpegSource(
        url,
        _auth(source),
        open_timeout_s=camera.timeout_seconds,
        read_timeout_s=camera.timeout_seconds,
    )


async def build_source(camera: CameraConfig, resolve_onvif: StreamResolver) -> FrameSource:
    """The frame source of ``camera``; ONVIF cameras are probed for their stream first."""
    source = camera.source
    if source.type == "file":
        assert source.url is not None
        return FileSource(source.url, loop=source.loop, realtime=source.realtime)
    if source.type == "onvif":
        return source_for_url(await resolve_onvif(source), camera, source)
    assert source.url is not None
    return source_for_url(source.url, camera, source)
