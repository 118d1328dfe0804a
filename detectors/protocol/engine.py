"""The shapes that describe the engine itself: ``/info``, ``/health``, ``/mode``, errors.

``/info`` is how clients learn the engine's codes (its rules, the rules worth enabling
on a new camera, its response modes) instead of keeping copies of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from detectors import __version__
from detectors.inference import InferenceRuntime
from detectors.pipeline.processor import Models
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.protocol.codes import (
    API_ERROR_CODES,
    DEFAULT_RULES,
    RESPONSE_MODES,
    RESPONSE_STEPS,
    RULE_NAMES,
    ApiErrorCode,
)
from detectors.protocol.schema import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Field,
    JsonSchema,
    Shape,
    array,
    map_of,
    nullable,
    one_of,
)
from detectors.zoo.catalog import ModelEntry

MODEL_ROLES: Final = ("detector", "pose", "weapon", "fight", "fall")


class EngineIdentity(Protocol):
    """What ``/info`` reads from the running engine."""

    @property
    def id(self) -> str:
        """The engine's stable id."""
        ...

    @property
    def name(self) -> str:
        """The school's name for it."""
        ...

    @property
    def started_at(self) -> float:
        """When it started (Unix seconds)."""
        ...

    @property
    def runtime(self) -> InferenceRuntime | None:
        """The OpenVINO runtime, once started."""
        ...

    @property
    def models(self) -> Models | None:
        """The loaded models, once started."""
        ...

    @property
    def models_skipped(self) -> Mapping[str, Mapping[str, str]]:
        """Optional models configured but not loaded, with the reason."""
        ...

    @property
    def hardware(self) -> HardwareDecoders:
        """What the host offers for video decoding."""
        ...


_MODEL_DESCRIPTION: Final[JsonSchema] = {
    "type": "object",
    "properties": {
        "name": STRING,
        "version": STRING,
        "licence": STRING,
        "opt_in": BOOLEAN,
        "acknowledge": {
            **nullable(STRING),
            "description": "the licence models.accept_licences must list (opt-in models)",
        },
    },
    "required": ["name", "version"],
    "description": "The model zoo's description of the model (``school-guard models list``).",
}


def _model(entry: ModelEntry | None) -> dict[str, object] | None:
    return None if entry is None else entry.describe()


def _models(engine: EngineIdentity) -> dict[str, object]:
    models = engine.models
    if models is None:
        return {}
    return {
        "detector": _model(models.detector.entry),
        "pose": _model(models.pose.entry if models.pose else None),
        "weapon": _model(models.weapon.entry if models.weapon else None),
        "fight": _model(models.fight.entry if models.fight else None),
        "fall": _model(models.fall.entry if models.fall else None),
    }


INFO = Shape[EngineIdentity](
    "Info",
    [
        Field("engine_id", STRING, lambda e: e.id),
        Field("name", STRING, lambda e: e.name),
        Field("version", STRING, lambda e: __version__),
        Field(
            "inference",
            {
                "type": "object",
                "properties": {"device": nullable(STRING), "available_devices": array(STRING)},
                "required": ["device", "available_devices"],
                "additionalProperties": False,
            },
            lambda e: {
                "device": e.runtime.settings.device if e.runtime else None,
                "available_devices": e.runtime.available_devices if e.runtime else [],
            },
        ),
        Field(
            "decoders",
            {
                "type": "object",
                "properties": {
                    "available": array(STRING),
                    "ffmpeg_device_types": array(STRING),
                },
                "required": ["available", "ffmpeg_device_types"],
                "additionalProperties": False,
            },
            lambda e: {
                "available": list(e.hardware.available),
                "ffmpeg_device_types": list(e.hardware.ffmpeg_types),
            },
            description="hardware video decoders here (docs/pipeline.md)",
        ),
        Field(
            "models",
            {
                "type": "object",
                "properties": dict.fromkeys(MODEL_ROLES, nullable(_MODEL_DESCRIPTION)),
                "additionalProperties": False,
            },
            _models,
            description="the model of each role, null when the role has none (empty before start)",
        ),
        Field(
            "models_skipped",
            map_of(
                {
                    "type": "object",
                    "properties": {"name": STRING, "reason": STRING},
                    "required": ["name", "reason"],
                    "additionalProperties": False,
                }
            ),
            lambda e: {role: dict(skipped) for role, skipped in e.models_skipped.items()},
            description="optional models configured but not loaded, by role, with the reason",
        ),
        Field("rules", array(one_of(RULE_NAMES)), lambda e: list(RULE_NAMES)),
        Field(
            "default_rules",
            array(one_of(RULE_NAMES)),
            lambda e: list(DEFAULT_RULES),
            description="rules worth enabling on a new camera without site knowledge",
        ),
        Field("response_modes", array(one_of(RESPONSE_MODES)), lambda e: list(RESPONSE_MODES)),
        Field(
            "response_steps",
            array(one_of(RESPONSE_STEPS)),
            lambda e: list(RESPONSE_STEPS),
            description="the steps POST /events/{id}/actions records",
        ),
        Field("started_at", NUMBER, lambda e: e.started_at),
    ],
    description="Who this engine is, what it runs, and the codes it uses.",
)


@dataclass(frozen=True, slots=True)
class Health:
    """``GET /health``: counts and the newest event cursor (where a new listener starts)."""

    cameras: int
    cameras_online: int
    cursor: int


HEALTH = Shape[Health](
    "Health",
    [
        Field("status", one_of(["ok"]), lambda h: "ok"),
        Field("cameras", INTEGER, lambda h: h.cameras),
        Field("cameras_online", INTEGER, lambda h: h.cameras_online),
        Field("cursor", INTEGER, lambda h: h.cursor),
    ],
)

MODE_FIELDS: Final = (
    Field[Mapping[str, object]]("mode", one_of(RESPONSE_MODES), lambda m: m["mode"]),
    Field[Mapping[str, object]]("drill", BOOLEAN, lambda m: m["drill"]),
    Field[Mapping[str, object]]("changed_at", NUMBER, lambda m: m["changed_at"]),
)
MODE = Shape[Mapping[str, object]]("Mode", MODE_FIELDS, description="The response mode.")


@dataclass(frozen=True, slots=True)
class ApiError:
    """One failure as the API reports it."""

    code: ApiErrorCode
    message: str


ERROR = Shape[ApiError](
    "Error",
    [
        Field(
            "error",
            {
                "type": "object",
                "properties": {"code": one_of(API_ERROR_CODES), "message": STRING},
                "required": ["code", "message"],
                "additionalProperties": False,
            },
            lambda e: {"code": str(e.code), "message": e.message},
        )
    ],
    description="Every error answer: a code to act on and a message for people.",
)

DELETED = Shape[str]("Deleted", [Field("deleted", STRING, lambda camera_id: camera_id)])
