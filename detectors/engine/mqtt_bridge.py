"""Hand the engine's messages to the MQTT publisher (door controllers, PA systems).

Camera state and each rule's ON/OFF are retained (a controller that connects later knows
the situation at once); events go out once with their best snapshot. Rule states are sent
only when they change.

Messages are handed over in the order the engine sends them, through a queue that one
task drains: an event's snapshot is read from the incident log in a worker thread (never
on the event loop), and a later message must not overtake it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from detectors.engine.service import Engine
from detectors.mqtt.payloads import camera_state_payload
from detectors.mqtt.publisher import MqttPublisher
from detectors.protocol.cameras import camera_json


class MqttBridge:
    """Engine listener that publishes to MQTT."""

    def __init__(self, engine: Engine, publisher: MqttPublisher) -> None:
        """Publish ``engine``'s messages through ``publisher`` once attached."""
        self.engine = engine
        self.publisher = publisher
        self._rule_states: dict[tuple[str, str], bool] = {}
        self._queue: asyncio.Queue[Mapping[str, object]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def attach(self) -> None:
        """Start listening, and publish the current mode and cameras."""
        self.engine.add_listener(self._queue.put_nowait)
        self._worker = asyncio.get_running_loop().create_task(self._drain())
        mode = self.engine.mode
        self.publisher.publish_mode(
            str(mode["mode"]), bool(mode["drill"]), float(str(mode["changed_at"]))
        )
        for runtime in self.engine.cameras.values():
            self._camera(camera_json(runtime))

    async def stop(self) -> None:
        """Publish what the engine sent until now (its cameras stopping), then stop."""
        if self._worker is None:
            return
        await self._queue.join()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def _drain(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self.on_message(message)
            finally:
                self._queue.task_done()

    async def on_message(self, message: Mapping[str, object]) -> None:
        """Route one engine message to its topics."""
        kind = message.get("type")
        if kind == "camera":
            camera = message["camera"]
            assert isinstance(camera, dict)
            self._camera(camera)
        elif kind == "camera_removed":
            camera_id = str(message["camera_id"])
            self.publisher.forget_camera(camera_id)
            for key in [k for k in self._rule_states if k[0] == camera_id]:
                del self._rule_states[key]
        elif kind == "mode":
            self.publisher.publish_mode(
                str(message["mode"]), bool(message["drill"]), float(str(message["changed_at"]))
            )
        elif kind == "event":
            event = message["event"]
            assert isinstance(event, dict)
            snapshot = None
            if message.get("change") == "started" and event.get("snapshot"):
                snapshot = await self.engine.event_snapshot(str(message["event_id"]))
            self.publisher.publish_event(
                {"cursor": message["cursor"], "change": message["change"], **event}, snapshot
            )

    def _camera(self, camera: dict[str, Any]) -> None:
        camera_id = str(camera["id"])
        state = camera_state_payload(
            camera["status"],
            name=str(camera.get("name", "")),
            location=str(camera.get("location", "")),
            person_count=int(camera.get("person_count", 0)),
        )
        self.publisher.publish_camera(camera_id, state)
        for rule, on in dict(camera.get("rules_active", {})).items():
            if self._rule_states.get((camera_id, rule)) != on:
                self._rule_states[(camera_id, rule)] = bool(on)
                self.publisher.publish_rule_state(camera_id, rule, bool(on))
