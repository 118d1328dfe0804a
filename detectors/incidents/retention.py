"""Retention and export queries of the incident log (the caller holds the log's lock).

Privacy: retention covers the whole record, so an event's snapshot, clip, keyframe strip
and change rows go with it, and the WAL is checkpointed afterwards so deleted images do
not linger in it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from detectors.incidents.database import transaction
from detectors.incidents.records import EventRecord, record_from_row
from detectors.incidents.schema import SELECT_EVENT


@dataclass(frozen=True, slots=True)
class Exported:
    """One event of an export and its history: ``cursor``, ``change`` and ``at`` per change."""

    record: EventRecord
    history: list[dict[str, object]]


def filters(
    *, start: float | None, end: float | None, camera_id: str | None, rule: str | None
) -> tuple[str, tuple[object, ...]]:
    """The WHERE clause shared by event listings and exports."""
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


def events(
    conn: sqlite3.Connection,
    *,
    start: float | None,
    end: float | None,
    camera_id: str | None,
    rule: str | None,
    limit: int,
) -> list[EventRecord]:
    """Events that started in ``[start, end)``, newest first, filtered (a review's list)."""
    where, params = filters(start=start, end=end, camera_id=camera_id, rule=rule)
    rows = conn.execute(
        f"{SELECT_EVENT} {where} ORDER BY events.started_at DESC, events.id LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [record_from_row(row) for row in rows]


def purge(conn: sqlite3.Connection, cutoff: float) -> int:
    """Delete ended events whose end is before ``cutoff``; return how many."""
    with transaction(conn):
        ids = [
            row["id"]
            for row in conn.execute(
                "SELECT id FROM events WHERE state = 'ended' AND ended_at < ?", (cutoff,)
            )
        ]
        for event_id in ids:
            conn.execute("DELETE FROM event_changes WHERE event_id = ?", (event_id,))
            conn.execute("DELETE FROM snapshots WHERE event_id = ?", (event_id,))
            conn.execute("DELETE FROM evidence WHERE event_id = ?", (event_id,))
            conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
    if ids:
        conn.execute("PRAGMA incremental_vacuum")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(ids)


def window(conn: sqlite3.Connection, *, start: float, end: float) -> list[Exported]:
    """Events that started in ``[start, end)``, oldest first, each with its history."""
    where, params = filters(start=start, end=end, camera_id=None, rule=None)
    with transaction(conn):
        records = [
            record_from_row(row)
            for row in conn.execute(
                f"{SELECT_EVENT} {where} ORDER BY events.started_at, events.id", params
            )
        ]
        return [
            Exported(
                record,
                [
                    {"cursor": row["cursor"], "change": row["change"], "at": row["at"]}
                    for row in conn.execute(
                        "SELECT cursor, change, at FROM event_changes WHERE event_id = ? "
                        "ORDER BY cursor",
                        (record.id,),
                    )
                ],
            )
            for record in records
        ]
