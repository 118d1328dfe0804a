"""The alert state machine: each change, inside the caller's transaction.

Every function here runs on a connection whose transaction the caller holds (the log's
lock taken, ``BEGIN IMMEDIATE`` issued), so a check and the write it allows can never be
split by another writer. Each change is logged with the event as it was right after it.
"""

from __future__ import annotations

import math
import sqlite3

from detectors.errors import EventNotFoundError, EventStateError, IncidentLogError
from detectors.incidents.records import (
    DISMISSED,
    ENGINE_RESTART,
    EVIDENCE_CONFIDENCE,
    MAX_ACTIONS,
    OPEN_STATES,
    ChangeKind,
    EventChange,
    EventRecord,
    Notification,
    ResponseAction,
    change_from_row,
    column,
    record_from_row,
    stored_json,
)
from detectors.incidents.schema import SELECT_EVENT


def stored(name: str, value: object, what: str | None = None) -> object:
    """``value`` as the column ``name`` stores it; strict JSON (NaN would be unreadable)."""
    try:
        return column(name).to_db(value)
    except (TypeError, ValueError) as err:
        raise IncidentLogError(f"{what or name} cannot be stored as JSON: {err}") from err


def finite(value: float, what: str) -> float:
    """``value`` if it is a finite number; a clear error otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise IncidentLogError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def named(value: str, what: str) -> str:
    """``value`` stripped, if it is a non-empty string; a clear error otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise IncidentLogError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def find(conn: sqlite3.Connection, event_id: str) -> EventRecord | None:
    """The event, or None."""
    row = conn.execute(f"{SELECT_EVENT} WHERE events.id = ?", (event_id,)).fetchone()
    return None if row is None else record_from_row(row)


def get(conn: sqlite3.Connection, event_id: str) -> EventRecord:
    """The event; :class:`EventNotFoundError` if it is not (or no longer) stored."""
    record = find(conn, event_id)
    if record is None:
        raise EventNotFoundError(f"no event {event_id!r} in the incident log")
    return record


def get_open(conn: sqlite3.Connection, event_id: str, action: str) -> EventRecord:
    """The event, if it is still open; ``action`` names what the caller wanted in the error."""
    record = get(conn, event_id)
    if not record.active:
        how = f"dismissed by {record.dismissed_by}" if record.dismissed else record.end_reason
        raise EventStateError(f"cannot {action} event {event_id!r}: it already ended ({how})")
    return record


def offer_snapshot(conn: sqlite3.Connection, event_id: str, confidence: float, jpeg: bytes) -> None:
    """Keep ``jpeg`` if it is the event's first or most confident snapshot."""
    conn.execute(
        "INSERT INTO snapshots (event_id, confidence, jpeg) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id) DO UPDATE SET confidence = excluded.confidence, "
        "jpeg = excluded.jpeg WHERE excluded.confidence > snapshots.confidence",
        (event_id, confidence, sqlite3.Binary(jpeg)),
    )


def log_change(
    conn: sqlite3.Connection, event_id: str, change: ChangeKind, at: float
) -> EventChange:
    """Add a change row with the event as it is now; the change, with its new cursor."""
    record = get(conn, event_id)
    cursor = conn.execute(
        "INSERT INTO event_changes (event_id, change, at, event) VALUES (?, ?, ?, ?)",
        (event_id, change, at, stored_json(record)),
    ).lastrowid
    assert cursor is not None
    return EventChange(cursor=cursor, event_id=event_id, change=change, at=at, event=record)


def start(
    conn: sqlite3.Connection,
    values: dict[str, object],
    *,
    at: float,
    confidence: float,
    snapshot: bytes | None,
) -> EventChange:
    """Insert a new event (``values``: column -> stored value); a known id is refused."""
    event_id = str(values["id"])
    if find(conn, event_id) is not None:
        raise EventStateError(f"event {event_id!r} is already in the incident log")
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(
        # the column names are the log's own keys, never input
        f"INSERT INTO events ({names}) VALUES ({marks})",  # noqa: S608
        tuple(values.values()),
    )
    if snapshot is not None:
        offer_snapshot(conn, event_id, confidence, snapshot)
    return log_change(conn, event_id, "started", at)


def update(
    conn: sqlite3.Connection,
    event_id: str,
    *,
    at: float,
    confidence: float,
    scores: object,
    boxes: object,
    detail: object | None,
    snapshot: bytes | None,
) -> EventChange:
    """Fresh evidence for an open alert; its confidence is the highest seen.

    ``detail`` (stored form) replaces the event's when given; None keeps it.
    """
    current = get_open(conn, event_id, "update")
    conn.execute(
        "UPDATE events SET state = 'updated', updated_at = ?, confidence = ?, "
        "scores = ?, boxes = ?, detail = COALESCE(?, detail) WHERE id = ?",
        (at, max(current.confidence, confidence), scores, boxes, detail, event_id),
    )
    if snapshot is not None:
        offer_snapshot(conn, event_id, confidence, snapshot)
    return log_change(conn, event_id, "updated", at)


def attach_evidence(
    conn: sqlite3.Connection, event_id: str, jpeg: bytes, *, at: float
) -> EventChange | None:
    """Make ``jpeg`` the event's snapshot for good; an open event gets an ``updated`` change."""
    record = get(conn, event_id)
    conn.execute(
        "INSERT INTO snapshots (event_id, confidence, jpeg) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id) DO UPDATE SET confidence = excluded.confidence, "
        "jpeg = excluded.jpeg",
        (event_id, EVIDENCE_CONFIDENCE, sqlite3.Binary(jpeg)),
    )
    if not record.active:
        return None
    conn.execute("UPDATE events SET state = 'updated', updated_at = ? WHERE id = ?", (at, event_id))
    return log_change(conn, event_id, "updated", at)


def store_clip(
    conn: sqlite3.Connection, event_id: str, clip: bytes, strip: bytes, *, at: float
) -> EventChange:
    """Keep the event's clip and keyframe strip (any state); an ``evidence`` change."""
    get(conn, event_id)
    conn.execute(
        "INSERT INTO evidence (event_id, clip, strip) VALUES (?, ?, ?) "
        "ON CONFLICT (event_id) DO UPDATE SET clip = excluded.clip, strip = excluded.strip",
        (event_id, sqlite3.Binary(clip), sqlite3.Binary(strip)),
    )
    conn.execute("UPDATE events SET evidence_at = ? WHERE id = ?", (at, event_id))
    return log_change(conn, event_id, "evidence", at)


def end(conn: sqlite3.Connection, event_id: str, *, at: float, reason: str) -> EventChange:
    """End an open alert."""
    get_open(conn, event_id, "end")
    conn.execute(
        "UPDATE events SET state = 'ended', updated_at = ?, ended_at = ?, end_reason = ? "
        "WHERE id = ?",
        (at, at, reason, event_id),
    )
    return log_change(conn, event_id, "ended", at)


def end_interrupted(conn: sqlite3.Connection, now: float) -> list[EventChange]:
    """End alerts a crash left open, at their last update (the last moment known true)."""
    rows = conn.execute(
        "SELECT id FROM events WHERE state IN (?, ?) ORDER BY started_at", OPEN_STATES
    ).fetchall()
    changes = []
    for row in rows:
        conn.execute(
            "UPDATE events SET state = 'ended', ended_at = updated_at, end_reason = ? WHERE id = ?",
            (ENGINE_RESTART, row["id"]),
        )
        changes.append(log_change(conn, row["id"], "ended", now))
    return changes


def acknowledge(
    conn: sqlite3.Connection, event_id: str, *, by: str, note: str, now: float
) -> EventChange:
    """``by`` saw the alert; never after a dismissal, never twice (the first name stays)."""
    current = get(conn, event_id)
    if current.dismissed:
        raise EventStateError(
            f"event {event_id!r} was dismissed by {current.dismissed_by}; "
            "a dismissed alert cannot be acknowledged"
        )
    if current.acknowledged:
        raise EventStateError(
            f"event {event_id!r} was already acknowledged by {current.acknowledged_by}"
        )
    conn.execute(
        "UPDATE events SET acknowledged_by = ?, acknowledged_at = ?, acknowledged_note = ? "
        "WHERE id = ?",
        (by, now, note, event_id),
    )
    return log_change(conn, event_id, "acknowledged", now)


def dismiss(
    conn: sqlite3.Connection, event_id: str, *, by: str, reason: str, now: float
) -> EventChange:
    """A false alarm; an open alert also ends (reason ``dismissed``). Once only."""
    current = get(conn, event_id)
    if current.dismissed:
        raise EventStateError(f"event {event_id!r} was already dismissed by {current.dismissed_by}")
    conn.execute(
        "UPDATE events SET dismissed_by = ?, dismissed_at = ?, dismissed_reason = ? WHERE id = ?",
        (by, now, reason, event_id),
    )
    if current.active:
        conn.execute(
            "UPDATE events SET state = 'ended', ended_at = ?, end_reason = ? WHERE id = ?",
            (now, DISMISSED, event_id),
        )
    return log_change(conn, event_id, "dismissed", now)


def notify(conn: sqlite3.Connection, event_id: str, told: Notification) -> EventChange:
    """Add who was told (any state: a dismissal is told too)."""
    current = get(conn, event_id)
    conn.execute(
        "UPDATE events SET notified = ? WHERE id = ?",
        (stored("notified", (*current.notified, told)), event_id),
    )
    return log_change(conn, event_id, "notified", told.at)


def _recorded_by(conn: sqlite3.Connection, event_id: str, step_id: str) -> EventChange:
    """The ``action`` change that first recorded ``step_id`` (the answer to a retry)."""
    rows = conn.execute(
        "SELECT * FROM event_changes WHERE event_id = ? AND change = 'action' ORDER BY cursor",
        (event_id,),
    ).fetchall()
    for row in rows:
        change = change_from_row(row)
        if any(a.step_id == step_id for a in change.event.actions):
            return change
    raise IncidentLogError(f"event {event_id!r}: step {step_id!r} is stored without its change")


def record_action(
    conn: sqlite3.Connection, event_id: str, action: ResponseAction
) -> tuple[EventChange, bool]:
    """Add a response step (any state: the all clear comes after the alert ended).

    Idempotent on ``step_id``: the same step sent again is not stored twice and answers
    the change that stored it (False: nothing new); the same key for a different step is
    refused, because a client reusing keys would otherwise lose a step silently.
    """
    current = get(conn, event_id)
    for known in current.actions:
        if known.step_id != action.step_id:
            continue
        if (known.step, known.targets, dict(known.confirmed), known.by, known.note) != (
            action.step,
            action.targets,
            dict(action.confirmed),
            action.by,
            action.note,
        ):
            raise EventStateError(
                f"event {event_id!r}: step_id {action.step_id!r} was already used for "
                f"a different step ({known.step} by {known.by})"
            )
        return _recorded_by(conn, event_id, action.step_id), False
    if len(current.actions) >= MAX_ACTIONS:
        raise EventStateError(
            f"event {event_id!r} already has {MAX_ACTIONS} response steps, the most one alert keeps"
        )
    conn.execute(
        "UPDATE events SET actions = ? WHERE id = ?",
        (stored("actions", (*current.actions, action)), event_id),
    )
    return log_change(conn, event_id, "action", action.at), True
