"""The incident log opened read-only: the report never writes, migrates or locks it.

A report may run while the engine writes (WAL lets readers in) or on a copy of the file;
SQLite's ``mode=ro`` guarantees the report cannot change either. A log of another schema
version is refused rather than read with guesses: the engine migrates it at its start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from detectors.errors import IncidentLogError
from detectors.incidents.records import EventRecord, record_from_row
from detectors.incidents.schema import SCHEMA_VERSION, SELECT_EVENT


@dataclass(frozen=True, slots=True)
class Incident:
    """One alert of the period and its evidence snapshot (None: the log kept none)."""

    record: EventRecord
    snapshot: bytes | None


def read_incidents(
    path: Path,
    *,
    start: float,
    end: float,
    cameras: Sequence[str] = (),
    rules: Sequence[str] = (),
    snapshots: bool = True,
) -> list[Incident]:
    """Alerts that started in ``[start, end)``, oldest first, on these cameras and rules."""
    if not path.is_file():
        raise IncidentLogError(f"no incident log at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise IncidentLogError(f"cannot open incident log {path} read-only: {err}") from err
    conn.row_factory = sqlite3.Row
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise IncidentLogError(
                f"incident log {path} has schema version {version}, this report reads "
                f"version {SCHEMA_VERSION}; start the engine once to migrate it"
            )
        where = ["events.started_at >= ?", "events.started_at < ?"]
        params: list[object] = [start, end]
        for column, values in (("camera_id", cameras), ("rule", rules)):
            if values:
                where.append(f"events.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        rows = conn.execute(
            # the clauses are this function's own text; values are parameters
            f"{SELECT_EVENT} WHERE {' AND '.join(where)} ORDER BY events.started_at, events.id",
            params,
        ).fetchall()
        incidents = []
        for row in rows:
            record = record_from_row(row)
            jpeg = None
            if snapshots and record.has_snapshot:
                found = conn.execute(
                    "SELECT jpeg FROM snapshots WHERE event_id = ?", (record.id,)
                ).fetchone()
                jpeg = None if found is None else bytes(found["jpeg"])
            incidents.append(Incident(record, jpeg))
        return incidents
    except sqlite3.Error as err:
        raise IncidentLogError(f"cannot read incident log {path}: {err}") from err
    finally:
        conn.close()
