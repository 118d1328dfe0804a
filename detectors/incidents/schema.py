"""The incident log's SQLite layout, its pragmas and its migrations.

Layout (the version is kept in ``PRAGMA user_version``; older files are migrated):

* ``events``: one row per alert, the current state of every field of ``EventRecord``.
* ``event_changes``: one row per change with an AUTOINCREMENT ``cursor`` (never reused, even
  after rows are purged), the kind of change and the event as it was right after it.
* ``snapshots``: the best JPEG of each event, as a BLOB in the same database, so an event
  and its image are written, purged and backed up together (no orphan files).
* ``evidence`` (since version 5, the ``evidence`` migration): each event's clip (H.264
  MP4) and keyframe strip (JPEG), BLOBs beside its snapshot for the same reason; a 10 s
  clip is a few hundred kB.

Why these pragmas: WAL lets readers (the API, ``export``) never block the engine's writer;
``synchronous=FULL`` makes a committed alert survive a power cut (an alert is worth one
fsync); ``secure_delete`` overwrites deleted rows, because snapshots show students.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from detectors.errors import IncidentLogError
from detectors.incidents.records import COLUMNS

SCHEMA_V1: Final = """
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
"""Version 1 exactly as it shipped: files of that version exist and are migrated from it."""

MIGRATION_ORDER: Final = ("notified", "detail", "actions", "evidence")
"""The migrations after version 1, in the order they shipped: the one at index ``i`` brings
a file to version ``i + 2``. A column names its migration (``Column.since``); a new
migration is appended here, never inserted, because files of every version exist."""

SCHEMA_VERSION: Final = len(MIGRATION_ORDER) + 1

TABLES_SINCE: Final[dict[str, tuple[str, ...]]] = {
    "evidence": (
        """CREATE TABLE evidence (
    event_id TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    clip BLOB NOT NULL,
    strip BLOB NOT NULL
)""",
    ),
}
"""Tables a migration added beside its columns, by the migration's name."""

MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    version: tuple(
        f"ALTER TABLE events ADD COLUMN {c.name} {c.sql}" for c in COLUMNS if c.since == name
    )
    + TABLES_SINCE.get(name, ())
    for version, name in enumerate(MIGRATION_ORDER, start=2)
}
"""The statements that bring a file from ``version - 1`` to ``version``."""

if {c.since for c in COLUMNS} - {"", *MIGRATION_ORDER}:
    raise RuntimeError("every column's migration must be listed in MIGRATION_ORDER")

SELECT_EVENT: Final = """
SELECT events.*, snapshots.event_id IS NOT NULL AS has_snapshot
FROM events LEFT JOIN snapshots ON snapshots.event_id = events.id
"""


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Set the pragmas, then create or migrate the tables to :data:`SCHEMA_VERSION`."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise IncidentLogError(
            f"incident log {path} has schema version {version}, newer than this "
            f"engine's {SCHEMA_VERSION}; upgrade the engine"
        )
    if version == 0:
        # auto_vacuum only takes effect before the first table exists.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise IncidentLogError(f"incident log {path}: the file system refused WAL mode ({mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version == 0:
            for statement in SCHEMA_V1.split(";"):
                if statement.strip():
                    conn.execute(statement)
            version = 1
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
