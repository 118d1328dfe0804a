"""Stream roles, as an NVR has them: detection reads the cheap stream, evidence the sharp one.

A school camera offers a main stream (1080p or more) and a sub-stream (640x360 or
640x480). Decoding the main stream of twenty cameras would take the CPU that inference
needs, while a 640 px picture is what the detector works at anyway. So detection reads
the smallest profile at least :data:`MIN_DETECTION_WIDTH` wide (or the configured one),
and the alert snapshot, fetched once when an alert starts, comes from the camera's ONVIF
snapshot URI or one frame of the largest profile, so the evidence people look at is sharp.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from detectors.config import SourceConfig
from detectors.onvif.errors import OnvifNoProfile
from detectors.onvif.probe import DeviceInfo, ProbeResult, ProfileInfo

MIN_DETECTION_WIDTH = 640
"""Narrower profiles (e.g. 352x288 third streams) lose small people; skip them."""
type SnapshotFrom = Literal["uri", "stream", "frame"]


@dataclass(frozen=True, slots=True)
class CameraStreams:
    """Where a camera's detection frames and alert snapshots come from.

    URLs may carry credentials and never leave the engine; the API shows only the
    profiles and how the snapshot is taken (``detectors.protocol.cameras.STREAMS``).
    """

    detection_url: str
    detection_profile: ProfileInfo | None = None
    snapshot_from: SnapshotFrom = "frame"
    snapshot_profile: ProfileInfo | None = None
    snapshot_url: str | None = None
    snapshot_note: str | None = None
    """Why the configured snapshot source was not possible (the camera lacks it)."""
    device: DeviceInfo | None = None
    """What the camera says it is (make, model, firmware); None for a plain URL source."""


def _readable(result: ProbeResult) -> list[ProfileInfo]:
    readable = [p for p in result.profiles if p.stream_kind is not None and p.stream_uri]
    if not readable:
        raise OnvifNoProfile(f"camera {result.host}: no profile with a readable stream")
    return readable


def _named(result: ProbeResult, name: str, role: str) -> ProfileInfo:
    for candidate in _readable(result):
        if name in (candidate.token, candidate.name):
            return candidate
    raise OnvifNoProfile(f"camera {result.host}: no usable profile named {name!r} ({role})")


def detection_profile(result: ProbeResult, configured: str | None) -> ProfileInfo:
    """The configured profile, else the smallest at least 640 px wide, else the largest."""
    if configured is not None:
        return _named(result, configured, "profile")
    readable = _readable(result)
    wide = [p for p in readable if p.width >= MIN_DETECTION_WIDTH]
    if wide:
        return min(wide, key=lambda p: (p.width * p.height, p.token))
    return max(readable, key=lambda p: (p.width * p.height, p.token))


def snapshot_profile(result: ProbeResult, configured: str | None) -> ProfileInfo:
    """The configured profile, else the largest (the main stream)."""
    if configured is not None:
        return _named(result, configured, "snapshot_profile")
    return max(_readable(result), key=lambda p: (p.width * p.height, p.token))


def pick_streams(result: ProbeResult, source: SourceConfig) -> CameraStreams:
    """Both roles of an ONVIF camera from its probe and its configuration."""
    return replace(_roles(result, source), device=result.device)


def _roles(result: ProbeResult, source: SourceConfig) -> CameraStreams:
    detection = detection_profile(result, source.profile)
    assert detection.stream_uri is not None
    if source.snapshot == "frame":
        return CameraStreams(detection.stream_uri, detection)
    evidence = snapshot_profile(result, source.snapshot_profile)
    uri = evidence.snapshot_uri or result.snapshot_uri
    note = None
    if source.snapshot in ("auto", "uri") and uri:
        return CameraStreams(detection.stream_uri, detection, "uri", evidence, uri)
    if source.snapshot == "uri":
        note = "the camera gives no snapshot URI; using a frame of the stream"
    if evidence.stream_uri and evidence.stream_uri != detection.stream_uri:
        return CameraStreams(
            detection.stream_uri, detection, "stream", evidence, evidence.stream_uri, note
        )
    if source.snapshot == "stream" or note is not None:
        note = "the snapshot profile is the one detection reads; using the analysed frame"
    return CameraStreams(detection.stream_uri, detection, "frame", None, None, note)
