"""ONVIF cameras in the engine: probe for the stream roles, and the discover/probe API bodies."""

from __future__ import annotations

import voluptuous as vol

from detectors.config import SourceConfig
from detectors.engine.stream_roles import CameraStreams, pick_streams
from detectors.onvif.discovery import discover
from detectors.onvif.probe import probe


async def resolve_streams(source: SourceConfig) -> CameraStreams:
    """Probe an ONVIF camera for its detection stream and its alert-snapshot source."""
    assert source.host is not None
    result = await probe(
        source.host, source.port or 80, source.username or "", source.password or ""
    )
    return pick_streams(result, source)


def _target(value: object) -> tuple[str, int]:
    text = str(value)
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "3702")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise vol.Invalid(f"expected HOST[:PORT], got {text!r}")
    return host, int(port)


DISCOVER_SCHEMA = vol.Schema(
    {
        vol.Optional("targets", default=[]): [_target],
        vol.Optional("timeout", default=3.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.2, max=30.0)
        ),
        vol.Optional("multicast", default=True): bool,
    }
)
PROBE_SCHEMA = vol.Schema(
    {
        vol.Required("host"): vol.All(str, vol.Length(min=1, max=253)),
        vol.Optional("port", default=80): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("username", default=""): str,
        vol.Optional("password", default=""): str,
        vol.Optional("timeout", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(min=1.0, max=60.0)
        ),
    }
)


async def discover_json(body: dict[str, object]) -> list[dict[str, object]]:
    """``POST /onvif/discover``."""
    valid = DISCOVER_SCHEMA(body)
    found = await discover(valid["targets"], timeout=valid["timeout"], multicast=valid["multicast"])
    return [camera.to_json() for camera in found]


async def probe_json(body: dict[str, object]) -> dict[str, object]:
    """``POST /onvif/probe``."""
    valid = PROBE_SCHEMA(body)
    result = await probe(
        valid["host"], valid["port"], valid["username"], valid["password"], timeout=valid["timeout"]
    )
    return result.to_json()
