"""What a camera source may make the engine open: checked before anything connects.

Two limits (``security`` in the configuration, docs/security.md):

* every camera host, and every stream or snapshot address an ONVIF camera hands back,
  must lie inside ``camera_networks`` (:mod:`detectors.camera_networks`);
* a ``file`` source added through the API must lie inside ``media_folder`` once every
  symlink is resolved. File sources in the configuration file are the school's own
  choice and may name any path.

URL schemes per source type are the configuration schema's (``rtsp``/``rtsps``,
``http``/``https``), and FFmpeg opens RTSP with a protocol whitelist
(:data:`detectors.pipeline.sources.rtsp.RTSP_PROTOCOLS`), so nothing here re-checks them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from detectors.camera_networks import CameraNetworks
from detectors.config import CameraConfig, SecuritySection
from detectors.engine.stream_roles import CameraStreams
from detectors.errors import HostLookupError, SourceNotAllowedError


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """The ``security`` section applied to cameras."""

    networks: CameraNetworks = field(default_factory=CameraNetworks)
    media_folder: Path | None = None

    @classmethod
    def of(cls, security: SecuritySection) -> SourceLimits:
        """The limits the configuration sets."""
        return cls(security.camera_networks, security.media_folder)

    async def admit(self, camera: CameraConfig) -> None:
        """Refuse a camera the API may not create (a file or a host outside the limits).

        A host name that does not resolve yet is accepted here: it is checked again
        before the camera connects (:meth:`before_connect`), which is what matters.
        """
        with contextlib.suppress(HostLookupError):
            await self.before_connect(camera, from_api=True)

    async def before_connect(self, camera: CameraConfig, *, from_api: bool) -> None:
        """Check the camera's own host (or file) before its source is built."""
        source = camera.source
        if source.type == "file":
            if from_api:
                assert source.url is not None
                self.check_file(source.url)
        elif source.type == "onvif":
            assert source.host is not None
            await self.networks.check_host(
                source.host, source.port, what=f"camera {camera.id}: ONVIF host"
            )
        else:
            assert source.url is not None
            await self.networks.check_url(source.url, what=f"camera {camera.id}: source URL")

    async def check_streams(self, camera: CameraConfig, streams: CameraStreams) -> None:
        """Check the addresses a camera handed back (a camera can point anywhere)."""
        if camera.source.type != "onvif":
            return
        await self.networks.check_url(
            streams.detection_url, what=f"camera {camera.id}: the stream URI the camera gave"
        )
        if streams.snapshot_url is not None and streams.snapshot_from != "frame":
            await self.networks.check_url(
                streams.snapshot_url,
                what=f"camera {camera.id}: the snapshot URI the camera gave",
            )

    def check_file(self, path: str) -> None:
        """Refuse a file outside the media folder (symlinks resolved first)."""
        if self.media_folder is None:
            raise SourceNotAllowedError(
                "file sources can be added through the API only from a media folder;"
                " set security.media_folder in the engine's configuration file, or add"
                " the camera to the configuration file itself"
            )
        folder = Path(os.path.realpath(self.media_folder))
        if not os.path.isabs(path):
            # A relative name is read by FFmpeg, which takes "concat:..." or "file:..."
            # at the start as a protocol, not a file name.
            raise SourceNotAllowedError(
                f"file sources added through the API need an absolute path inside the media"
                f" folder {folder} (security.media_folder); {path!r} is not absolute"
            )
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(folder):
            raise SourceNotAllowedError(
                f"file sources added through the API must lie inside the media folder"
                f" {folder} (security.media_folder), symlinks resolved; {path!r} does not"
            )
