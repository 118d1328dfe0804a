"""The incident log: every alert's lifecycle, who handled it, and its best snapshot.

Why SQLite (see :mod:`.schema` for the layout): one file under the data directory, no
server, readers never block the engine's writer, and a committed change survives the
process being killed. Each change gets a cursor that is never reused, so API clients ask
"what changed since cursor N" and replay the rows in order. "Best" snapshot means the one
sent with the highest frame confidence; a tie keeps the earlier one.

Every method is synchronous and serialised by one lock: the engine calls the log from
worker threads (through :class:`detectors.incidents.aio.AsyncIncidentLog`, never on the
event loop). The checks and writes of each change are :mod:`.changes`; retention and
export queries are :mod:`.retention`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from sqlite3 import Connection
from types import TracebackType
from typing import Literal, Self

from detectors.errors import IncidentLogError
from detectors.incidents import changes, retention
from detectors.incidents.changes import finite, named, stored
from detectors.incidents.database import Database, transaction
from detectors.incidents.records import (
    EventChange,
    EventRecord,
    ModelInfo,
    change_from_row,
)
from detectors.incidents.steps import notification, response_action
from detectors.types import BoxXYXY


def _scores(scores: Sequence[float]) -> object:
    return stored("scores", [finite(s, "score") for s in scores])


class IncidentLog:
    """The SQLite incident log; see the module docstring for the guarantees."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        """Remember where the log lives; nothing touches the disk before :meth:`open`."""
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = Database(self.path)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """The connection, under the lock and inside one ``BEGIN IMMEDIATE`` transaction."""
        with self._lock:
            conn = self._db.require()
            with transaction(conn):
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._lock:
            yield self._db.require()

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> list[EventChange]:
        """Open (or create) the log and close alerts a crash left open.

        An alert still ``started``/``updated`` here was never ended because the engine
        died (kill -9, power cut). It ends with reason ``engine_restart`` at its last
        update time, the last moment it was known to be true; the changes are returned
        so the engine can publish them.
        """
        with self._lock:
            conn = self._db.open()
            try:
                with transaction(conn):
                    return changes.end_interrupted(conn, self._clock())
            except BaseException:
                self._db.close()
                raise

    def close(self) -> None:
        """Close the database; calling it twice is harmless."""
        with self._lock:
            self._db.close()

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

    def now(self) -> float:
        """The log's clock (the time it stamps people's changes with)."""
        return self._clock()

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
        values: dict[str, object] = {
            "id": named(event_id, "event_id"),
            "camera_id": named(camera_id, "camera_id"),
            "camera_name": camera_name,
            "location": location,
            "rule": named(rule, "rule"),
            "zone": zone,
            "state": "started",
            "started_at": finite(at, "at"),
            "updated_at": at,
            "confidence": finite(confidence, "confidence"),
            "scores": _scores(scores),
            "boxes": stored("boxes", boxes),
            "drill": stored("drill", drill),
            "model": stored("model", model),
            "thresholds": stored("thresholds", thresholds),
            "detail": stored("detail", detail or {}),
        }
        with self._writing() as conn:
            return changes.start(conn, values, at=at, confidence=confidence, snapshot=snapshot_jpeg)

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
        finite(at, "at")
        finite(confidence, "confidence")
        scores_json, boxes_json = _scores(scores), stored("boxes", boxes)
        detail_json = None if detail is None else stored("detail", detail)
        with self._writing() as conn:
            return changes.update(
                conn,
                event_id,
                at=at,
                confidence=confidence,
                scores=scores_json,
                boxes=boxes_json,
                detail=detail_json,
                snapshot=snapshot_jpeg,
            )

    def attach_evidence(self, event_id: str, jpeg: bytes, *, at: float) -> EventChange | None:
        """Make ``jpeg`` the event's snapshot for good: the sharp picture fetched at its start.

        Stream roles (docs/onvif.md): detection reads the camera's small stream, and when
        an alert starts one picture is fetched from its snapshot URI or main stream. That
        picture wins over every analysed frame offered later. An open event gets an
        ``updated`` change so clients fetch the new picture; for one that ended meanwhile
        the picture is kept and None is returned.
        """
        finite(at, "at")
        with self._writing() as conn:
            return changes.attach_evidence(conn, event_id, jpeg, at=at)

    def attach_clip(self, event_id: str, clip: bytes, strip: bytes, *, at: float) -> EventChange:
        """Keep the alert's clip (MP4) and keyframe strip (JPEG); an ``evidence`` change.

        Written once the post-roll has passed, so the alert may have ended meanwhile: any
        state takes them, and ``evidence_at`` records when they were ready.
        """
        finite(at, "at")
        if not clip or not strip:
            raise IncidentLogError("evidence needs both a clip and a strip")
        with self._writing() as conn:
            return changes.store_clip(conn, event_id, clip, strip, at=at)

    def record_end(self, event_id: str, *, at: float, reason: str = "quiet") -> EventChange:
        """End an open alert (``quiet``: the rule saw nothing for its quiet period)."""
        finite(at, "at")
        named(reason, "reason")
        with self._writing() as conn:
            return changes.end(conn, event_id, at=at, reason=reason)

    # -- writes by people ----------------------------------------------------------------

    def acknowledge(self, event_id: str, *, by: str, note: str = "") -> EventChange:
        """Record that ``by`` has seen the alert and is responding.

        A dismissed alert cannot be acknowledged, and a second acknowledgement is refused
        so the first responder's name is never overwritten.
        """
        person = named(by, "by")
        with self._writing() as conn:
            return changes.acknowledge(conn, event_id, by=person, note=note, now=self._clock())

    def dismiss(self, event_id: str, *, by: str, reason: str = "") -> EventChange:
        """Mark the alert a false alarm; an open alert also ends (reason ``dismissed``)."""
        person = named(by, "by")
        with self._writing() as conn:
            return changes.dismiss(conn, event_id, by=person, reason=reason, now=self._clock())

    def record_notified(
        self, event_id: str, *, recipients: Sequence[str], channel: str, by: str
    ) -> EventChange:
        """Add who was told about the alert (any state: a dismissal is told too)."""
        with self._writing() as conn:
            told = notification(recipients, channel, by, at=self._clock())
            return changes.notify(conn, event_id, told)

    def record_action(
        self,
        event_id: str,
        *,
        step_id: str,
        step: str,
        targets: Sequence[str] = (),
        confirmed: Mapping[str, bool] | None = None,
        by: str,
        note: str = "",
    ) -> tuple[EventChange, bool]:
        """Add one response step (doors locked, PA played...) to the alert's timeline.

        Returns the change that holds the step and whether it is new: the same
        ``step_id`` sent twice is stored once (see :func:`.changes.record_action`).
        ``confirmed`` names targets that reported the step done; each must be a target.
        """
        with self._writing() as conn:
            action = response_action(
                step_id, step, targets, confirmed, by=by, note=note, at=self._clock()
            )
            return changes.record_action(conn, event_id, action)

    # -- reads ---------------------------------------------------------------------------

    def get(self, event_id: str) -> EventRecord:
        """Return one event; :class:`EventNotFoundError` if it is not (or no longer) stored."""
        with self._reading() as conn:
            return changes.get(conn, event_id)

    def snapshot(self, event_id: str) -> bytes | None:
        """Return the event's best JPEG, or None if it has none.

        Raises :class:`EventNotFoundError` for an unknown event, so the API can tell
        "no such event" (404) from "no image" apart.
        """
        return self._blob("SELECT jpeg AS data FROM snapshots WHERE event_id = ?", event_id)

    def evidence(self, event_id: str, kind: Literal["clip", "strip"]) -> bytes | None:
        """The event's clip (MP4) or keyframe strip (JPEG); None while there is none.

        Raises :class:`EventNotFoundError` for an unknown (or purged) event.
        """
        # the column is one of two literals, never input
        query = f"SELECT {kind} AS data FROM evidence WHERE event_id = ?"  # noqa: S608
        return self._blob(query, event_id)

    def _blob(self, query: str, event_id: str) -> bytes | None:
        """One image or clip of a known event (``query`` selects it ``AS data``)."""
        with self._reading() as conn:
            changes.get(conn, event_id)
            row = conn.execute(query, (event_id,)).fetchone()
        return None if row is None else bytes(row["data"])

    def changes_since(self, cursor: int, limit: int = 500) -> list[EventChange]:
        """Return up to ``limit`` changes with a cursor above ``cursor``, oldest first."""
        if limit < 1:
            raise IncidentLogError(f"limit must be at least 1, got {limit}")
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT * FROM event_changes WHERE cursor > ? ORDER BY cursor LIMIT ?",
                (cursor, limit),
            ).fetchall()
        return [change_from_row(row) for row in rows]

    def latest_cursor(self) -> int:
        """Return the highest cursor ever handed out (0 for a new log), even if purged."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'event_changes'"
            ).fetchone()
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
        with self._reading() as conn:
            return retention.events(
                conn, start=start, end=end, camera_id=camera_id, rule=rule, limit=limit
            )

    # -- retention and export (queries in .retention) ------------------------------------

    def purge(self, *, older_than_seconds: float) -> int:
        """Delete events that ended more than ``older_than_seconds`` ago; return how many.

        Their snapshots, clips, keyframe strips and change rows go too (retention covers the
        whole record). Open alerts are never purged. The WAL is checkpointed afterwards so
        deleted images do not linger in it.
        """
        if finite(older_than_seconds, "older_than_seconds") < 0:
            raise IncidentLogError(
                f"older_than_seconds must not be negative, got {older_than_seconds}"
            )
        cutoff = self._clock() - older_than_seconds
        with self._reading() as conn:
            return retention.purge(conn, cutoff)

    def window(self, *, start: float, end: float) -> list[retention.Exported]:
        """Events that started in ``[start, end)``, oldest first, each with its history."""
        with self._reading() as conn:
            return retention.window(conn, start=start, end=end)
