"""The WebSocket messages (also what the MQTT bridge listens to), each with its cursor.

Event messages carry the incident log's change cursor, so a client that reconnects with
``?since=<cursor>`` is replayed exactly what it missed. State messages (``camera``,
``mode``) are full states, stamped with the newest event cursor at the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

from detectors.incidents.records import EventChange
from detectors.protocol.cameras import CAMERA_SCHEMA, LiveCamera, camera_json
from detectors.protocol.codes import MessageType
from detectors.protocol.engine import MODE_FIELDS
from detectors.protocol.events import CHANGE
from detectors.protocol.schema import INTEGER, STRING, Field, JsonSchema, Shape


def _kind[T](kind: MessageType) -> Field[T]:
    return Field("type", {"const": str(kind)}, lambda _: str(kind))


class _Hello(NamedTuple):
    engine_id: str
    cursor: int


class _Camera(NamedTuple):
    camera: LiveCamera
    cursor: int


class _Removed(NamedTuple):
    camera_id: str
    cursor: int


class _Mode(NamedTuple):
    mode: Mapping[str, object]
    cursor: int


def _of_mode(field: Field[Mapping[str, object]]) -> Field[_Mode]:
    return Field(field.name, field.schema, lambda message: field.get(message.mode))


HELLO = Shape[_Hello](
    "HelloMessage",
    [
        _kind(MessageType.HELLO),
        Field("engine_id", STRING, lambda m: m.engine_id),
        Field("cursor", INTEGER, lambda m: m.cursor),
    ],
    description="The first message: which engine this is and its newest cursor.",
)
EVENT = Shape[EventChange](
    "EventMessage",
    [_kind(MessageType.EVENT), *CHANGE.fields],
    description="An alert changed (also replayed after ``?since=``).",
)
CAMERA = Shape[_Camera](
    "CameraMessage",
    [
        _kind(MessageType.CAMERA),
        Field("cursor", INTEGER, lambda m: m.cursor),
        Field("camera", CAMERA_SCHEMA, lambda m: camera_json(m.camera)),
    ],
    description="A camera's full state (status, people, active rules, open alerts).",
)
CAMERA_REMOVED = Shape[_Removed](
    "CameraRemovedMessage",
    [
        _kind(MessageType.CAMERA_REMOVED),
        Field("camera_id", STRING, lambda m: m.camera_id),
        Field("cursor", INTEGER, lambda m: m.cursor),
    ],
    description="A camera was deleted (not sent when a camera only restarts).",
)
MODE = Shape[_Mode](
    "ModeMessage",
    [
        _kind(MessageType.MODE),
        Field("cursor", INTEGER, lambda m: m.cursor),
        *(_of_mode(field) for field in MODE_FIELDS),
    ],
    description="The response mode changed (and on connect).",
)

MESSAGES: Final = (HELLO, EVENT, CAMERA, CAMERA_REMOVED, MODE)
MESSAGE_SCHEMA: Final[JsonSchema] = {"oneOf": [shape.schema for shape in MESSAGES]}
"""Any WebSocket message."""


def hello_message(engine_id: str, cursor: int) -> dict[str, object]:
    """The first message on every connection."""
    return HELLO.build(_Hello(engine_id, cursor))


def event_message(change: EventChange) -> dict[str, object]:
    """An alert change."""
    return EVENT.build(change)


def camera_message(camera: LiveCamera, cursor: int) -> dict[str, object]:
    """A camera's full state."""
    return CAMERA.build(_Camera(camera, cursor))


def camera_removed_message(camera_id: str, cursor: int) -> dict[str, object]:
    """A camera was deleted."""
    return CAMERA_REMOVED.build(_Removed(camera_id, cursor))


def mode_message(mode: Mapping[str, object], cursor: int) -> dict[str, object]:
    """The response mode."""
    return MODE.build(_Mode(mode, cursor))
