"""Build a camera's frame source from its configuration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from detectors.config import CameraConfig, SourceConfig
from detectors.engine.stream_roles import CameraStreams
from detectors.http_auth import DigestAuth, HttpAuth
from detectors.pipeline.sources import (
    FileSource,
    FrameSource,
    MjpegSource,
    RtspSource,
    SnapshotSource,
)
from detectors.pipeline.sources.hwdecode import HardwareDecoders

type StreamResolver = Callable[[SourceConfig], Awaitable[CameraStreams]]
"""Turns an ONVIF source into its stream roles (probe the camera, pick the profiles)."""


def http_auth_for(source: SourceConfig) -> HttpAuth | None:
    """Digest credentials when a username is given.

    Cameras protect HTTP with Digest far more often than Basic, and Digest never sends the
    password itself.
    """
    if source.username is None:
        return None
    return DigestAuth(source.username, source.password or "")


def with_credentials(url: str, source: SourceConfig) -> str:
    """``url`` with the source's username and password inside, unless it has some already.

    RTSP carries credentials in the URL (FFmpeg answers Digest challenges with them);
    ONVIF cameras hand out stream URIs without them.
    """
    if source.username is None or "@" in url.partition("://")[2].partition("/")[0]:
        return url
    scheme, _, rest = url.partition("://")
    user = quote(source.username, safe="")
    secret = quote(source.password or "", safe="")
    return f"{scheme}://{user}:{secret}@{rest}"


def source_for_url(
    url: str,
    camera: CameraConfig,
    source: SourceConfig,
    hardware: HardwareDecoders | None = None,
) -> FrameSource:
    """A frame source for a stream URL (from the config or from an ONVIF probe)."""
    if url.startswith("rtsp"):
        return RtspSource(
            with_credentials(url, source),
            open_timeout_s=camera.timeout_seconds,
            read_timeout_s=camera.timeout_seconds,
            decode=camera.decode,
            hardware=hardware,
        )
    if source.type == "snapshot":
        interval = 1.0 / camera.detect_fps if camera.detect_fps > 0 else 1.0
        return SnapshotSource(url, http_auth_for(source), interval_s=interval)
    return MjpegSource(
        url,
        http_auth_for(source),
        open_timeout_s=camera.timeout_seconds,
        read_timeout_s=camera.timeout_seconds,
    )


async def build_source(
    camera: CameraConfig,
    resolve_onvif: StreamResolver,
    hardware: HardwareDecoders | None = None,
) -> tuple[FrameSource, CameraStreams]:
    """The frame source of ``camera`` and its stream roles (ONVIF cameras are probed)."""
    source = camera.source
    if source.type == "file":
        assert source.url is not None
        streams = CameraStreams(source.url)
        return FileSource(source.url, loop=source.loop, realtime=source.realtime), streams
    if source.type == "onvif":
        streams = await resolve_onvif(source)
    else:
        assert source.url is not None
        streams = CameraStreams(source.url)
    return source_for_url(streams.detection_url, camera, source, hardware), streams
