"""Where every engine message goes: WebSocket clients, then the listeners (the MQTT bridge).

The outbox also keeps the newest event cursor in memory, from every change it sends, so
stamping a message never reads SQLite on the event loop. A change being written may not
count yet, so a client starting from it at worst sees that change once more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from detectors.engine.feed import MessageFeed
from detectors.engine.state import ModeState
from detectors.incidents.records import EventChange
from detectors.protocol.cameras import LiveCamera
from detectors.protocol.messages import (
    camera_message,
    camera_removed_message,
    event_message,
    mode_message,
)

type Listener = Callable[[Mapping[str, object]], None]


class Outbox:
    """Build each message (``detectors.protocol.messages``) and hand it to every client."""

    def __init__(self, feed: MessageFeed) -> None:
        """Send through ``feed`` (WebSocket clients) and to listeners added later."""
        self.feed = feed
        self._listeners: list[Listener] = []
        self._cursor: int | None = None

    def add_listener(self, listener: Listener) -> None:
        """Also hand every message to ``listener``."""
        self._listeners.append(listener)

    def open(self, cursor: int) -> None:
        """The incident log is open and its newest cursor is ``cursor``."""
        self._cursor = cursor

    def close(self) -> None:
        """The log is closed: messages carry cursor 0; WebSocket clients are let go."""
        self._cursor = None
        self.feed.close()

    def cursor(self) -> int:
        """The newest event cursor (0 while the log is not open)."""
        return 0 if self._cursor is None else self._cursor

    def event(self, change: EventChange) -> None:
        """An alert changed."""
        if self._cursor is not None:
            self._cursor = max(self._cursor, change.cursor)
        self._send(event_message(change))

    def camera(self, camera: LiveCamera) -> None:
        """A camera's state changed."""
        self._send(camera_message(camera, self.cursor()))

    def camera_removed(self, camera_id: str) -> None:
        """A camera was deleted (not sent for a restart)."""
        self._send(camera_removed_message(camera_id, self.cursor()))

    def mode(self, mode: ModeState) -> None:
        """The response mode changed."""
        self._send(mode_message(mode, self.cursor()))

    def _send(self, message: Mapping[str, object]) -> None:
        self.feed.publish(message)
        for listener in self._listeners:
            listener(message)
