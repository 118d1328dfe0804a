"""The incident log: every alert's lifecycle, who handled it, and its best snapshot.

Why SQLite in WAL mode: one file under the data directory, no server, readers (the API,
``export``) never block the engine's writer, and a committed change survives the process
being killed. ``synchronous=FULL`` makes it survive a power cut too; an alert is worth one
fsync.

Layout (schema version 3, kept in ``PRAGMA user_version``; older files are migrated):

* ``events``: one row per alert, the current state of every field of :class:`EventRecord`,
  including ``notified``: who was told about it, through what (version 2), and ``detail``:
  what the rule saw, e.g. a fight's pose and model scores (version 3).
* ``event_changes``: one row per change with an AUTOINCREMENT ``cursor`` (never reused, even
  after rows are purged), the kind of change and the event as it was right after it. API
  clients ask "what changed since cursor N" and replay the rows in order.
* ``snapshots``: the best JPEG of each event, as a BLOB in the same database, so an event
  and its image are written, purged and backed up together (no orphan files). "Best" means
  the snapshot sent with the highest frame confidence; a tie keeps the earlier one.

Privacy: snapshots show students, so the file is created with mode 0600, deleted rows are
overwritten (``secure_delete``) and :meth:`IncidentLog.purge` also empties the WAL file.

Every method is synchronous and serialised by one lock: the engine calls the log from a
worker thread, the API from another. One process at a time owns the log (an exclusive
``<file>.lock``), because opening it runs crash recovery.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from types import TracebackType
from typing import Literal, Self, cast

from detectors.errors import EventNotFoundError, EventStateError, IncidentLogError
from detectors.types import BoxXYXY

type EventState = Literal["started", "updated", "ended"]
EVIDENCE_CONFIDENCE = 2.0
"""Snapshot rank of an evidence picture: above any frame's confidence (at most 1)."""
type ChangeKind = Literal["started", "updated", "ended", "acknowledged", "dismissed", "notified"]

SCHEMA_VERSION = 3
ENGINE_RESTART = "engine_restart"
"""End reason of an alert that was still open when the engine stopped without ending it."""
DISMISSED = "dismissed"
"""End reason of an alert that a person dismissed while it was still open."""

_OPEN_STATES = ("started", "updated")
_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_SCHEMA_V1 = """
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    camera_name TEXT NOT NULL,
    location TEXT NOT NULL,
    rule TEXT NOT NULL,
    zone TEXT,
    state TEXT NOT NULL,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT,
    confidence REAL NOT NULL,
    scores TEXT NOT NULL,
    boxes TEXT NOT NULL,
    drill INTEGER NOT NULL,
    model TEXT NOT NULL,
    thresholds TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at REAL,
    acknowledged_note TEXT,
    dismissed_by TEXT,
    dismissed_at REAL,
    dismissed_reason TEXT
);
CREATE INDEX events_by_start ON events (started_at);
CREATE INDEX events_by_state ON events (state, ended_at);
CREATE TABLE snapshots (
    event_id TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    confidence REAL NOT NULL,
    jpeg BLOB NOT NULL
);
CREATE TABLE event_changes (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    change TEXT NOT NULL,
    at REAL NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX event_changes_by_event ON event_changes (event_id, cursor);
"""

_MIGRATE_TO_V2 = """
ALTER TABLE events ADD COLUMN notified TEXT NOT NULL DEFAULT '[]'
"""
_MIGRATE_TO_V3 = """
ALTER TABLE events ADD COLUMN detail TEXT NOT NULL DEFAULT '{}'
"""
MAX_RECIPIENTS = 50
"""Recipients accepted in one notification record (a page goes to a handful of people)."""

_SELECT_EVENT = """
SELECT events.*, snapshots.event_id IS NOT NULL AS has_snapshot
FROM events LEFT JOIN snapshots ON snapshots.event_id = events.id
"""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The model that raised an alert, kept with it so an audit can say what decided."""

    name: str
    version: str
    device: str
    precision: str

    def to_json(self) -> dict[str, str]:
        """Return the JSON shape stored with the event and sent by the API."""
        return {
            "name": self.name,
            "version": self.version,
            "device": self.device,
            "precision": self.precision,
        }


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

    def to_json(self) -> dict[str, object]:
        """Return the JSON shape stored with the event and sent by the API."""
        return {
            "recipients": list(self.recipients),
            "channel": self.channel,
            "by": self.by,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Notification:
        """Rebuild from :meth:`to_json` output."""
        return cls(
            recipients=tuple(cast("list[str]", data["recipients"])),
            channel=cast("str", data["channel"]),
            by=cast("str", data["by"]),
            at=cast("float", data["at"]),
        )


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One alert as stored in the incident log.

    ``confidence`` is the highest confidence seen while the alert was open; ``scores`` and
    ``boxes`` are those of the latest start/update. ``thresholds`` are the rule's settings
    in force when the alert started (any JSON value, e.g. ``RuleEngine.thresholds()``).
    ``detail`` is what the rule reported with the latest start/update (a fight: the method,
    limb speeds, pose score and the fight model's score).
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

    @property
    def active(self) -> bool:
        """Whether the alert is still open (started or updated, not ended)."""
        return self.state in _OPEN_STATES

    @property
    def acknowledged(self) -> bool:
        """Whether a person acknowledged the alert."""
        return self.acknowledged_by is not None

    @property
    def dismissed(self) -> bool:
        """Whether a person dismissed the alert as a false alarm."""
        return self.dismissed_by is not None

    def to_json(self) -> dict[str, object]:
        """Return the event's JSON shape for the API, MQTT and exports (no image bytes)."""
        return {
            "id": self.id,
            "camera_id": self.camera_id,
            "camera_name": self.camera_name,
            "location": self.location,
            "rule": self.rule,
            "zone": self.zone,
            "state": self.state,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "confidence": self.confidence,
            "scores": list(self.scores),
            "boxes": [list(box) for box in self.boxes],
            "drill": self.drill,
            "model": self.model.to_json(),
            "thresholds": dict(self.thresholds),
            "acknowledged": self.acknowledged,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_note": self.acknowledged_note,
            "dismissed": self.dismissed,
            "dismissed_by": self.dismissed_by,
            "dismissed_at": self.dismissed_at,
            "dismissed_reason": self.dismissed_reason,
            "snapshot": self.has_snapshot,
            "notified": [n.to_json() for n in self.notified],
            "detail": dict(self.detail),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> EventRecord:
        """Rebuild a record from :meth:`to_json` output (how change rows are stored)."""
        model = cast("dict[str, str]", data["model"])
        boxes = cast("list[list[float]]", data["boxes"])
        return cls(
            id=cast("str", data["id"]),
            camera_id=cast("str", data["camera_id"]),
            camera_name=cast("str", data["camera_name"]),
            location=cast("str", data["location"]),
            rule=cast("str", data["rule"]),
            zone=cast("str | None", data["zone"]),
            state=cast("EventState", data["state"]),
            started_at=cast("float", data["started_at"]),
            updated_at=cast("float", data["updated_at"]),
            ended_at=cast("float | None", data["ended_at"]),
            end_reason=cast("str | None", data["end_reason"]),
            confidence=cast("float", data["confidence"]),
            scores=tuple(cast("list[float]", data["scores"])),
            boxes=tuple((b[0], b[1], b[2], b[3]) for b in boxes),
            drill=cast("bool", data["drill"]),
            model=ModelInfo(**model),
            thresholds=cast("dict[str, object]", data["thresholds"]),
            acknowledged_by=cast("str | None", data["acknowledged_by"]),
            acknowledged_at=cast("float | None", data["acknowledged_at"]),
            acknowledged_note=cast("str | None", data["acknowledged_note"]),
            dismissed_by=cast("str | None", data["dismissed_by"]),
            dismissed_at=cast("float | None", data["dismissed_at"]),
            dismissed_reason=cast("str | None", data["dismissed_reason"]),
            has_snapshot=cast("bool", data["snapshot"]),
            notified=tuple(
                Notification.from_json(n)
                for n in cast("list[dict[str, object]]", data.get("notified", []))
            ),
            detail=cast("dict[str, object]", data.get("detail", {})),
        )


@dataclass(frozen=True, slots=True)
class EventChange:
    """One row of the change feed: what happened to which event, and the event after it."""

    cursor: int
    event_id: str
    change: ChangeKind
    at: float
    event: EventRecord


def _dumps(value: object, what: str) -> str:
    """Serialise to strict JSON; NaN/inf would make the stored JSON unreadable elsewhere."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise IncidentLogError(f"{what} cannot be stored as JSON: {err}") from err


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise IncidentLogError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _named(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise IncidentLogError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def _record_from_row(row: sqlite3.Row) -> EventRecord:
    model = json.loads(row["model"])
    return EventRecord(
        id=row["id"],
        camera_id=row["camera_id"],
        camera_name=row["camera_name"],
        location=row["location"],
        rule=row["rule"],
        zone=row["zone"],
        state=row["state"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        confidence=row["confidence"],
        scores=tuple(json.loads(row["scores"])),
        boxes=tuple((b[0], b[1], b[2], b[3]) for b in json.loads(row["boxes"])),
        drill=bool(row["drill"]),
        model=ModelInfo(**model),
        thresholds=json.loads(row["thresholds"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_note=row["acknowledged_note"],
        dismissed_by=row["dismissed_by"],
        dismissed_at=row["dismissed_at"],
        dismissed_reason=row["dismissed_reason"],
        has_snapshot=bool(row["has_snapshot"]),
        notified=tuple(Notification.from_json(n) for n in json.loads(row["notified"])),
        detail=json.loads(row["detail"]),
    )


def _change_from_row(row: sqlite3.Row) -> EventChange:
    return EventChange(
        cursor=row["cursor"],
        event_id=row["event_id"],
        change=row["change"],
        at=row["at"],
        event=EventRecord.from_json(json.loads(row["event"])),
    )


def snapshot_file_name(event_id: str) -> str:
    """Return the export file name of an event's snapshot.

    Event ids are chosen by the engine, but an id that is not a plain file name (a slash,
    a leading dot) must never pick where the file lands, so such ids are hashed.
    """
    if _SAFE_FILE_NAME.fullmatch(event_id):
        return f"{event_id}.jpg"
    return f"event-{sha256(event_id.encode()).hexdigest()[:16]}.jpg"


class IncidentLog:
    """The SQLite incident log; see the module docstring for the layout and guarantees."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        """Remember where the log lives; nothing touches the disk before :meth:`open`."""
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> list[EventChange]:
        """Open (or create) the log and close alerts a crash left open.

        An alert still ``started``/``updated`` here was never ended because the engine
        died (kill -9, power cut). It ends with reason ``engine_restart`` at its last
        update time, the last moment it was known to be true; the changes are returned
        so the engine can publish them.
        """
        with self._lock:
            if self._conn is not None:
                raise IncidentLogError(f"incident log {self.path} is already open")
            self._take_ownership()
            try:
                self._conn = self._connect()
                return self._close_interrupted_events(self._conn)
            except BaseException:
                self._release()
                raise

    def close(self) -> None:
        """Close the database; calling it twice is harmless."""
        with self._lock:
            self._release()

    def _take_ownership(self) -> None:
        """Hold an exclusive lock file for as long as the log is open.

        Crash recovery must only run when no other process has the log open; otherwise
        a second process (a second engine, a CLI tool) would end the first one's live
        alerts as "engine_restart". The kernel drops the lock when a process dies, even
        by SIGKILL, so a crash never leaves it stuck.
        """
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as err:
            raise IncidentLogError(f"cannot open incident log {self.path}: {err}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise IncidentLogError(
                f"incident log {self.path} is in use by another process "
                "(only one engine may open it; read it through the engine API)"
            ) from None
        self._lock_fd = fd

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Self:
        """Open the log for a ``with`` block (the crash-recovery changes are dropped)."""
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the log at the end of a ``with`` block."""
        self.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as err:
            raise IncidentLogError(f"cannot open incident log {self.path}: {err}") from err
        conn.row_factory = sqlite3.Row
        try:
            self._prepare(conn)
        except sqlite3.DatabaseError as err:
            conn.close()
            raise IncidentLogError(f"cannot open incident log {self.path}: {err}") from err
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise IncidentLogError(
                f"incident log {self.path} has schema version {version}, newer than this "
                f"engine's {SCHEMA_VERSION}; upgrade the engine"
            )
        if version == 0:
            # auto_vacuum only takes effect before the first table exists.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise IncidentLogError(
                f"incident log {self.path}: the file system refused WAL mode ({mode})"
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if version == 0:
                for statement in _SCHEMA_V1.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if version < 2:
                conn.execute(_MIGRATE_TO_V2)
            conn.execute(_MIGRATE_TO_V3)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _close_interrupted_events(self, conn: sqlite3.Connection) -> list[EventChange]:
        now = self._clock()
        with _transaction(conn):
            rows = conn.execute(
                "SELECT id, updated_at FROM events WHERE state IN (?, ?) ORDER BY started_at",
                _OPEN_STATES,
            ).fetchall()
            changes = []
            for row in rows:
                conn.execute(
                    "UPDATE events SET state = 'ended', ended_at = updated_at, end_reason = ? "
                    "WHERE id = ?",
                    (ENGINE_RESTART, row["id"]),
                )
                changes.append(self._log_change(conn, row["id"], "ended", now))
        return changes

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise IncidentLogError(f"incident log {self.path} is not open")
        return self._conn

    # -- writes by the engine ------------------------------------------------------------

    def record_start(
        self,
        *,
        event_id: str,
        camera_id: str,
        camera_name: str,
        location: str,
        rule: str,
        zone: str | None,
        at: float,
        confidence: float,
        scores: Sequence[float],
        boxes: Sequence[BoxXYXY],
        drill: bool,
        model: ModelInfo,
        thresholds: Mapping[str, object],
        snapshot_jpeg: bytes | None,
        detail: Mapping[str, object] | None = None,
    ) -> EventChange:
        """Store a new alert; an id that is already in the log is refused."""
        values = (
            _named(event_id, "event_id"),
            _named(camera_id, "camera_id"),
            camera_name,
            location,
            _named(rule, "rule"),
            zone,
            "started",
            _finite(at, "at"),
            at,
            _finite(confidence, "confidence"),
            _dumps([_finite(s, "score") for s in scores], "scores"),
            _dumps([list(box) for box in boxes], "boxes"),
            int(bool(drill)),
            _dumps(model.to_json(), "model"),
            _dumps(dict(thresholds), "thresholds"),
            _dumps(dict(detail or {}), "detail"),
        )
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                if self._find(conn, event_id) is not None:
                    raise EventStateError(f"event {event_id!r} is already in the incident log")
                conn.execute(
                    "INSERT INTO events (id, camera_id, camera_name, location, rule, zone, "
                    "state, started_at, updated_at, confidence, scores, boxes, drill, model, "
                    "thresholds, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
                if snapshot_jpeg is not None:
                    self._offer_snapshot(conn, event_id, confidence, snapshot_jpeg)
                return self._log_change(conn, event_id, "started", at)

    def record_update(
        self,
        event_id: str,
        *,
        at: float,
        confidence: float,
        scores: Sequence[float],
        boxes: Sequence[BoxXYXY],
        snapshot_jpeg: bytes | None,
        detail: Mapping[str, object] | None = None,
    ) -> EventChange:
        """Record fresh evidence for an open alert; its snapshot is kept if it is the best.

        ``detail`` replaces the stored one when given (``None`` keeps it).
        """
        _finite(at, "at")
        _finite(confidence, "confidence")
        scores_json = _dumps([_finite(s, "score") for s in scores], "scores")
        boxes_json = _dumps([list(box) for box in boxes], "boxes")
        detail_json = None if detail is None else _dumps(dict(detail), "detail")
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                current = self._get_open(conn, event_id, "update")
                conn.execute(
                    "UPDATE events SET state = 'updated', updated_at = ?, confidence = ?, "
                    "scores = ?, boxes = ?, detail = COALESCE(?, detail) WHERE id = ?",
                    (
                        at,
                        max(current.confidence, confidence),
                        scores_json,
                        boxes_json,
                        detail_json,
                        event_id,
                    ),
                )
                if snapshot_jpeg is not None:
                    self._offer_snapshot(conn, event_id, confidence, snapshot_jpeg)
                return self._log_change(conn, event_id, "updated", at)

    def attach_evidence(self, event_id: str, jpeg: bytes, *, at: float) -> EventChange | None:
        """Make ``jpeg`` the event's snapshot for good: the sharp picture fetched at its start.

        Stream roles (docs/onvif.md): detection reads the camera's small stream, and when
        an alert starts one picture is fetched from its snapshot URI or main stream. That
        picture wins over every analysed frame offered later. An open event gets an
        ``updated`` change so clients fetch the new picture; for one that ended meanwhile
        the picture is kept and None is returned.
        """
        _finite(at, "at")
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                record = self._get(conn, event_id)
                conn.execute(
                    "INSERT INTO snapshots (event_id, confidence, jpeg) VALUES (?, ?, ?) "
                    "ON CONFLICT (event_id) DO UPDATE SET confidence = excluded.confidence, "
                    "jpeg = excluded.jpeg",
                    (event_id, EVIDENCE_CONFIDENCE, sqlite3.Binary(jpeg)),
                )
                if not record.active:
                    return None
                conn.execute(
                    "UPDATE events SET state = 'updated', updated_at = ? WHERE id = ?",
                    (at, event_id),
                )
                return self._log_change(conn, event_id, "updated", at)

    def record_end(self, event_id: str, *, at: float, reason: str = "quiet") -> EventChange:
        """End an open alert (``quiet``: the rule saw nothing for its quiet period)."""
        _finite(at, "at")
        _named(reason, "reason")
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                self._get_open(conn, event_id, "end")
                conn.execute(
                    "UPDATE events SET state = 'ended', updated_at = ?, ended_at = ?, "
                    "end_reason = ? WHERE id = ?",
                    (at, at, reason, event_id),
                )
                return self._log_change(conn, event_id, "ended", at)

    # -- writes by people ----------------------------------------------------------------

    def acknowledge(self, event_id: str, *, by: str, note: str = "") -> EventChange:
        """Record that ``by`` has seen the alert and is responding.

        A dismissed alert cannot be acknowledged, and a second acknowledgement is refused
        so the first responder's name is never overwritten.
        """
        person = _named(by, "by")
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                current = self._get(conn, event_id)
                if current.dismissed:
                    raise EventStateError(
                        f"event {event_id!r} was dismissed by {current.dismissed_by}; "
                        "a dismissed alert cannot be acknowledged"
                    )
                if current.acknowledged:
                    raise EventStateError(
                        f"event {event_id!r} was already acknowledged by {current.acknowledged_by}"
                    )
                now = self._clock()
                conn.execute(
                    "UPDATE events SET acknowledged_by = ?, acknowledged_at = ?, "
                    "acknowledged_note = ? WHERE id = ?",
                    (person, now, note, event_id),
                )
                return self._log_change(conn, event_id, "acknowledged", now)

    def dismiss(self, event_id: str, *, by: str, reason: str = "") -> EventChange:
        """Mark the alert a false alarm; an open alert also ends (reason ``dismissed``)."""
        person = _named(by, "by")
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                current = self._get(conn, event_id)
                if current.dismissed:
                    raise EventStateError(
                        f"event {event_id!r} was already dismissed by {current.dismissed_by}"
                    )
                now = self._clock()
                conn.execute(
                    "UPDATE events SET dismissed_by = ?, dismissed_at = ?, dismissed_reason = ? "
                    "WHERE id = ?",
                    (person, now, reason, event_id),
                )
                if current.active:
                    conn.execute(
                        "UPDATE events SET state = 'ended', ended_at = ?, end_reason = ? "
                        "WHERE id = ?",
                        (now, DISMISSED, event_id),
                    )
                return self._log_change(conn, event_id, "dismissed", now)

    def record_notified(
        self, event_id: str, *, recipients: Sequence[str], channel: str, by: str
    ) -> EventChange:
        """Add who was told about the alert (any state: a dismissal is told too)."""
        names = tuple(_named(r, "recipient") for r in recipients)
        if not 1 <= len(names) <= MAX_RECIPIENTS:
            raise IncidentLogError(
                f"recipients: between 1 and {MAX_RECIPIENTS} names, got {len(names)}"
            )
        channel, by = _named(channel, "channel"), _named(by, "by")
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                current = self._get(conn, event_id)
                now = self._clock()
                told = (*current.notified, Notification(names, channel, by, now))
                conn.execute(
                    "UPDATE events SET notified = ? WHERE id = ?",
                    (_dumps([n.to_json() for n in told], "notified"), event_id),
                )
                return self._log_change(conn, event_id, "notified", now)

    # -- reads ---------------------------------------------------------------------------

    def get(self, event_id: str) -> EventRecord:
        """Return one event; :class:`EventNotFoundError` if it is not (or no longer) stored."""
        with self._lock:
            return self._get(self._require(), event_id)

    def snapshot(self, event_id: str) -> bytes | None:
        """Return the event's best JPEG, or None if it has none.

        Raises :class:`EventNotFoundError` for an unknown event, so the API can tell
        "no such event" (404) from "no image" apart.
        """
        with self._lock:
            conn = self._require()
            self._get(conn, event_id)
            row = conn.execute(
                "SELECT jpeg FROM snapshots WHERE event_id = ?", (event_id,)
            ).fetchone()
        return None if row is None else bytes(row["jpeg"])

    def changes_since(self, cursor: int, limit: int = 500) -> list[EventChange]:
        """Return up to ``limit`` changes with a cursor above ``cursor``, oldest first."""
        if limit < 1:
            raise IncidentLogError(f"limit must be at least 1, got {limit}")
        with self._lock:
            rows = (
                self._require()
                .execute(
                    "SELECT * FROM event_changes WHERE cursor > ? ORDER BY cursor LIMIT ?",
                    (cursor, limit),
                )
                .fetchall()
            )
        return [_change_from_row(row) for row in rows]

    def latest_cursor(self) -> int:
        """Return the highest cursor ever handed out (0 for a new log), even if purged."""
        with self._lock:
            row = (
                self._require()
                .execute("SELECT seq FROM sqlite_sequence WHERE name = 'event_changes'")
                .fetchone()
            )
        return 0 if row is None else int(row["seq"])

    def events(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        camera_id: str | None = None,
        rule: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        """Return events that started in ``[start, end)``, newest first, filtered."""
        if limit < 1:
            raise IncidentLogError(f"limit must be at least 1, got {limit}")
        where, params = _filters(start=start, end=end, camera_id=camera_id, rule=rule)
        with self._lock:
            rows = (
                self._require()
                .execute(
                    f"{_SELECT_EVENT} {where} ORDER BY events.started_at DESC, events.id LIMIT ?",
                    (*params, limit),
                )
                .fetchall()
            )
        return [_record_from_row(row) for row in rows]

    # -- retention and export ------------------------------------------------------------

    def purge(self, *, older_than_seconds: float) -> int:
        """Delete events that ended more than ``older_than_seconds`` ago; return how many.

        Their snapshots and change rows go too (retention covers the whole record). Open
        alerts are never purged. The WAL is checkpointed afterwards so deleted images do
        not linger in it.
        """
        if _finite(older_than_seconds, "older_than_seconds") < 0:
            raise IncidentLogError(
                f"older_than_seconds must not be negative, got {older_than_seconds}"
            )
        cutoff = self._clock() - older_than_seconds
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                ids = [
                    row["id"]
                    for row in conn.execute(
                        "SELECT id FROM events WHERE state = 'ended' AND ended_at < ?", (cutoff,)
                    )
                ]
                for event_id in ids:
                    conn.execute("DELETE FROM event_changes WHERE event_id = ?", (event_id,))
                    conn.execute("DELETE FROM snapshots WHERE event_id = ?", (event_id,))
                    conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
            if ids:
                conn.execute("PRAGMA incremental_vacuum")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(ids)

    def export(self, dest: Path, *, start: float, end: float) -> Path:
        """Write events that started in ``[start, end)`` to ``dest``; return the JSON path.

        ``dest/events.json`` holds every event (oldest first) with its change history and
        the name of its image under ``dest/images/``. ``dest`` must be new or empty so an
        export never mixes with an older one.
        """
        dest = Path(dest)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise IncidentLogError(f"export destination {dest} must be a new or empty folder")
        where, params = _filters(start=start, end=end, camera_id=None, rule=None)
        with self._lock:
            conn = self._require()
            with _transaction(conn):
                records = [
                    _record_from_row(row)
                    for row in conn.execute(
                        f"{_SELECT_EVENT} {where} ORDER BY events.started_at, events.id",
                        params,
                    )
                ]
                history = {
                    record.id: [
                        {"cursor": row["cursor"], "change": row["change"], "at": row["at"]}
                        for row in conn.execute(
                            "SELECT cursor, change, at FROM event_changes WHERE event_id = ? "
                            "ORDER BY cursor",
                            (record.id,),
                        )
                    ]
                    for record in records
                }
        images = dest / "images"
        images.mkdir(parents=True, exist_ok=True)
        exported = []
        for record in records:
            item = record.to_json()
            item["snapshot_file"] = None
            jpeg = self.snapshot(record.id) if record.has_snapshot else None
            if jpeg is not None:
                name = snapshot_file_name(record.id)
                (images / name).write_bytes(jpeg)
                item["snapshot_file"] = f"images/{name}"
            item["history"] = history[record.id]
            exported.append(item)
        document = {
            "exported_at": self._clock(),
            "start": start,
            "end": end,
            "count": len(exported),
            "events": exported,
        }
        target = dest / "events.json"
        partial = dest / "events.json.partial"
        partial.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        partial.replace(target)
        return target

    # -- helpers (caller holds the lock) -------------------------------------------------

    @staticmethod
    def _find(conn: sqlite3.Connection, event_id: str) -> EventRecord | None:
        row = conn.execute(f"{_SELECT_EVENT} WHERE events.id = ?", (event_id,)).fetchone()
        return None if row is None else _record_from_row(row)

    def _get(self, conn: sqlite3.Connection, event_id: str) -> EventRecord:
        record = self._find(conn, event_id)
        if record is None:
            raise EventNotFoundError(f"no event {event_id!r} in the incident log")
        return record

    def _get_open(self, conn: sqlite3.Connection, event_id: str, action: str) -> EventRecord:
        record = self._get(conn, event_id)
        if not record.active:
            how = f"dismissed by {record.dismissed_by}" if record.dismissed else record.end_reason
            raise EventStateError(f"cannot {action} event {event_id!r}: it already ended ({how})")
        return record

    @staticmethod
    def _offer_snapshot(
        conn: sqlite3.Connection, event_id: str, confidence: float, jpeg: bytes
    ) -> None:
        conn.execute(
            "INSERT INTO snapshots (event_id, confidence, jpeg) VALUES (?, ?, ?) "
            "ON CONFLICT (event_id) DO UPDATE SET confidence = excluded.confidence, "
            "jpeg = excluded.jpeg WHERE excluded.confidence > snapshots.confidence",
            (event_id, confidence, sqlite3.Binary(jpeg)),
        )

    def _log_change(
        self, conn: sqlite3.Connection, event_id: str, change: ChangeKind, at: float
    ) -> EventChange:
        record = self._get(conn, event_id)
        cursor = conn.execute(
            "INSERT INTO event_changes (event_id, change, at, event) VALUES (?, ?, ?, ?)",
            (event_id, change, at, json.dumps(record.to_json())),
        ).lastrowid
        assert cursor is not None
        return EventChange(cursor=cursor, event_id=event_id, change=change, at=at, event=record)


def _filters(
    *, start: float | None, end: float | None, camera_id: str | None, rule: str | None
) -> tuple[str, tuple[object, ...]]:
    """Build the WHERE clause shared by :meth:`IncidentLog.events` and ``export``."""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (
        ("events.started_at >= ?", start),
        ("events.started_at < ?", end),
        ("events.camera_id = ?", camera_id),
        ("events.rule = ?", rule),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error.

    IMMEDIATE takes the write lock up front, so a read-then-write never fails half way
    because another connection (a CLI export) wrote in between.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
