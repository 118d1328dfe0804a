"""ONVIF cameras in the engine: probe for the stream roles, and the discover/probe API bodies.

Every host is checked against ``security.camera_networks`` before anything is sent to it
(:mod:`detectors.camera_networks`); the probe also checks the service addresses the
camera hands back before it calls them.
"""

from __future__ import annotations

from detectors.camera_networks import CameraNetworks
from detectors.config import SourceConfig
from detectors.engine.stream_roles import CameraStreams, pick_streams
from detectors.errors import HostLookupError
from detectors.onvif.discovery import DiscoveredCamera, discover
from detectors.onvif.errors import OnvifUnreachable
from detectors.onvif.probe import ProbeResult, probe
from detectors.protocol import requests


async def resolve_streams(
    source: SourceConfig, networks: CameraNetworks | None = None
) -> CameraStreams:
    """Probe an ONVIF camera for its detection stream and its alert-snapshot source."""
    assert source.host is not None
    result = await probe(
        source.host,
        source.port or 80,
        source.username or "",
        source.password or "",
        networks=networks,
    )
    return pick_streams(result, source)


async def discover_cameras(
    body: dict[str, object], networks: CameraNetworks
) -> list[DiscoveredCamera]:
    """``POST /onvif/discover``: the cameras that answered (unicast targets checked first)."""
    valid = requests.ONVIF_DISCOVER(body)
    for host, port in valid["targets"]:
        await _checked(networks, host, port, "discovery target")
    return await discover(valid["targets"], timeout=valid["timeout"], multicast=valid["multicast"])


async def probe_camera(body: dict[str, object], networks: CameraNetworks) -> ProbeResult:
    """``POST /onvif/probe``: what the camera says about itself."""
    valid = requests.ONVIF_PROBE(body)
    return await probe(
        valid["host"],
        valid["port"],
        valid["username"],
        valid["password"],
        timeout=valid["timeout"],
        networks=networks,
    )


async def _checked(networks: CameraNetworks, host: str, port: int, what: str) -> None:
    """Refuse a host outside the camera networks; a name that does not resolve is unreachable."""
    try:
        await networks.check_host(host, port, what=what)
    except HostLookupError as error:
        raise OnvifUnreachable(f"{what} {host}: {error}") from None
