"""The shape of a camera: its configuration document plus what it shows now.

``GET /cameras``, the WebSocket ``camera`` message and the MQTT bridge all send this one
object. Its first half is the camera's configuration document (the configuration file's
shape, credentials left out; described by the configuration validators themselves), its
second half the live state below. A new live field is one :class:`Field` line in
:data:`CAMERA_LIVE`, :data:`STATUS` or :data:`STATS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from detectors.config import CameraConfig, camera_document
from detectors.config_schema import CAMERA_FIELDS
from detectors.onvif.probe import DeviceInfo, ProfileInfo
from detectors.pipeline.frame_ring import FrameRing
from detectors.pipeline.reader import CameraStatus
from detectors.pipeline.sources import FrameSource, RtspSource
from detectors.pipeline.sources.hwdecode import DecodeChoice
from detectors.pipeline.sources.rtsp import StreamInfo
from detectors.pipeline.worker import CameraWorker
from detectors.protocol.codes import (
    REASON_CODES,
    RULE_NAMES,
    SNAPSHOT_SOURCES,
    CameraOrigin,
    OfflineCode,
    ReasonCode,
    offline_code,
)
from detectors.protocol.schema import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    OMIT,
    STRING,
    Field,
    JsonSchema,
    Shape,
    array,
    merge,
    nullable,
    one_of,
)
from detectors.rules.confirmation import AlertTransition


class StreamRoles(Protocol):
    """Which profile a camera's detection and alert snapshots use (``engine.stream_roles``)."""

    @property
    def detection_profile(self) -> ProfileInfo | None:
        """The profile detection reads (None: not an ONVIF camera)."""
        ...

    @property
    def snapshot_from(self) -> str:
        """Where alert snapshots come from: ``uri``, ``stream`` or ``frame``."""
        ...

    @property
    def snapshot_profile(self) -> ProfileInfo | None:
        """The profile alert snapshots come from."""
        ...

    @property
    def snapshot_note(self) -> str | None:
        """Why the configured snapshot source was not possible."""
        ...

    @property
    def device(self) -> DeviceInfo | None:
        """What an ONVIF camera says it is (None for a plain URL source)."""
        ...


class FrameBuffer(Protocol):
    """A camera's frame ring for alert clips and the frames its encoder had to skip."""

    @property
    def ring(self) -> FrameRing:
        """The ring (bytes and frames held now, its budget)."""
        ...

    @property
    def skipped(self) -> int:
        """Frames not kept because the ring's encoder was behind."""
        ...


class LiveCamera(Protocol):
    """What the engine knows about one running camera (the engine's camera registry)."""

    @property
    def config(self) -> CameraConfig:
        """The camera's configuration."""
        ...

    @property
    def origin(self) -> str:
        """``config`` (the configuration file) or ``api``."""
        ...

    def current_status(self) -> CameraStatus:
        """The stream's state now (live rates from the reader, else what the engine set)."""
        ...

    @property
    def status_code(self) -> ReasonCode | None:
        """The offline code the engine itself set (detection off, a source that failed)."""
        ...

    @property
    def person_count(self) -> int:
        """People in the last analysed frame."""
        ...

    @property
    def open_alerts(self) -> Mapping[str, AlertTransition]:
        """Open alerts by event id."""
        ...

    @property
    def feeder(self) -> FrameBuffer | None:
        """The camera's frame ring for alert clips (None before its detection loop runs)."""
        ...

    @property
    def worker(self) -> CameraWorker | None:
        """The detection loop, once the source is built."""
        ...

    @property
    def streams(self) -> StreamRoles | None:
        """Which profile detection and alert snapshots use, once the source is built."""
        ...

    @property
    def source(self) -> FrameSource | None:
        """The frame source, once built."""
        ...

    def rule_states(self) -> dict[str, bool]:
        """Whether each rule has an open alert on this camera."""
        ...

    def motion_now(self, now: float | None = None) -> bool:
        """Whether a frame was analysed recently."""
        ...


def reason_code(camera: LiveCamera, status: CameraStatus) -> ReasonCode | None:
    """Why the camera is offline, as a code (None while it is online)."""
    if status.online:
        return None
    return camera.status_code or offline_code(status.reason) or OfflineCode.SOURCE_ERROR


STATUS = Shape[tuple[LiveCamera, CameraStatus]](
    "CameraStatus",
    [
        Field("online", BOOLEAN, lambda c: c[1].online),
        Field(
            "reason",
            nullable(STRING),
            lambda c: c[1].reason,
            description="why it is offline, in words for people (null while online)",
        ),
        Field(
            "fps",
            NUMBER,
            lambda c: round(c[1].fps, 2),
            description="frames arriving per second, over the last ten seconds",
        ),
        Field(
            "analysed_fps",
            NUMBER,
            lambda c: round(c[1].analysed_fps, 2),
            description="frames analysed per second over the same window",
        ),
        Field("last_frame_at", nullable(NUMBER), lambda c: c[1].last_frame_at),
        Field(
            "reason_code",
            nullable(one_of(REASON_CODES)),
            lambda c: reason_code(*c),
            description="why it is offline, as a code clients act on (null while online)",
        ),
    ],
)

PROFILE = Shape[ProfileInfo](
    "StreamProfile",
    [
        Field("token", STRING, lambda p: p.token),
        Field("name", STRING, lambda p: p.name),
        Field("codec", STRING, lambda p: p.codec),
        Field("width", INTEGER, lambda p: p.width),
        Field("height", INTEGER, lambda p: p.height),
        Field("fps", nullable(NUMBER), lambda p: p.fps),
    ],
    description="An ONVIF media profile (never its URL: URLs may carry credentials).",
)
STREAM = Shape[StreamInfo](
    "DetectionStream",
    [
        Field("codec", STRING, lambda s: s.codec),
        Field("width", INTEGER, lambda s: s.width),
        Field("height", INTEGER, lambda s: s.height),
        Field("decoder", STRING, lambda s: s.decoder),
    ],
    description="What the detection stream sends, as its decoder sees it.",
)
DECODE = Shape[DecodeChoice](
    "DecodeChoice",
    [
        Field("requested", STRING, lambda d: d.requested),
        Field("decoder", STRING, lambda d: d.decoder),
        Field("fallback_reason", nullable(STRING), lambda d: d.fallback_reason),
    ],
    description="The video decoder the camera uses, and why when it is not the one asked for.",
)


DEVICE = Shape[DeviceInfo](
    "CameraDevice",
    [
        Field("manufacturer", STRING, lambda d: d.manufacturer),
        Field("model", STRING, lambda d: d.model),
        Field("firmware_version", STRING, lambda d: d.firmware_version),
    ],
    description="What an ONVIF camera's GetDeviceInformation says it is (no serial number).",
)


def _device(camera: LiveCamera) -> dict[str, object] | None:
    roles = camera.streams
    return None if roles is None or roles.device is None else DEVICE.build(roles.device)


def _profile(profile: ProfileInfo | None) -> dict[str, object] | None:
    return None if profile is None else PROFILE.build(profile)


def _rtsp(camera: LiveCamera) -> RtspSource | None:
    return camera.source if isinstance(camera.source, RtspSource) else None


def _stream(camera: LiveCamera) -> dict[str, object] | None:
    source = _rtsp(camera)
    return None if source is None or source.info is None else STREAM.build(source.info)


def _decode(camera: LiveCamera) -> dict[str, object] | None:
    source = _rtsp(camera)
    return None if source is None else DECODE.build(source.decode_choice)


def _snapshot(camera: LiveCamera) -> dict[str, object]:
    roles = camera.streams
    if roles is None:  # not started yet: the analysed frame, as for every camera
        return {"from": "frame", "profile": None, "note": None}
    return {
        "from": roles.snapshot_from,
        "profile": _profile(roles.snapshot_profile),
        "note": roles.snapshot_note,
    }


STREAMS = Shape[LiveCamera](
    "CameraStreams",
    [
        Field(
            "detection",
            {
                "type": "object",
                "properties": {
                    "profile": nullable(PROFILE.schema),
                    "stream": nullable(STREAM.schema),
                    "decode": nullable(DECODE.schema),
                },
                "required": ["profile", "stream", "decode"],
                "additionalProperties": False,
            },
            lambda c: {
                "profile": _profile(c.streams.detection_profile if c.streams else None),
                "stream": _stream(c),
                "decode": _decode(c),
            },
        ),
        Field(
            "snapshot",
            {
                "type": "object",
                "properties": {
                    "from": one_of(SNAPSHOT_SOURCES),
                    "profile": nullable(PROFILE.schema),
                    "note": nullable(STRING),
                },
                "required": ["from", "profile", "note"],
                "additionalProperties": False,
            },
            _snapshot,
        ),
    ],
    description="Stream roles: which profile detection and alert snapshots use (docs/onvif.md).",
)


def _search_inferences(worker: CameraWorker) -> int:
    """Extra inferences the camera's lying-person search has run (0 without one)."""
    lying = worker.processor.lying
    return lying.stats.inferences if lying is not None else 0


STATS = Shape[CameraWorker](
    "CameraStats",
    [
        Field("frames_in", INTEGER, lambda w: w.reader.counters().frames_in),
        Field("analysed", INTEGER, lambda w: w.stats.analysed),
        Field("skipped_motion", INTEGER, lambda w: w.stats.skipped_motion),
        Field("dropped", INTEGER, lambda w: w.reader.counters().dropped),
        Field("decode_errors", INTEGER, lambda w: w.reader.counters().decode_errors),
        Field("reconnects", INTEGER, lambda w: w.reader.counters().reconnects),
        Field("slots", INTEGER, lambda w: w.stats.slots),
        Field("missed_slots", INTEGER, lambda w: w.stats.missed_slots),
        Field("inference_ms", NUMBER, lambda w: round(w.stats.inference_ms, 1)),
        Field(
            "lying_search_inferences",
            INTEGER,
            _search_inferences,
            description="extra inferences the lying-person search ran (0 without one)",
        ),
    ],
    description="Counters of the camera's detection loop since it started.",
)

EVIDENCE_BUFFER = Shape[FrameBuffer](
    "EvidenceBuffer",
    [
        Field("bytes", INTEGER, lambda f: f.ring.bytes, description="JPEG held now"),
        Field("frames", INTEGER, lambda f: len(f.ring)),
        Field("seconds", NUMBER, lambda f: f.ring.seconds),
        Field("budget_bytes", INTEGER, lambda f: f.ring.max_bytes),
        Field(
            "skipped",
            INTEGER,
            lambda f: f.skipped,
            description="frames not kept because the encoder was behind (clips have gaps)",
        ),
    ],
    description="The camera's last analysed seconds, kept in memory for alert clips.",
)

OPEN_ALERT = Shape[tuple[str, AlertTransition]](
    "OpenAlert",
    [
        Field("event_id", STRING, lambda a: a[0]),
        Field("rule", one_of(RULE_NAMES), lambda a: a[1].rule),
        Field("zone", nullable(STRING), lambda a: a[1].zone),
        Field("confidence", NUMBER, lambda a: round(a[1].confidence, 4)),
        Field("drill", BOOLEAN, lambda a: a[1].drill),
        Field("started_at", NUMBER, lambda a: a[1].started_at),
    ],
    description="An alert open on the camera now (its event has the whole story).",
)

RULES_ACTIVE: Final[JsonSchema] = {
    "type": "object",
    "properties": dict.fromkeys(RULE_NAMES, BOOLEAN),
    "required": list(RULE_NAMES),
    "additionalProperties": False,
}

CAMERA_LIVE = Shape[LiveCamera](
    "CameraLive",
    [
        Field("origin", one_of(CameraOrigin), lambda c: c.origin),
        Field("status", STATUS.schema, lambda c: STATUS.build((c, c.current_status()))),
        Field("streams", STREAMS.schema, STREAMS.build),
        Field(
            "device",
            nullable(DEVICE.schema),
            _device,
            description="make, model and firmware of an ONVIF camera once probed (else null)",
        ),
        Field("person_count", INTEGER, lambda c: c.person_count),
        Field("rules_active", RULES_ACTIVE, lambda c: c.rule_states()),
        Field(
            "open_alerts",
            array(OPEN_ALERT.schema),
            lambda c: [OPEN_ALERT.build(item) for item in c.open_alerts.items()],
        ),
        Field("motion", BOOLEAN, lambda c: c.motion_now(), description="analysed in the last 5 s"),
        Field(
            "stats",
            STATS.schema,
            lambda c: OMIT if c.worker is None else STATS.build(c.worker),
            optional=True,
            description="absent until the camera's detection loop runs",
        ),
        Field(
            "evidence_buffer",
            EVIDENCE_BUFFER.schema,
            lambda c: OMIT if c.feeder is None else EVIDENCE_BUFFER.build(c.feeder),
            optional=True,
            description="absent until the camera's detection loop runs",
        ),
    ],
)

CAMERA_SCHEMA: Final[JsonSchema] = merge(
    CAMERA_FIELDS.json_schema(response=True),
    CAMERA_LIVE.schema,
    description="A camera: its configuration (no credentials) and its live state.",
)


def camera_json(camera: LiveCamera) -> dict[str, object]:
    """The camera's JSON: configuration document (no secrets) then live state."""
    return camera_document(camera.config) | CAMERA_LIVE.build(camera)
