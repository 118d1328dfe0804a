"""Push hub: one engine's live state in Home Assistant, fed by the engine's WebSocket.

Entities never poll. They subscribe to the hub for their camera (or the whole engine)
and the hub calls them back when a push message changes something; each entity then
writes its state only if what it shows actually changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .api import (
    RECONNECT_DELAYS,
    AlertEvent,
    CameraRemoved,
    CameraState,
    EngineInfo,
    EventChange,
    Hello,
    ModeState,
    PushListener,
    PushMessage,
    SchoolGuardAuthError,
    SchoolGuardClient,
)
from .const import DOMAIN, EVENT_ALERT, LOGGER

OPEN_STATES = frozenset({"started", "updated", "acknowledged"})
"""Event states that mean the alert is still open."""


def signal_new_camera(entry_id: str) -> str:
    """Dispatcher signal sent with a camera id when the engine reports a new camera."""
    return f"{DOMAIN}_new_camera_{entry_id}"


@dataclass
class SchoolGuardHub:
    """What one engine currently shows: connection, cameras, response mode, open alerts."""

    hass: HomeAssistant
    entry: ConfigEntry
    client: SchoolGuardClient
    info: EngineInfo
    cameras: dict[str, CameraState]
    cursor: int
    connected: bool = False
    mode: ModeState | None = None
    open_alerts: dict[str, AlertEvent] = field(default_factory=dict)
    reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS
    _listeners: dict[str | None, list[CALLBACK_TYPE]] = field(default_factory=dict)
    _announced: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        """The cameras known at setup already have entities; later ones are announced."""
        self._announced.update(self.cameras)

    @property
    def engine_id(self) -> str:
        """The engine's stable id (the config entry's unique id)."""
        return self.info.engine_id

    def camera_available(self, camera_id: str) -> bool:
        """Whether the engine is connected and the camera exists and delivers frames."""
        camera = self.cameras.get(camera_id)
        return self.connected and camera is not None and camera.online

    @callback
    def async_subscribe(self, camera_id: str | None, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` when ``camera_id`` (None: anything) changes; returns the unsubscribe."""
        self._listeners.setdefault(camera_id, []).append(update)

        @callback
        def unsubscribe() -> None:
            self._listeners[camera_id].remove(update)

        return unsubscribe

    @callback
    def _notify(self, camera_id: str | None) -> None:
        """Tell the subscribers of one camera, or of everything when ``camera_id`` is None."""
        keys = list(self._listeners) if camera_id is None else [camera_id, None]
        for key in keys:
            for update in list(self._listeners.get(key, ())):
                update()

    @callback
    def async_start(self) -> None:
        """Start the WebSocket listener as a background task of the config entry."""
        listener = PushListener(
            self.client,
            self._on_message,
            self._on_disconnect,
            cursor=self.cursor,
            reconnect_delays=self.reconnect_delays,
        )
        self.entry.async_create_background_task(
            self.hass, self._listen(listener), f"{DOMAIN} {self.engine_id} push"
        )

    async def _listen(self, listener: PushListener) -> None:
        try:
            await listener.run()
        except SchoolGuardAuthError:
            LOGGER.warning("Engine %s refused the token; asking for a new one", self.engine_id)
            self._on_disconnect()
            self.entry.async_start_reauth(self.hass)

    @callback
    def _on_disconnect(self) -> None:
        if self.connected:
            LOGGER.info("Lost the connection to engine %s; reconnecting", self.engine_id)
            self.connected = False
            self._notify(None)

    @callback
    def _on_message(self, message: PushMessage) -> None:
        match message:
            case Hello():
                if not self.connected:
                    self.connected = True
                    self._notify(None)
            case ModeState():
                if message != self.mode:
                    self.mode = message
                    self._notify(None)
            case CameraState():
                self._on_camera(message)
            case CameraRemoved():
                if self.cameras.pop(message.camera_id, None) is not None:
                    self._notify(message.camera_id)
            case EventChange():
                self._on_event(message)

    @callback
    def _on_camera(self, camera: CameraState) -> None:
        if self.cameras.get(camera.camera_id) == camera:
            return
        self.cameras[camera.camera_id] = camera
        if camera.camera_id in self._announced:
            self._notify(camera.camera_id)
        else:
            self._announced.add(camera.camera_id)
            signal = signal_new_camera(self.entry.entry_id)
            async_dispatcher_send(self.hass, signal, camera.camera_id)

    @callback
    def _on_event(self, change: EventChange) -> None:
        self.cursor = change.cursor
        event = change.event
        if event.state in OPEN_STATES and not event.dismissed:
            self.open_alerts[event.event_id] = event
        else:
            self.open_alerts.pop(event.event_id, None)
        self.hass.bus.async_fire(
            EVENT_ALERT,
            {
                "engine_id": self.engine_id,
                "camera_id": event.camera_id,
                "camera_name": event.camera_name,
                "location": event.location,
                "rule": event.rule,
                "confidence": event.confidence,
                "event_id": event.event_id,
                "change": change.change,
                "state": event.state,
                "drill": event.drill,
                "snapshot_url": self.client.event_snapshot_url(event.event_id),
            },
        )
