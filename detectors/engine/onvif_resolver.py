"""ONVIF cameras in the engine: probe for the stream roles, and the discover/probe API bodies."""

from __future__ import annotations

from detectors.config import SourceConfig
from detectors.engine.stream_roles import CameraStreams, pick_streams
from detectors.onvif.discovery import DiscoveredCamera, discover
from detectors.onvif.probe import ProbeResult, probe
from detectors.protocol import requests


async def resolve_streams(source: SourceConfig) -> CameraStreams:
    """Probe an ONVIF camera for its detection stream and its alert-snapshot source."""
    assert source.host is not None
    result = await probe(
        source.host, source.port or 80, source.username or "", source.password or ""
    )
    return pick_streams(result, source)


async def discover_cameras(body: dict[str, object]) -> list[DiscoveredCamera]:
    """``POST /onvif/discover``: the cameras that answered."""
    valid = requests.ONVIF_DISCOVER(body)
    return await discover(valid["targets"], timeout=valid["timeout"], multicast=valid["multicast"])


async def probe_camera(body: dict[str, object]) -> ProbeResult:
    """``POST /onvif/probe``: what the camera says about itself."""
    valid = requests.ONVIF_PROBE(body)
    return await probe(
        valid["host"], valid["port"], valid["username"], valid["password"], timeout=valid["timeout"]
    )
