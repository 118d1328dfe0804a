"""The shapes of ONVIF answers: cameras found by WS-Discovery, and what a probe learned."""

from __future__ import annotations

from detectors.onvif.discovery import DiscoveredCamera
from detectors.onvif.probe import DeviceInfo, ProbeResult, ProfileInfo, ServiceInfo
from detectors.protocol.schema import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Field,
    Shape,
    array,
    nullable,
)

DISCOVERED = Shape[DiscoveredCamera](
    "DiscoveredCamera",
    [
        Field("endpoint", STRING, lambda c: c.endpoint),
        Field("xaddrs", array(STRING), lambda c: list(c.xaddrs)),
        Field("scopes", array(STRING), lambda c: list(c.scopes)),
        Field("name", nullable(STRING), lambda c: c.name),
        Field("location", nullable(STRING), lambda c: c.location),
        Field("hardware", nullable(STRING), lambda c: c.hardware),
        Field("host", nullable(STRING), lambda c: c.host),
        Field("port", nullable(INTEGER), lambda c: c.port),
    ],
    description="A camera that answered the WS-Discovery probe.",
)

DEVICE = Shape[DeviceInfo](
    "OnvifDevice",
    [
        Field("manufacturer", STRING, lambda d: d.manufacturer),
        Field("model", STRING, lambda d: d.model),
        Field("firmware_version", STRING, lambda d: d.firmware_version),
        Field("serial_number", STRING, lambda d: d.serial_number),
        Field("hardware_id", STRING, lambda d: d.hardware_id),
    ],
)

SERVICE = Shape[ServiceInfo](
    "OnvifService",
    [
        Field("namespace", STRING, lambda s: s.namespace),
        Field("xaddr", STRING, lambda s: s.xaddr),
        Field("version", STRING, lambda s: s.version),
    ],
)

PROFILE = Shape[ProfileInfo](
    "OnvifProfile",
    [
        Field("token", STRING, lambda p: p.token),
        Field("name", STRING, lambda p: p.name),
        Field("codec", STRING, lambda p: p.codec),
        Field("width", INTEGER, lambda p: p.width),
        Field("height", INTEGER, lambda p: p.height),
        Field("fps", nullable(NUMBER), lambda p: p.fps),
        Field("stream_uri", nullable(STRING), lambda p: p.stream_uri),
        Field("stream_kind", nullable(STRING), lambda p: p.stream_kind),
        Field("snapshot_uri", nullable(STRING), lambda p: p.snapshot_uri),
    ],
)

PROBE = Shape[ProbeResult](
    "OnvifProbe",
    [
        Field("host", STRING, lambda r: r.host),
        Field("port", INTEGER, lambda r: r.port),
        Field("device", DEVICE.schema, lambda r: DEVICE.build(r.device)),
        Field("services", array(SERVICE.schema), lambda r: [SERVICE.build(s) for s in r.services]),
        Field("profiles", array(PROFILE.schema), lambda r: [PROFILE.build(p) for p in r.profiles]),
        Field("clock_offset_s", nullable(NUMBER), lambda r: r.clock_offset_s),
        Field("time_adjusted", BOOLEAN, lambda r: r.time_adjusted),
        Field("snapshot_uri", nullable(STRING), lambda r: r.snapshot_uri),
    ],
    description="What the engine learned from one camera (no credentials).",
)
