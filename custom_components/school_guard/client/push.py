"""The engine's push feed: its WebSocket messages typed, and a listener that keeps it open.

After a reconnect the listener asks the engine for the event changes after the last one it
handed over, so no alert is lost or repeated; state messages are resent whole on connect.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import aiohttp

from .client import SchoolGuardClient
from .exceptions import SchoolGuardConnectionError
from .models import CameraRemoved, CameraState, EventChange, Hello, ModeState, PushMessage

RECONNECT_DELAYS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Growing back-off between WebSocket reconnects so a dead engine is not hammered."""


def parse_push_message(data: Mapping[str, Any]) -> PushMessage | None:
    """Turn one WebSocket message into its typed form; unknown types are ignored (None)."""
    kind = data.get("type")
    if kind == "hello":
        return Hello(engine_id=str(data["engine_id"]), cursor=int(data["cursor"]))
    if kind == "mode":
        return ModeState.from_json(data)
    if kind == "camera":
        return CameraState.from_json(cast("Mapping[str, Any]", data["camera"]))
    if kind == "event":
        return EventChange.from_json(data)
    if kind == "camera_removed":
        return CameraRemoved(camera_id=str(data["camera_id"]))
    return None


class PushListener:
    """Keeps the WebSocket open, reconnecting with back-off and resuming from a cursor.

    ``cursor`` is the last *event* cursor handed to ``on_message``; after a reconnect the
    engine replays exactly the event changes after it, so no alert is lost or repeated.
    """

    def __init__(
        self,
        client: SchoolGuardClient,
        on_message: Callable[[PushMessage], None],
        on_disconnect: Callable[[], None],
        *,
        cursor: int,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
    ) -> None:
        """Deliver messages to ``on_message``; call ``on_disconnect`` when the link drops."""
        self._client = client
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self.cursor = cursor
        self._delays = tuple(reconnect_delays)

    async def run(self) -> None:
        """Listen until cancelled; only a refused token ends it (raises SchoolGuardAuthError)."""
        failures = 0
        while True:
            try:
                ws = await self._client.ws_connect(self.cursor)
            except SchoolGuardConnectionError:
                delay = self._delays[min(failures, len(self._delays) - 1)]
                failures += 1
                await asyncio.sleep(delay)
                continue
            failures = 0
            try:
                await self._read(ws)
            finally:
                await ws.close()
                self._on_disconnect()
            # An engine that is shutting down closes the socket cleanly; wait before
            # asking again rather than spinning against it.
            await asyncio.sleep(self._delays[0])

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            try:
                message = parse_push_message(json.loads(frame.data))
            except (ValueError, KeyError, TypeError):
                continue
            if message is None:
                continue
            if isinstance(message, EventChange):
                if message.cursor <= self.cursor:
                    continue
                self.cursor = message.cursor
            self._on_message(message)
