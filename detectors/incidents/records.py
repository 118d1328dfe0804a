"""What the incident log holds: the record types, and one field table for all their forms.

Every field of :class:`EventRecord` is one :class:`Column` row of :data:`COLUMNS`. That row
says how the field is stored in its SQLite column and in the JSON copy each change row
keeps, so reading a row, writing a change and reading a change back are all driven by the
table, and a new event field is one attribute plus one row here (the wire shape is
``detectors.protocol.events``). A column added after schema version 1 names its migration
(``since``) and its SQL type; :mod:`.schema` orders the migrations and derives each one's
statements from the rows that name it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal, get_args

from detectors.types import BoxXYXY

type EventState = Literal["started", "updated", "ended"]
type ChangeKind = Literal[
    "started", "updated", "ended", "acknowledged", "dismissed", "notified", "action", "evidence"
]
type ResponseStepKind = Literal[
    "paged", "doors_locked", "doors_unlocked", "pa_played", "mode_set", "all_clear", "other"
]
"""What a playbook (or a person) did in response: the steps an after-action report orders."""
RESPONSE_STEPS: Final[tuple[str, ...]] = get_args(ResponseStepKind.__value__)

OPEN_STATES: Final = ("started", "updated")
ENGINE_RESTART: Final = "engine_restart"
"""End reason of an alert that was still open when the engine stopped without ending it."""
DISMISSED: Final = "dismissed"
"""End reason of an alert that a person dismissed while it was still open."""
MAX_RECIPIENTS: Final = 50
"""Recipients accepted in one notification record (a page goes to a handful of people)."""
MAX_ACTIONS: Final = 200
"""Response steps kept per event: a playbook records a handful, a loop gone wrong is stopped."""
MAX_STEP_TARGETS: Final = 50
"""Targets (doors, speakers, recipients) in one response step."""
MAX_TARGET_LENGTH: Final = 255
"""Length of one target: an entity id or a notify action name."""
EVIDENCE_CONFIDENCE: Final = 2.0
"""Snapshot rank of an evidence picture: above any frame's confidence (at most 1)."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The model that raised an alert, kept with it so an audit can say what decided."""

    name: str
    version: str
    device: str
    precision: str


@dataclass(frozen=True, slots=True)
class Notification:
    """Who was told about an alert, through what, and by which playbook or person.

    Recorded by the clients that do the telling (Home Assistant's playbooks page the SRO,
    not the engine), so a review can answer "who knew, and when".
    """

    recipients: tuple[str, ...]
    channel: str
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class ResponseAction:
    """One step of the response to an alert, as the client that took it reported it.

    The engine cannot see doors lock or the PA play; Home Assistant's playbooks report
    each step (``step``) with what it acted on (``targets``), which of those confirmed it
    (``confirmed``: a lock that reported ``locked``), who or what took it (``by``) and a
    short ``note`` (the mode set, the message played). ``step_id`` is the client's key for
    the step: a retried call with the same key is recorded once. ``at`` is the engine's
    clock when it was recorded, so every time on an incident's timeline is on one clock.
    """

    step_id: str
    step: ResponseStepKind
    targets: tuple[str, ...]
    confirmed: Mapping[str, bool]
    by: str
    note: str
    at: float


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One alert as stored in the incident log.

    ``confidence`` is the highest confidence seen while the alert was open; ``scores`` and
    ``boxes`` are those of the latest start/update. ``thresholds`` are the rule's settings
    in force when the alert started (any JSON value, e.g. ``RuleEngine.thresholds()``).
    ``detail`` is what the rule reported with the latest start/update, one JSON object for
    every rule (schema v3) whose ``method`` says what raised the alert: a fight's method,
    limb speeds, pose score and the fight model's score; a person_down's method
    (``rotated_sweep``, ``pose``, ``box``), every method that agreed and the seconds held.
    """

    id: str
    camera_id: str
    camera_name: str
    location: str
    rule: str
    zone: str | None
    state: EventState
    started_at: float
    updated_at: float
    ended_at: float | None
    end_reason: str | None
    confidence: float
    scores: tuple[float, ...]
    boxes: tuple[BoxXYXY, ...]
    drill: bool
    model: ModelInfo
    thresholds: Mapping[str, object]
    acknowledged_by: str | None
    acknowledged_at: float | None
    acknowledged_note: str | None
    dismissed_by: str | None
    dismissed_at: float | None
    dismissed_reason: str | None
    has_snapshot: bool
    notified: tuple[Notification, ...] = ()
    detail: Mapping[str, object] = field(default_factory=dict)
    actions: tuple[ResponseAction, ...] = ()
    evidence_at: float | None = None
    """When the alert's clip and keyframe strip were stored (None: not yet, or never)."""

    @property
    def active(self) -> bool:
        """Whether the alert is still open (started or updated, not ended)."""
        return self.state in OPEN_STATES

    @property
    def acknowledged(self) -> bool:
        """Whether a person acknowledged the alert."""
        return self.acknowledged_by is not None

    @property
    def dismissed(self) -> bool:
        """Whether a person dismissed the alert as a false alarm."""
        return self.dismissed_by is not None


@dataclass(frozen=True, slots=True)
class EventChange:
    """One row of the change feed: what happened to which event, and the event after it."""

    cursor: int
    event_id: str
    change: ChangeKind
    at: float
    event: EventRecord


def _same(value: Any) -> Any:
    return value


_NO_DEFAULT: Final = object()


@dataclass(frozen=True, slots=True)
class Column:
    """One field of :class:`EventRecord`: its column, and its plain (JSON) form.

    ``plain``/``unplain`` turn the field's value into a JSON value and back; a
    ``json_column`` keeps that JSON as text in SQLite. ``key`` is the field's name in the
    JSON copy of a change (its attribute name unless said). ``since`` names the migration
    that added the column (empty: schema version 1), with ``sql`` its type for it;
    ``default`` is what a change stored before then reads as. A ``computed`` field is not
    a column of ``events`` (the query adds it).
    """

    name: str
    plain: Callable[[Any], Any] = _same
    unplain: Callable[[Any], Any] = _same
    json_column: bool = False
    key: str = ""
    since: str = ""
    sql: str = ""
    default: Any = _NO_DEFAULT
    computed: bool = False

    @property
    def json_key(self) -> str:
        """The field's key in a change's stored JSON."""
        return self.key or self.name

    def to_db(self, value: Any) -> Any:
        """The value as its SQLite column holds it."""
        plain = self.plain(value)
        return json.dumps(plain, allow_nan=False) if self.json_column else plain

    def from_db(self, stored: Any) -> Any:
        """The field's value from its SQLite column."""
        return self.unplain(json.loads(stored) if self.json_column else stored)


def _model_plain(model: ModelInfo) -> dict[str, str]:
    return {
        "name": model.name,
        "version": model.version,
        "device": model.device,
        "precision": model.precision,
    }


def _notification_plain(notification: Notification) -> dict[str, object]:
    return {
        "recipients": list(notification.recipients),
        "channel": notification.channel,
        "by": notification.by,
        "at": notification.at,
    }


def _notification(data: Mapping[str, Any]) -> Notification:
    return Notification(tuple(data["recipients"]), data["channel"], data["by"], data["at"])


def _action_plain(action: ResponseAction) -> dict[str, object]:
    return {
        "step_id": action.step_id,
        "step": action.step,
        "targets": list(action.targets),
        "confirmed": dict(action.confirmed),
        "by": action.by,
        "note": action.note,
        "at": action.at,
    }


def _action(data: Mapping[str, Any]) -> ResponseAction:
    return ResponseAction(
        step_id=data["step_id"],
        step=data["step"],
        targets=tuple(data["targets"]),
        confirmed=dict(data["confirmed"]),
        by=data["by"],
        note=data["note"],
        at=data["at"],
    )


COLUMNS: Final = (
    Column("id"),
    Column("camera_id"),
    Column("camera_name"),
    Column("location"),
    Column("rule"),
    Column("zone"),
    Column("state"),
    Column("started_at"),
    Column("updated_at"),
    Column("ended_at"),
    Column("end_reason"),
    Column("confidence"),
    Column("scores", list, tuple, json_column=True),
    Column(
        "boxes",
        lambda boxes: [list(box) for box in boxes],
        lambda boxes: tuple((b[0], b[1], b[2], b[3]) for b in boxes),
        json_column=True,
    ),
    Column("drill", bool, bool),
    Column("model", _model_plain, lambda data: ModelInfo(**data), json_column=True),
    Column("thresholds", dict, _same, json_column=True),
    Column("acknowledged_by"),
    Column("acknowledged_at"),
    Column("acknowledged_note"),
    Column("dismissed_by"),
    Column("dismissed_at"),
    Column("dismissed_reason"),
    Column("has_snapshot", bool, bool, key="snapshot", computed=True),
    Column(
        "notified",
        lambda told: [_notification_plain(n) for n in told],
        lambda told: tuple(_notification(n) for n in told),
        json_column=True,
        since="notified",
        sql="TEXT NOT NULL DEFAULT '[]'",
        default=[],
    ),
    Column(
        "detail",
        dict,
        _same,
        json_column=True,
        since="detail",
        sql="TEXT NOT NULL DEFAULT '{}'",
        default={},
    ),
    Column(
        "actions",
        lambda steps: [_action_plain(a) for a in steps],
        lambda steps: tuple(_action(a) for a in steps),
        json_column=True,
        since="actions",
        sql="TEXT NOT NULL DEFAULT '[]'",
        default=[],
    ),
    Column("evidence_at", since="evidence", sql="REAL", default=None),
)
"""Every field of :class:`EventRecord`, in its order."""

if tuple(column.name for column in COLUMNS) != tuple(f.name for f in fields(EventRecord)):
    raise RuntimeError("COLUMNS must list every EventRecord field, in order")

_BY_NAME: Final = {column.name: column for column in COLUMNS}


def column(name: str) -> Column:
    """The table row of field ``name``."""
    return _BY_NAME[name]


def record_from_row(row: sqlite3.Row) -> EventRecord:
    """The record in a row of ``events`` (joined with its snapshot flag)."""
    return EventRecord(**{c.name: c.from_db(row[c.name]) for c in COLUMNS})


def stored_json(record: EventRecord) -> str:
    """The JSON copy of the record a change row keeps (the event as it was right then)."""
    return json.dumps({c.json_key: c.plain(getattr(record, c.name)) for c in COLUMNS})


def record_from_stored(text: str) -> EventRecord:
    """The record from a change row's JSON copy; fields added since then read as default."""
    data = json.loads(text)
    values = {}
    for c in COLUMNS:
        plain = data.get(c.json_key, c.default)
        if plain is _NO_DEFAULT:
            raise KeyError(c.json_key)
        values[c.name] = c.unplain(plain)
    return EventRecord(**values)


def change_from_row(row: sqlite3.Row) -> EventChange:
    """One row of ``event_changes``."""
    return EventChange(
        cursor=row["cursor"],
        event_id=row["event_id"],
        change=row["change"],
        at=row["at"],
        event=record_from_stored(row["event"]),
    )
