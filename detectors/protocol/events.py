"""The shapes of alerts: an event as the incident log holds it, a change of it, a page of changes.

The same event object travels in ``GET /events/{id}``, in every change (REST and
WebSocket), on MQTT and in exports. A new event field is one :class:`Field` line in
:data:`EVENT` (and its column in the incident log's records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors.incidents.records import (
    MAX_RECIPIENTS,
    MAX_STEP_TARGETS,
    EventChange,
    EventRecord,
    ModelInfo,
    Notification,
    ResponseAction,
)
from detectors.protocol.codes import CHANGE_KINDS, EVENT_STATES, RESPONSE_STEPS, RULE_NAMES
from detectors.protocol.schema import (
    ANY_OBJECT,
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Field,
    Shape,
    array,
    map_of,
    nullable,
    one_of,
)

MODEL = Shape[ModelInfo](
    "EventModel",
    [
        Field("name", STRING, lambda m: m.name),
        Field("version", STRING, lambda m: m.version),
        Field("device", STRING, lambda m: m.device),
        Field("precision", STRING, lambda m: m.precision),
    ],
    description="The model that raised the alert and where it ran, kept for audits.",
)

NOTIFICATION = Shape[Notification](
    "Notification",
    [
        Field(
            "recipients",
            array(STRING, minItems=1, maxItems=MAX_RECIPIENTS),
            lambda n: list(n.recipients),
        ),
        Field("channel", STRING, lambda n: n.channel),
        Field("by", STRING, lambda n: n.by),
        Field("at", NUMBER, lambda n: n.at),
    ],
    description="Who was told about the alert, through what, by which playbook or person.",
)

ACTION = Shape[ResponseAction](
    "ResponseAction",
    [
        Field("step_id", STRING, lambda a: a.step_id, description="the client's idempotency key"),
        Field("step", one_of(RESPONSE_STEPS), lambda a: a.step),
        Field("targets", array(STRING, maxItems=MAX_STEP_TARGETS), lambda a: list(a.targets)),
        Field(
            "confirmed",
            map_of(BOOLEAN),
            lambda a: dict(a.confirmed),
            description="per target, whether it reported the step done (a lock: locked)",
        ),
        Field("by", STRING, lambda a: a.by),
        Field("note", STRING, lambda a: a.note),
        Field("at", NUMBER, lambda a: a.at, description="engine clock when it was recorded"),
    ],
    description="One step of the response (doors locked, PA played...), as its client said.",
)

_OPTIONAL_TEXT = nullable(STRING)
_OPTIONAL_TIME = nullable(NUMBER)
_BOX = array(NUMBER, minItems=4, maxItems=4)

EVENT = Shape[EventRecord](
    "Event",
    [
        Field("id", STRING, lambda e: e.id),
        Field("camera_id", STRING, lambda e: e.camera_id),
        Field("camera_name", STRING, lambda e: e.camera_name),
        Field("location", STRING, lambda e: e.location),
        Field("rule", one_of(RULE_NAMES), lambda e: e.rule),
        Field("zone", _OPTIONAL_TEXT, lambda e: e.zone),
        Field("state", one_of(EVENT_STATES), lambda e: e.state),
        Field("started_at", NUMBER, lambda e: e.started_at),
        Field("updated_at", NUMBER, lambda e: e.updated_at),
        Field("ended_at", _OPTIONAL_TIME, lambda e: e.ended_at),
        Field("end_reason", _OPTIONAL_TEXT, lambda e: e.end_reason),
        Field("confidence", NUMBER, lambda e: e.confidence, description="highest seen"),
        Field("scores", array(NUMBER), lambda e: list(e.scores)),
        Field("boxes", array(_BOX), lambda e: [list(box) for box in e.boxes]),
        Field("drill", BOOLEAN, lambda e: e.drill),
        Field("model", MODEL.schema, lambda e: MODEL.build(e.model)),
        Field("thresholds", ANY_OBJECT, lambda e: dict(e.thresholds)),
        Field("acknowledged", BOOLEAN, lambda e: e.acknowledged),
        Field("acknowledged_by", _OPTIONAL_TEXT, lambda e: e.acknowledged_by),
        Field("acknowledged_at", _OPTIONAL_TIME, lambda e: e.acknowledged_at),
        Field("acknowledged_note", _OPTIONAL_TEXT, lambda e: e.acknowledged_note),
        Field("dismissed", BOOLEAN, lambda e: e.dismissed),
        Field("dismissed_by", _OPTIONAL_TEXT, lambda e: e.dismissed_by),
        Field("dismissed_at", _OPTIONAL_TIME, lambda e: e.dismissed_at),
        Field("dismissed_reason", _OPTIONAL_TEXT, lambda e: e.dismissed_reason),
        Field("snapshot", BOOLEAN, lambda e: e.has_snapshot, description="a JPEG is stored"),
        Field(
            "notified",
            array(NOTIFICATION.schema),
            lambda e: [NOTIFICATION.build(n) for n in e.notified],
        ),
        Field(
            "detail",
            ANY_OBJECT,
            lambda e: dict(e.detail),
            description=(
                "what the rule reported, one object for every rule whose ``method`` says what "
                "raised it: a fight's method, pose and model scores; a person_down's method "
                "(rotated_sweep, pose, box), every method that agreed and the seconds held"
            ),
        ),
        Field(
            "evidence_at",
            _OPTIONAL_TIME,
            lambda e: e.evidence_at,
            description=(
                "when the clip (clip.mp4) and keyframe strip (strip.jpg) were stored; "
                "null while they are being written (post-roll) or when there were no frames"
            ),
        ),
        Field(
            "actions",
            array(ACTION.schema),
            lambda e: [ACTION.build(a) for a in e.actions],
            description="the response steps clients recorded, oldest first",
        ),
    ],
    description="One alert as the incident log holds it (no image bytes).",
)

CHANGE = Shape[EventChange](
    "EventChange",
    [
        Field("cursor", INTEGER, lambda c: c.cursor),
        Field("event_id", STRING, lambda c: c.event_id),
        Field("change", one_of(CHANGE_KINDS), lambda c: c.change),
        Field("at", NUMBER, lambda c: c.at),
        Field("event", EVENT.schema, lambda c: EVENT.build(c.event)),
    ],
    description="One step of an alert's lifecycle, with the incident log's cursor.",
)


@dataclass(frozen=True, slots=True)
class EventPage:
    """``GET /events``: the changes after a cursor and the cursor to ask from next."""

    changes: Sequence[EventChange]
    cursor: int


EVENT_PAGE = Shape[EventPage](
    "EventPage",
    [
        Field("changes", array(CHANGE.schema), lambda p: [CHANGE.build(c) for c in p.changes]),
        Field("cursor", INTEGER, lambda p: p.cursor),
    ],
)


def event_json(event: EventRecord) -> dict[str, object]:
    """The event's JSON (API, MQTT, exports)."""
    return EVENT.build(event)


def change_json(change: EventChange) -> dict[str, object]:
    """The change's JSON (API answers; the WebSocket adds its ``type``)."""
    return CHANGE.build(change)
