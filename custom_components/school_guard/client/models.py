"""The engine's answers and messages as Home Assistant reads them (docs/engine-api.md).

Home Assistant may not import the engine (``detectors``), so it keeps its own models of
the engine's JSON, built only from the fields it uses.

Each model below names the engine's fields it reads and, in ``UNUSED``, those it leaves
out on purpose. The contract test (tests/detectors/protocol/test_protocol_contract.py)
holds both lists to the engine's published shapes: a field the engine adds, or one this
client reads that the engine no longer sends, fails there rather than in a school.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, cast


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """``GET /info``: who the engine is."""

    engine_id: str
    name: str
    version: str
    rules: tuple[str, ...]
    """The rules the engine runs: one binary sensor, event type and trigger each."""
    response_modes: tuple[str, ...]
    models: Mapping[str, str | None] = field(default_factory=dict)
    """Model name per role (``detector``, ``pose``, ``weapon``); None when none is loaded."""
    inference_device: str | None = None
    """The OpenVINO device the engine runs its models on (``CPU``, ``GPU``, ``NPU``...)."""
    available_devices: tuple[str, ...] = ()
    default_rules: tuple[str, ...] = ()
    """The rules the engine suggests for a new camera (those that need no zones)."""
    response_steps: tuple[str, ...] = ()
    """The response steps the engine records (``school_guard.record_step``)."""

    UNUSED: ClassVar[frozenset[str]] = frozenset({"started_at", "decoders", "models_skipped"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngineInfo:
        """Build from the API's JSON."""
        models = cast("Mapping[str, Any]", data.get("models") or {})
        inference = cast("Mapping[str, Any]", data.get("inference") or {})
        device = inference.get("device")
        return cls(
            engine_id=str(data["engine_id"]),
            name=str(data["name"]),
            version=str(data["version"]),
            rules=tuple(str(r) for r in data.get("rules", ())),
            response_modes=tuple(str(m) for m in data.get("response_modes", ())),
            models={
                str(role): str(model["name"]) if isinstance(model, Mapping) else None
                for role, model in models.items()
            },
            inference_device=None if device is None else str(device),
            available_devices=tuple(str(d) for d in inference.get("available_devices") or ()),
            default_rules=tuple(str(r) for r in data.get("default_rules", ())),
            response_steps=tuple(str(s) for s in data.get("response_steps", ())),
        )


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert open on a camera now, as the camera's pushed state carries it.

    It lets Home Assistant know the open alerts after its own restart, when the push feed
    only replays what changes from then on.
    """

    event_id: str
    rule: str
    confidence: float
    drill: bool
    started_at: float

    UNUSED: ClassVar[frozenset[str]] = frozenset({"zone"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OpenAlert:
        """Build from one item of the camera's ``open_alerts``."""
        return cls(
            event_id=str(data["event_id"]),
            rule=str(data["rule"]),
            confidence=float(data.get("confidence", 0.0)),
            drill=bool(data.get("drill", False)),
            started_at=float(data.get("started_at", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class CameraDevice:
    """What an ONVIF camera says it is: the camera device's make, model and firmware."""

    manufacturer: str
    model: str
    firmware_version: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CameraDevice | None:
        """Build from the camera's ``device`` object (null until an ONVIF probe)."""
        if not data:
            return None
        return cls(
            manufacturer=str(data.get("manufacturer") or ""),
            model=str(data.get("model") or ""),
            firmware_version=str(data.get("firmware_version") or ""),
        )


@dataclass(frozen=True, slots=True)
class CameraState:
    """One camera's configuration summary and live state (``GET /cameras``)."""

    camera_id: str
    name: str
    location: str
    online: bool
    reason: str | None
    person_count: int
    motion: bool
    rules_active: Mapping[str, bool] = field(default_factory=dict)
    enabled: bool = True
    """Whether detection is switched on (off: the engine does not read the camera)."""
    inference_ms: float | None = None
    """Mean inference time per analysed frame; None until the camera's worker runs."""
    open_alerts: tuple[OpenAlert, ...] = ()
    reason_code: str | None = None
    """Why the camera is offline, as the engine's code (``reason`` is the same in words)."""
    device: CameraDevice | None = None
    """Make, model and firmware once the engine probed an ONVIF camera."""
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The camera's rules and their options, as the engine validated them: a
    reconfigure sends kept rules back unchanged (zones, thresholds, schedules)."""

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            # the configuration half: Home Assistant shows the camera, it does not edit it
            *("source", "detect_fps", "timeout_seconds", "decode", "zones", "lines", "masks"),
            "origin",
            "streams",
            *(f"status.{key}" for key in ("fps", "analysed_fps", "last_frame_at")),
            *(f"stats.{key}" for key in ("frames_in", "analysed", "skipped_motion", "dropped")),
            *(f"stats.{key}" for key in ("decode_errors", "reconnects", "slots", "missed_slots")),
            "stats.lying_search_inferences",
            *(f"evidence_buffer.{key}" for key in ("bytes", "frames", "seconds")),
            *(f"evidence_buffer.{key}" for key in ("budget_bytes", "skipped")),
            *(f"open_alerts[].{key}" for key in OpenAlert.UNUSED),
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CameraState:
        """Build from the API's JSON."""
        status = cast("Mapping[str, Any]", data.get("status") or {})
        rules = cast("Mapping[str, Any]", data.get("rules_active") or {})
        stats = cast("Mapping[str, Any]", data.get("stats") or {})
        inference_ms = stats.get("inference_ms")
        reason = status.get("reason")
        reason_code = status.get("reason_code")
        return cls(
            camera_id=str(data["id"]),
            name=str(data.get("name") or data["id"]),
            location=str(data.get("location") or ""),
            online=bool(status.get("online", False)),
            reason=None if reason is None else str(reason),
            person_count=int(data.get("person_count", 0)),
            motion=bool(data.get("motion", False)),
            rules_active={str(k): bool(v) for k, v in rules.items()},
            enabled=bool(data.get("enabled", True)),
            inference_ms=None if inference_ms is None else float(inference_ms),
            open_alerts=tuple(
                OpenAlert.from_json(item)
                for item in cast("list[Mapping[str, Any]]", data.get("open_alerts") or [])
            ),
            reason_code=None if reason_code is None else str(reason_code),
            device=CameraDevice.from_json(data.get("device")),
            rule_options={
                str(rule): dict(options or {})
                for rule, options in cast("Mapping[str, Any]", data.get("rules") or {}).items()
            },
        )


@dataclass(frozen=True, slots=True)
class OnvifCamera:
    """A camera that answered the engine's WS-Discovery probe (``POST /onvif/discover``)."""

    endpoint: str
    host: str
    port: int
    name: str | None
    location: str | None
    hardware: str | None

    UNUSED: ClassVar[frozenset[str]] = frozenset({"xaddrs", "scopes"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OnvifCamera | None:
        """Build from the API's JSON; None for an answer without a usable address."""
        host, port = data.get("host"), data.get("port")
        if not host or port is None:
            return None

        return cls(
            endpoint=str(data.get("endpoint") or f"{host}:{port}"),
            host=str(host),
            port=int(port),
            name=_text(data, "name"),
            location=_text(data, "location"),
            hardware=_text(data, "hardware"),
        )


@dataclass(frozen=True, slots=True)
class OnvifProbe:
    """What the engine learned from a camera (``POST /onvif/probe``), credentials excluded."""

    host: str
    port: int
    manufacturer: str
    model: str
    profiles: int
    width: int
    height: int
    clock_offset_s: float | None

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            *(f"device.{key}" for key in ("firmware_version", "serial_number", "hardware_id")),
            "services",
            *(f"profiles[].{key}" for key in ("token", "name", "codec", "fps", "stream_uri")),
            "profiles[].snapshot_uri",
            "time_adjusted",
            "snapshot_uri",
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OnvifProbe:
        """Build from the API's JSON; width/height are those of the largest readable profile."""
        device = cast("Mapping[str, Any]", data.get("device") or {})
        profiles = cast("list[Mapping[str, Any]]", data.get("profiles") or [])
        readable = [p for p in profiles if p.get("stream_kind")]
        best = max(readable, key=lambda p: int(p["width"]) * int(p["height"]), default=None)
        offset = data.get("clock_offset_s")
        return cls(
            host=str(data["host"]),
            port=int(data["port"]),
            manufacturer=str(device.get("manufacturer") or ""),
            model=str(device.get("model") or ""),
            profiles=len(profiles),
            width=0 if best is None else int(best["width"]),
            height=0 if best is None else int(best["height"]),
            clock_offset_s=None if offset is None else float(offset),
        )


@dataclass(frozen=True, slots=True)
class ModeState:
    """The school's response mode (Standard Response Protocol) and its drill flag."""

    mode: str
    drill: bool
    changed_at: float | None

    UNUSED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModeState:
        """Build from the API's JSON."""
        changed_at = data.get("changed_at")
        return cls(
            mode=str(data["mode"]),
            drill=bool(data.get("drill", False)),
            changed_at=None if changed_at is None else float(changed_at),
        )


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """The part of an incident-log event the integration shows."""

    event_id: str
    camera_id: str
    camera_name: str
    location: str
    rule: str
    state: str
    confidence: float
    drill: bool
    acknowledged: bool
    dismissed: bool
    started_at: float = 0.0
    """When the alert started (engine clock, Unix seconds)."""
    zone: str | None = None
    """The camera zone the rule saw it in (None: the whole view); device triggers filter on it."""
    ended_at: float | None = None
    model: str | None = None
    """The model that raised it ("nanodet-m-416 1 on CPU"): what the SRO's review names."""
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    """The rule's thresholds in force when it started (score, K of M, seconds)."""
    method: str | None = None
    """What raised it, from the rule's ``detail`` (e.g. ``rotated_sweep``, ``pose_gate``)."""
    acknowledged_by: str | None = None
    dismissed_by: str | None = None
    dismissed_reason: str | None = None
    notified: tuple[str, ...] = ()
    """Everyone paged about it so far, in the order they were told."""
    evidence_at: float | None = None
    """When the engine stored the alert's clip and keyframe strip (None: not yet, or never)."""

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            *("updated_at", "end_reason", "scores", "boxes"),
            "model.precision",
            *("acknowledged_at", "acknowledged_note", "dismissed_at", "snapshot"),
            *("notified[].channel", "notified[].by", "notified[].at"),
            "actions",
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertEvent:
        """Build from the API's JSON."""
        return cls(
            event_id=str(data["id"]),
            camera_id=str(data["camera_id"]),
            camera_name=str(data.get("camera_name") or data["camera_id"]),
            location=str(data.get("location") or ""),
            rule=str(data["rule"]),
            state=str(data["state"]),
            confidence=float(data.get("confidence", 0.0)),
            drill=bool(data.get("drill", False)),
            acknowledged=bool(data.get("acknowledged", False)),
            dismissed=bool(data.get("dismissed", False)),
            started_at=float(data.get("started_at") or 0.0),
            zone=_text(data, "zone"),
            ended_at=_optional_number(data.get("ended_at")),
            model=_model_label(data.get("model")),
            thresholds=dict(cast("Mapping[str, Any]", data.get("thresholds") or {})),
            method=_text(cast("Mapping[str, Any]", data.get("detail") or {}), "method"),
            acknowledged_by=_text(data, "acknowledged_by"),
            dismissed_by=_text(data, "dismissed_by"),
            dismissed_reason=_text(data, "dismissed_reason"),
            notified=_recipients(data.get("notified")),
            evidence_at=_optional_number(data.get("evidence_at")),
        )

    @property
    def has_evidence(self) -> bool:
        """Whether the clip and keyframe strip can be fetched."""
        return self.evidence_at is not None


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _model_label(model: Any) -> str | None:
    """``name version on device``, as a review names the model."""
    if not isinstance(model, Mapping) or not model.get("name"):
        return None
    version = f" {model['version']}" if model.get("version") else ""
    device = f" on {model['device']}" if model.get("device") else ""
    return f"{model['name']}{version}{device}"


def _recipients(notified: Any) -> tuple[str, ...]:
    """Every recipient of every page, first time each, in order."""
    seen: dict[str, None] = {}
    for page in cast("list[Mapping[str, Any]]", notified or []):
        seen.update(dict.fromkeys(str(r) for r in page.get("recipients") or []))
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class EventChange:
    """One step of an alert's lifecycle, with the incident log's cursor."""

    cursor: int
    change: str
    at: float
    event: AlertEvent

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {"event_id", *(f"event.{key}" for key in AlertEvent.UNUSED)}
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventChange:
        """Build from the API's JSON (a change, or a WebSocket ``event`` message)."""
        return cls(
            cursor=int(data["cursor"]),
            change=str(data["change"]),
            at=float(data["at"]),
            event=AlertEvent.from_json(cast("Mapping[str, Any]", data["event"])),
        )


@dataclass(frozen=True, slots=True)
class EventPage:
    """``GET /events?since=``: changes after a cursor, and the cursor to ask from next."""

    changes: tuple[EventChange, ...]
    cursor: int

    UNUSED: ClassVar[frozenset[str]] = frozenset(f"changes[].{key}" for key in EventChange.UNUSED)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventPage:
        """Build from the API's JSON."""
        return cls(
            changes=tuple(EventChange.from_json(c) for c in data["changes"]),
            cursor=int(data["cursor"]),
        )


def _optional_number(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """``GET /report/summary?days=``: the after-action numbers the review sensors show.

    Real incidents and drills stay apart: the sensors show the real side, the drill side
    is an attribute, never a blend of the two.
    """

    days: int
    real_incidents: int
    drill_incidents: int
    false_alarm_share: float | None
    """Dismissed / all real alerts (None: no real alert in the period)."""
    drill_false_alarm_share: float | None
    median_seconds_to_decision: float | None
    """Median seconds from a real alert to its confirmation or dismissal."""
    drill_median_seconds_to_decision: float | None

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            *("from", "to", "dismissed", "median_seconds_to_first_page"),
            "median_seconds_to_lockdown",
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportSummary:
        """Build from the API's JSON."""
        incidents = data["incidents"]
        shares = data["false_alarm_share"]
        decision = data["median_seconds_to_decision"]
        return cls(
            days=int(data["days"]),
            real_incidents=int(incidents["real"]),
            drill_incidents=int(incidents["drill"]),
            false_alarm_share=_optional_number(shares["real"]),
            drill_false_alarm_share=_optional_number(shares["drill"]),
            median_seconds_to_decision=_optional_number(decision["real"]),
            drill_median_seconds_to_decision=_optional_number(decision["drill"]),
        )


@dataclass(frozen=True, slots=True)
class Hello:
    """First WebSocket message: the engine's id and newest cursor."""

    engine_id: str
    cursor: int


@dataclass(frozen=True, slots=True)
class CameraRemoved:
    """A camera was deleted from the engine."""

    camera_id: str


type PushMessage = Hello | ModeState | CameraState | EventChange | CameraRemoved


def health_cursor(data: Mapping[str, Any]) -> int:
    """The newest event cursor of a ``GET /health`` answer."""
    return int(data["cursor"])


HEALTH_UNUSED: Final = frozenset({"status", "cameras", "cameras_online"})
STATE_MESSAGE_UNUSED: Final = frozenset({"cursor"})
"""A state message's cursor: state is resent whole on connect, so only event cursors matter."""
DELETED_UNUSED: Final = frozenset({"deleted"})
"""``DELETE /cameras/{id}`` answers the id it deleted; the caller knows it already."""


def error_fields(data: Mapping[str, Any]) -> tuple[str, str]:
    """The code and message of an ``{"error": {"code", "message"}}`` answer."""
    error = data["error"]
    return str(error["code"]), str(error["message"])
