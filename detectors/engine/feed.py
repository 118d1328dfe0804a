"""Fan-out of engine messages to WebSocket clients.

Event messages carry the incident log's change cursor, which survives restarts, so a client
that reconnects with ``?since=<cursor>`` is replayed exactly what it missed from the log
(even across a ``kill -9``). Camera and mode messages are full states, sent again to every
client on connect, and stamped with the newest event cursor at the time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

_LOGGER = logging.getLogger(__name__)

_QUEUE_LIMIT = 1000


class MessageFeed:
    """Broadcast JSON messages to subscribers, each with its own bounded queue.

    A client that does not read falls behind; once its queue is full it is dropped (its
    WebSocket closes) rather than letting the engine's memory grow. It reconnects and
    resumes from its cursor.
    """

    def __init__(self) -> None:
        """Start with no subscribers."""
        self._queues: set[asyncio.Queue[Mapping[str, object] | None]] = set()

    def subscribe(self) -> asyncio.Queue[Mapping[str, object] | None]:
        """A new subscriber queue; ``None`` in it means "you were dropped"."""
        queue: asyncio.Queue[Mapping[str, object] | None] = asyncio.Queue(_QUEUE_LIMIT)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Mapping[str, object] | None]) -> None:
        """Forget a subscriber."""
        self._queues.discard(queue)

    def publish(self, message: Mapping[str, object]) -> None:
        """Queue ``message`` for every subscriber; drop the ones that are full."""
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                _LOGGER.warning(
                    "a WebSocket client fell %d messages behind; dropping it", _QUEUE_LIMIT
                )
                self._queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def close(self) -> None:
        """Tell every subscriber the engine is stopping."""
        for queue in list(self._queues):
            try:
                queue.put_nowait(None)
            except asyncio.QueueFull:
                queue.get_nowait()
                queue.put_nowait(None)
        self._queues.clear()
