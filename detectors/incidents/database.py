"""Owning and opening the incident log's SQLite file.

One process at a time owns the log (an exclusive ``<file>.lock``), because opening it runs
crash recovery; the file is created owner-only (mode 0600: snapshots show students).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from detectors.errors import IncidentLogError
from detectors.incidents.schema import prepare


class Database:
    """The log's connection and the lock file that makes this process its only owner."""

    def __init__(self, path: Path) -> None:
        """Remember where the file is; nothing touches the disk before :meth:`open`."""
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    @property
    def is_open(self) -> bool:
        """Whether the database is open in this process."""
        return self._conn is not None

    def open(self) -> sqlite3.Connection:
        """Take ownership, connect, and bring the schema up to date."""
        if self._conn is not None:
            raise IncidentLogError(f"incident log {self.path} is already open")
        self._take_ownership()
        try:
            self._conn = self._connect()
        except BaseException:
            self.close()
            raise
        return self._conn

    def close(self) -> None:
        """Close the connection and release ownership; calling it twice is harmless."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def require(self) -> sqlite3.Connection:
        """The open connection; a clear error when the log is not open."""
        if self._conn is None:
            raise IncidentLogError(f"incident log {self.path} is not open")
        return self._conn

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
            prepare(conn, self.path)
        except sqlite3.DatabaseError as err:
            conn.close()
            raise IncidentLogError(f"cannot open incident log {self.path}: {err}") from err
        except BaseException:
            conn.close()
            raise
        return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
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
