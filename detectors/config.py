"""The engine configuration: a YAML file turned into typed, frozen settings.

Why this strict: a typo in a safety system must not silently switch a rule off. Every key
is validated, unknown keys are refused by name with the list of allowed ones, duplicate
YAML keys are refused (YAML itself would keep the last one quietly), and every message
names the exact path, e.g. ``cameras[1].rules.person_down.seconds: expected float, got
'ten'``. All problems are reported at once (:attr:`ConfigError.problems`).

String values may use environment variables: ``${NAME}``, or ``${NAME:-fallback}`` when
unset; ``$${`` writes a literal ``${``. ``${SCHOOL_GUARD_SAMPLES}`` is always defined: when
the environment does not set it, it is the folder where ``school-guard samples fetch`` keeps
the sample media, so the demo configuration runs as printed. Expansion applies to
configuration files only, never to cameras posted through the API
(:func:`camera_from_json`), so an API client cannot read the engine's environment.

The typed settings are values only; the *documents* (the configuration file's shape as
JSON, what :func:`parse_config` and :func:`camera_from_json` read back) are written by
:func:`camera_document` and :func:`engine_document`. Credentials are write-only: those
leave them out unless asked, and a password inside a URL is shown as ``***``. The engine
API sends a camera's document inside its camera answers (:mod:`detectors.protocol.cameras`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import voluptuous as vol
import yaml

from detectors.artifacts.samples import SAMPLES_ENV, default_samples_dir
from detectors.camera_networks import CameraNetworks
from detectors.config_schema import (
    CAMERA_FIELDS,
    ENGINE_FIELDS,
    camera_list_errors,
    camera_reference_errors,
    model_errors,
    problem_lines,
)
from detectors.errors import ConfigError
from detectors.inference.settings import InferenceSettings
from detectors.redaction import REDACTED, redact_url
from detectors.rules import Line, Zone
from detectors.schedule import DAY_NAMES, Schedule, local_timezone, parse_schedules

__all__ = [
    "CAMERA_SCHEMA",
    "ApiSection",
    "CameraConfig",
    "EngineConfig",
    "EngineSection",
    "InferenceSettings",
    "ModelsSection",
    "MqttSection",
    "SecuritySection",
    "SourceConfig",
    "TlsSection",
    "camera_document",
    "camera_from_json",
    "engine_document",
    "load_config",
    "parse_config",
    "patched_camera_document",
]

type Point = tuple[float, float]
type SourceType = Literal["onvif", "rtsp", "mjpeg", "snapshot", "file"]
type DecodeMode = Literal["auto", "cpu", "vaapi", "qsv"]
type SnapshotSource = Literal["auto", "uri", "stream", "frame"]

_ENV_REFERENCE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
MQTT_PORT: Final = 1883
MQTT_TLS_PORT: Final = 8883


# -- typed settings ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineSection:
    """Who this engine is, where it keeps its data, and how long it keeps incidents."""

    name: str
    data_dir: Path
    timezone: str | None = None
    retention_days: int = 30

    def tz(self) -> dt.tzinfo:
        """Return the zone schedules are read in: the configured one, else the host's."""
        return ZoneInfo(self.timezone) if self.timezone else local_timezone()


@dataclass(frozen=True, slots=True)
class EvidenceSection:
    """Each alert's clip and keyframe strip (docs/privacy.md says what is kept and how long).

    Every camera keeps the frames it analysed for ``max(pre_roll, post_roll)`` seconds (plus
    one) as JPEG in memory, never more than ``buffer_megabytes``; an alert's clip runs from
    ``pre_roll_seconds`` before its start to ``post_roll_seconds`` after it.
    """

    pre_roll_seconds: float = 5.0
    post_roll_seconds: float = 5.0
    buffer_megabytes: float = 8.0
    clip_fps: float = 5.0
    """At most this many frames a second go into the ring: a camera analysing faster
    (motion crops, a high ``detect_fps``) would otherwise JPEG every frame, the buffer's
    only real cost (docs/benchmarks.md); 5 fps is the engine's default analysis rate."""

    @property
    def buffer_seconds(self) -> float:
        """How long each camera's ring keeps frames: the longer roll and one spare second."""
        return max(self.pre_roll_seconds, self.post_roll_seconds) + 1.0

    @property
    def buffer_bytes(self) -> int:
        """Each camera's ring budget in bytes."""
        return int(self.buffer_megabytes * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class ApiSection:
    """Where the engine API listens (loopback unless the file says otherwise)."""

    host: str = "127.0.0.1"
    port: int = 8765


@dataclass(frozen=True, slots=True)
class ModelsSection:
    """Model zoo names; ``None`` switches a model (and the rules needing it) off."""

    detector: str = "nanodet-m-416"
    pose: str | None = "movenet-multipose-lightning"
    weapon: str | None = None
    fight: str | None = "fight-mc3-18"
    """The fight rule's clip classifier; skipped (the rule uses pose alone) when the zoo
    cache and mirror do not have it, so a missing optional model never stops the engine."""
    fall: str | None = None
    """An opt-in fall model, a second opinion for ``person_down`` (docs/models.md)."""
    accept_licences: tuple[str, ...] = ()
    """Licences the operator accepts for opt-in models (``ModelEntry.acknowledge``)."""


@dataclass(frozen=True, slots=True)
class SecuritySection:
    """What the API and the cameras may make the engine open (docs/security.md).

    ``camera_networks``: every camera host (probe, discovery targets, sources, and the
    addresses a camera hands back) must resolve inside these networks. ``media_folder``:
    the one folder ``file`` sources added through the API may read (None: the API adds
    no file sources); file sources in this configuration file are the school's own and
    may name any path.
    """

    camera_networks: CameraNetworks = field(default_factory=CameraNetworks)
    media_folder: Path | None = None


@dataclass(frozen=True, slots=True)
class TlsSection:
    """TLS files for MQTT; all empty means TLS with the system's CA store."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True, slots=True)
class MqttSection:
    """The MQTT broker the engine publishes to (port 8883 by default with TLS)."""

    host: str
    port: int = MQTT_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsSection | None = None
    protocol: Literal[5, 311] = 5
    topic_root: str = "school_guard"


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Where a camera's frames come from.

    ``url`` is set for rtsp/mjpeg/snapshot/file (a path for file), ``host``/``port``/
    ``profile`` for onvif; ``loop`` and ``realtime`` only matter for file sources.

    Stream roles (ONVIF only): ``profile`` is the one detection reads (None: the
    smallest at least 640 px wide, i.e. the sub-stream), ``snapshot_profile`` the one
    alert snapshots come from (None: the largest), and ``snapshot`` says how: ``uri``
    (the profile's ONVIF snapshot URI), ``stream`` (one frame of its stream), ``frame``
    (the analysed frame, as for other cameras), or ``auto`` (the URI when the camera
    has one, else the stream).
    """

    type: SourceType
    url: str | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    profile: str | None = None
    snapshot_profile: str | None = None
    snapshot: SnapshotSource = "auto"
    loop: bool = True
    realtime: bool = True

    def __repr__(self) -> str:
        """Show the source for logs with its URL redacted and no password."""
        shown = source_document(self)
        if self.password is not None:
            shown["password"] = REDACTED
        return f"SourceConfig({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera: its source, geometry and rules (options as the user wrote them).

    ``rules`` keeps each rule's options as given (already checked by the rule's schema);
    the rule fills its own defaults when it is built, so a saved configuration does not
    freeze today's defaults. Zones and lines are the rules' own types: what the file says
    is what the rules use, with no second model of the same thing.
    """

    id: str
    name: str
    source: SourceConfig
    location: str = ""
    detect_fps: float = 5.0
    enabled: bool = True
    timeout_seconds: float = 10.0
    decode: DecodeMode = "auto"
    zones: tuple[Zone, ...] = ()
    lines: tuple[Line, ...] = ()
    masks: tuple[tuple[Point, ...], ...] = ()
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The whole engine configuration.

    ``schedules`` holds the file's own schedules; the built-ins ``always`` and ``never``
    are added by the rule engine. ``source`` names where the configuration came from.
    """

    engine: EngineSection
    api: ApiSection = ApiSection()
    inference: InferenceSettings = field(default_factory=InferenceSettings)
    models: ModelsSection = ModelsSection()
    security: SecuritySection = SecuritySection()
    mqtt: MqttSection | None = None
    cameras: tuple[CameraConfig, ...] = ()
    evidence: EvidenceSection = EvidenceSection()
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    source: str = "<config>"

    def camera(self, camera_id: str) -> CameraConfig:
        """Return the camera with ``camera_id``; ``KeyError`` if there is none."""
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)


# -- documents: the configuration file's shape, written back -----------------------------


def source_document(source: SourceConfig, include_secrets: bool = False) -> dict[str, object]:
    """Return the source's configuration shape, redacted unless asked otherwise."""
    data: dict[str, object] = {"type": source.type}
    if source.type == "onvif":
        data |= {"host": source.host, "port": source.port}
    else:
        assert source.url is not None
        data["url"] = source.url if include_secrets else redact_url(source.url)
    if include_secrets and source.type != "file":
        data |= _present(username=source.username, password=source.password)
    if source.type == "onvif":
        data |= {
            "profile": source.profile,
            "snapshot_profile": source.snapshot_profile,
            "snapshot": source.snapshot,
        }
    if source.type == "file":
        data |= {"loop": source.loop, "realtime": source.realtime}
    return data


SOURCE_ADDRESS_KEYS: Final = ("type", "host", "port", "url")
"""What says where a source is: its stored credentials are kept only while these stay."""


def patched_camera_document(camera: CameraConfig, patch: Mapping[str, object]) -> dict[str, object]:
    """The camera's document (with secrets) after ``PATCH /cameras/{id}``.

    Top-level fields replace the camera's. ``source`` merges into the current source, so
    a client that never saw the password (Home Assistant's reconfigure) can change the
    username, the profile or the snapshot choice and keep it. Once the address changes
    (type, host, port or URL) the patch's source replaces the whole source and nothing is
    inherited: the stored password is never sent to another host. A new address of the
    same type without the password is refused (``ConfigError``) rather than silently
    losing the credentials.
    """
    document = camera_document(camera, include_secrets=True)
    merged = document | dict(patch)
    source_patch = patch.get("source")
    current = document["source"]
    if not isinstance(source_patch, Mapping) or not isinstance(current, dict):
        return merged
    moved = any(
        key in source_patch and source_patch[key] != current.get(key) for key in SOURCE_ADDRESS_KEYS
    )
    retyped = source_patch.get("type", current["type"]) != current["type"]
    if not moved:
        merged["source"] = current | dict(source_patch)
    elif not retyped and current.get("password") and "password" not in source_patch:
        raise ConfigError(
            "source: give the camera's password again when its address changes (the stored"
            " one is never sent to another address)"
        )
    return merged


def camera_document(camera: CameraConfig, include_secrets: bool = False) -> dict[str, object]:
    """Return the camera in its configuration shape (``cameras[]``, ``POST /cameras``).

    Without ``include_secrets`` there are no usernames or passwords and URLs are
    redacted; with it, the result validates back to an equal camera.
    """
    return {
        "id": camera.id,
        "name": camera.name,
        "location": camera.location,
        "source": source_document(camera.source, include_secrets),
        "detect_fps": camera.detect_fps,
        "enabled": camera.enabled,
        "timeout_seconds": camera.timeout_seconds,
        "decode": camera.decode,
        "zones": [
            {"name": zone.name, "polygon": [list(p) for p in zone.polygon]} for zone in camera.zones
        ],
        "lines": [
            {
                "name": line.name,
                "points": [list(line.a), list(line.b)],
                "direction": line.direction,
            }
            for line in camera.lines
        ],
        "masks": [[list(p) for p in mask] for mask in camera.masks],
        "rules": _plain(camera.rules),
    }


def mqtt_document(mqtt: MqttSection, include_secrets: bool = False) -> dict[str, object]:
    """Return the MQTT section's configuration shape; credentials only when asked."""
    data: dict[str, object] = {"host": mqtt.host, "port": mqtt.port}
    if include_secrets:
        data |= _present(username=mqtt.username, password=mqtt.password)
    if mqtt.tls is not None:
        data["tls"] = {
            "ca": _path_text(mqtt.tls.ca),
            "cert": _path_text(mqtt.tls.cert),
            "key": _path_text(mqtt.tls.key),
        }
    data |= {"protocol": mqtt.protocol, "topic_root": mqtt.topic_root}
    return data


def engine_document(config: EngineConfig, include_secrets: bool = False) -> dict[str, object]:
    """Return the whole configuration's shape (what :func:`parse_config` reads)."""
    data: dict[str, object] = {
        "engine": {
            "name": config.engine.name,
            "data_dir": str(config.engine.data_dir),
            "timezone": config.engine.timezone,
            "retention_days": config.engine.retention_days,
        },
        "api": {"host": config.api.host, "port": config.api.port},
        "inference": {
            "device": config.inference.device,
            "precision": config.inference.precision,
            "performance": config.inference.performance,
            "requests": config.inference.requests,
            "threads": config.inference.threads,
        },
        "models": {
            "detector": config.models.detector,
            "pose": config.models.pose,
            "weapon": config.models.weapon,
            "fight": config.models.fight,
            "fall": config.models.fall,
            "accept_licences": list(config.models.accept_licences),
        },
        "security": {
            "camera_networks": config.security.camera_networks.texts(),
            "media_folder": _path_text(config.security.media_folder),
        },
        "evidence": {
            "pre_roll_seconds": config.evidence.pre_roll_seconds,
            "post_roll_seconds": config.evidence.post_roll_seconds,
            "buffer_megabytes": config.evidence.buffer_megabytes,
            "clip_fps": config.evidence.clip_fps,
        },
    }
    if config.mqtt is not None:
        data["mqtt"] = mqtt_document(config.mqtt, include_secrets)
    data["cameras"] = [camera_document(camera, include_secrets) for camera in config.cameras]
    data["schedules"] = {
        name: [
            {
                "days": [DAY_NAMES[day] for day in sorted(time_range.days)],
                "from": time_range.start.strftime("%H:%M"),
                "to": time_range.end.strftime("%H:%M"),
            }
            for time_range in schedule.ranges
        ]
        for name, schedule in config.schedules.items()
    }
    return data


def _present(**values: str | None) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


def _path_text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _plain(value: Any) -> Any:
    """Deep-copy mappings and sequences into plain dicts and lists for JSON."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# -- building typed settings from validated data -----------------------------------------


def _points(raw: Any) -> tuple[Point, ...]:
    return tuple((float(x), float(y)) for x, y in raw)


def _source(data: Mapping[str, Any]) -> SourceConfig:
    return SourceConfig(
        type=data["type"],
        url=data.get("url"),
        host=data.get("host"),
        port=data.get("port"),
        username=data.get("username"),
        password=data.get("password"),
        profile=data.get("profile"),
        snapshot_profile=data.get("snapshot_profile"),
        snapshot=data.get("snapshot", "auto"),
        loop=data.get("loop", True),
        realtime=data.get("realtime", True),
    )


def _line(data: Mapping[str, Any]) -> Line:
    a, b = _points(data["points"])
    return Line(data["name"], a, b, data["direction"])


def _camera(data: Mapping[str, Any]) -> CameraConfig:
    return CameraConfig(
        id=data["id"],
        name=data["name"],
        location=data["location"],
        source=_source(data["source"]),
        detect_fps=data["detect_fps"],
        enabled=data["enabled"],
        timeout_seconds=data["timeout_seconds"],
        decode=data["decode"],
        zones=tuple(Zone(z["name"], _points(z["polygon"])) for z in data["zones"]),
        lines=tuple(_line(line) for line in data["lines"]),
        masks=tuple(_points(mask) for mask in data["masks"]),
        rules=data["rules"],
    )


def _mqtt(data: Mapping[str, Any] | None) -> MqttSection | None:
    if data is None:
        return None
    tls = data["tls"]
    default_port = MQTT_PORT if tls is None else MQTT_TLS_PORT
    return MqttSection(
        host=data["host"],
        port=data["port"] if data["port"] is not None else default_port,
        username=data["username"],
        password=data["password"],
        tls=None
        if tls is None
        else TlsSection(
            ca=_optional_path(tls["ca"]),
            cert=_optional_path(tls["cert"]),
            key=_optional_path(tls["key"]),
        ),
        protocol=data["protocol"],
        topic_root=data["topic_root"],
    )


def _optional_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _engine_config(data: Mapping[str, Any], source: str) -> EngineConfig:
    engine = data["engine"]
    schedules = {
        name: schedule
        for name, schedule in parse_schedules(data["schedules"]).items()
        if name in data["schedules"]
    }
    return EngineConfig(
        engine=EngineSection(
            name=engine["name"],
            data_dir=Path(engine["data_dir"]),
            timezone=engine["timezone"],
            retention_days=engine["retention_days"],
        ),
        api=ApiSection(**data["api"]),
        inference=InferenceSettings(**data["inference"]),
        models=ModelsSection(
            **{**data["models"], "accept_licences": tuple(data["models"]["accept_licences"])}
        ),
        security=SecuritySection(
            camera_networks=CameraNetworks.of(data["security"]["camera_networks"]),
            media_folder=_optional_path(data["security"]["media_folder"]),
        ),
        mqtt=_mqtt(data["mqtt"]),
        cameras=tuple(_camera(camera) for camera in data["cameras"]),
        evidence=EvidenceSection(**data["evidence"]),
        schedules=schedules,
        source=source,
    )


# -- entry points ------------------------------------------------------------------------


def _error(source: str, problems: list[str]) -> ConfigError:
    if len(problems) == 1:
        return ConfigError(f"{source}: {problems[0]}", tuple(problems))
    listing = "\n".join(f"  {line}" for line in problems)
    return ConfigError(f"{source}: {len(problems)} problems:\n{listing}", tuple(problems))


def expand_env(value: Any, environ: Mapping[str, str], problems: list[str], path: str = "") -> Any:
    """Return ``value`` with ``${NAME}`` references in its strings replaced.

    Each unset variable without a fallback adds a problem naming it and where it is used.
    """
    if isinstance(value, dict):
        return {
            key: expand_env(item, environ, problems, _join(path, key))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            expand_env(item, environ, problems, f"{path}[{index}]")
            for index, item in enumerate(value)
        ]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name, fallback = match.group(1), match.group(2), match.group(3)
        if escaped:
            return match.group(0)[1:]
        if name in environ:
            return environ[name]
        if fallback is not None:
            return fallback
        problems.append(f"{path or '<top level>'}: environment variable {name} is not set")
        return match.group(0)

    return _ENV_REFERENCE.sub(replace, value)


def _join(path: str, key: object) -> str:
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def parse_config(
    raw: object, *, source: str = "<config>", environ: Mapping[str, str] | None = None
) -> EngineConfig:
    """Validate an already-loaded configuration document and return typed settings.

    ``environ`` (default ``os.environ``) supplies ``${NAME}`` references. Raises
    :class:`ConfigError` listing every problem, each as ``path: why``.
    """
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else repr(raw)
        raise ConfigError(f"{source}: expected a mapping at the top level, got {kind}")
    problems: list[str] = []
    if environ is None:
        environ = {SAMPLES_ENV: str(default_samples_dir()), **os.environ}
    expanded = expand_env(raw, environ, problems)
    if problems:
        raise _error(source, problems)
    try:
        data = ENGINE_FIELDS(expanded)
    except vol.Invalid as err:
        raise _error(source, problem_lines(err)) from None
    cross = model_errors(data["models"]) + camera_list_errors(
        data["cameras"], data["schedules"].keys()
    )
    if cross:
        raise _error(source, problem_lines(vol.MultipleInvalid(cross)))
    return _engine_config(data, source)


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing duplicate keys instead of keeping the last one."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it with its position
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {first + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_config(path: Path, *, environ: Mapping[str, str] | None = None) -> EngineConfig:
    """Read, validate and return the YAML configuration file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ConfigError(f"{path}: cannot read the configuration file: {reason}") from err
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {err.problem}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from err
    if document is None:
        raise ConfigError(f"{path}: the configuration file is empty")
    return parse_config(document, source=str(path), environ=environ)


def _validate_camera(value: Any) -> dict[str, Any]:
    camera = CAMERA_FIELDS(value)
    errors = camera_reference_errors(camera, None)
    if errors:
        raise vol.MultipleInvalid(errors)
    return camera


CAMERA_SCHEMA = vol.Schema(_validate_camera)
"""One camera (the ``cameras[]`` shape, also the body of ``POST /api/v1/cameras``).

It checks the camera's own references (zones and lines its rules name); schedule names
are engine-wide, see :func:`camera_from_json`.
"""


def camera_from_json(obj: object, *, schedules: Collection[str] | None = None) -> CameraConfig:
    """Validate one camera from the API and return it typed.

    ``schedules`` are the engine's schedule names; when given, rules naming another
    schedule are refused. No ``${NAME}`` expansion happens here (see the module docs).
    """
    try:
        camera = CAMERA_SCHEMA(obj)
    except vol.Invalid as err:
        raise _error("camera", problem_lines(err)) from None
    if schedules is not None:
        errors = camera_reference_errors(camera, schedules)
        if errors:
            raise _error("camera", problem_lines(vol.MultipleInvalid(errors)))
    return _camera(camera)
