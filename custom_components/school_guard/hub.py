"""Push hub: one engine's live state in Home Assistant, fed by the engine's WebSocket.

The hub holds state and dispatches it, nothing else: entities never poll, they subscribe
to the hub for their camera (or the whole engine) and the hub calls them back when a push
message changes something; each entity then writes its state only if what it shows
actually changed. Alerts also go out as the ``school_guard_alert`` bus event, camera
faults to the repair issues (:mod:`.issues`), and keeping cameras and "Add camera"
subentries in step is :mod:`.subentry_sync`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .client import (
    RECONNECT_DELAYS,
    AlertEvent,
    CameraRemoved,
    CameraState,
    EngineInfo,
    EventChange,
    EvidenceFile,
    Hello,
    ModeState,
    PushListener,
    PushMessage,
    SchoolGuardAuthError,
    SchoolGuardClient,
    SchoolGuardError,
)
from .const import DOMAIN, EVENT_ALERT, EVENT_INCIDENT, LOGGED_CHANGES, LOGGER
from .issues import RepairIssues, camera_fault
from .subentries import async_update_camera_device, camera_device_identifier
from .subentry_sync import SubentrySync
from .views import evidence_path

OPEN_STATES = frozenset({"started", "updated"})
"""Event states that mean the alert is still open (acknowledging does not close it)."""


def signal_new_camera(entry_id: str) -> str:
    """Dispatcher signal sent with a camera id when the engine reports a new camera."""
    return f"{DOMAIN}_new_camera_{entry_id}"


def signal_camera_offline(engine_id: str, camera_id: str) -> str:
    """Dispatcher signal sent with the reason when a camera that was online fails."""
    return f"{DOMAIN}_camera_offline_{engine_id}_{camera_id}"


def _add_listener[KeyT, ListenerT](
    registry: dict[KeyT, list[ListenerT]], key: KeyT, listener: ListenerT
) -> CALLBACK_TYPE:
    """Register ``listener`` under ``key``; return the callback that removes it."""
    registry.setdefault(key, []).append(listener)

    @callback
    def unsubscribe() -> None:
        registry[key].remove(listener)

    return unsubscribe


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
    latest_alerts: dict[tuple[str, str], AlertEvent] = field(default_factory=dict)
    """The newest alert of each (camera, rule), open or over: what its sensor describes."""
    reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS
    _listeners: dict[str | None, list[CALLBACK_TYPE]] = field(default_factory=dict)
    _announced: set[str] = field(default_factory=set)
    issues: RepairIssues = field(init=False)
    subentries: SubentrySync = field(init=False)
    _hello_seen: bool = False
    _alert_listeners: dict[str, list[Callable[[EventChange], None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The cameras known at setup already have entities; later ones are announced."""
        self._announced.update(self.cameras)
        for camera in self.cameras.values():
            self._seed_open_alerts(camera)
        self.subentries = SubentrySync(self.hass, self.entry, self.client, self.info.engine_id)
        self.issues = RepairIssues(
            self.hass,
            self.info.engine_id,
            self.info.name,
            f"{self.client.host}:{self.client.port}",
        )
        self.entry.async_on_unload(self.issues.async_stop)
        self.issues.check_models(self.info)

    def _seed_open_alerts(self, camera: CameraState) -> None:
        """Learn the alerts open at setup; the push feed only replays changes from now on."""
        for alert in camera.open_alerts:
            seeded = self.open_alerts.setdefault(
                alert.event_id,
                AlertEvent(
                    event_id=alert.event_id,
                    camera_id=camera.camera_id,
                    camera_name=camera.name,
                    location=camera.location,
                    rule=alert.rule,
                    state="started",
                    confidence=alert.confidence,
                    drill=alert.drill,
                    acknowledged=False,
                    dismissed=False,
                    started_at=alert.started_at,
                ),
            )
            self._remember_latest(seeded)

    def _remember_latest(self, event: AlertEvent) -> None:
        key = (event.camera_id, event.rule)
        latest = self.latest_alerts.get(key)
        if latest is None or event.started_at >= latest.started_at:
            self.latest_alerts[key] = event

    @property
    def engine_id(self) -> str:
        """The engine's stable id (the config entry's unique id)."""
        return self.info.engine_id

    @property
    def awaiting_subentry(self) -> set[str]:
        """Cameras an "Add camera" flow is creating, announced once their subentry exists."""
        return self.subentries.awaiting

    def camera_subentry_id(self, camera_id: str) -> str | None:
        """The subentry entities of ``camera_id`` are added under (None: the entry itself)."""
        return self.subentries.subentry_id(camera_id)

    def camera_available(self, camera_id: str) -> bool:
        """Whether the engine is connected and the camera exists and delivers frames."""
        camera = self.cameras.get(camera_id)
        return self.connected and camera is not None and camera.online

    @callback
    def async_subscribe(self, camera_id: str | None, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` when ``camera_id`` (None: anything) changes; returns the unsubscribe."""
        return _add_listener(self._listeners, camera_id, update)

    @callback
    def async_subscribe_alerts(
        self, camera_id: str, on_change: Callable[[EventChange], None]
    ) -> CALLBACK_TYPE:
        """Call ``on_change`` with every alert change of ``camera_id``; returns the unsubscribe.

        Event and image entities need the change itself (which alert, when), not just
        "something changed", so they get their own feed beside :meth:`async_subscribe`.
        """
        return _add_listener(self._alert_listeners, camera_id, on_change)

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
        self.issues.engine_link_down()
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
        self.issues.engine_link_down()

    @callback
    def _on_message(self, message: PushMessage) -> None:
        match message:
            case Hello():
                self.issues.engine_link_up()
                if self._hello_seen:
                    LOGGER.info("Reconnected to engine %s", self.engine_id)
                    # The engine may have restarted with other models: look again.
                    self.entry.async_create_background_task(
                        self.hass, self._refresh_info(), f"{DOMAIN} {self.engine_id} info"
                    )
                self._hello_seen = True
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
                self._drop_camera(message.camera_id)
            case EventChange():
                self._on_event(message)

    async def _refresh_info(self) -> None:
        """Re-read ``/info`` after a reconnect and re-judge the "model missing" issues."""
        try:
            info = await self.client.info()
        except SchoolGuardError as err:
            LOGGER.debug("Could not re-read engine %s info: %s", self.engine_id, err)
            return
        self.info = info
        self.issues.check_models(info)
        self._notify(None)

    @callback
    def _on_camera(self, camera: CameraState) -> None:
        self.issues.camera_changed(camera)
        previous = self.cameras.get(camera.camera_id)
        if previous == camera:
            return
        if previous is not None and previous.online and camera_fault(camera):
            signal = signal_camera_offline(self.engine_id, camera.camera_id)
            async_dispatcher_send(self.hass, signal, camera.reason)
        self.cameras[camera.camera_id] = camera
        shown = (camera.name, camera.device)
        if previous is not None and (previous.name, previous.device) != shown:
            async_update_camera_device(self.hass, self.engine_id, camera)
        if camera.camera_id in self._announced:
            self._notify(camera.camera_id)
        elif not self.subentries.holds(camera.camera_id):
            self._announce(camera.camera_id)

    @callback
    def _announce(self, camera_id: str) -> None:
        """Let the platforms add the entities of a camera that appeared after setup."""
        self._announced.add(camera_id)
        async_dispatcher_send(self.hass, signal_new_camera(self.entry.entry_id), camera_id)

    @callback
    def _drop_camera(self, camera_id: str) -> None:
        """The camera left the engine: its device, entities and subentry go too."""
        self.issues.camera_removed(camera_id)
        self._announced.discard(camera_id)
        if self.cameras.pop(camera_id, None) is not None:
            self._notify(camera_id)
        self.subentries.forget(camera_id)

    async def async_subentries_changed(self) -> None:
        """Follow the entry's camera subentries (its update listener calls this)."""
        await self.subentries.async_changed(
            self.cameras, self._announced, self._announce, self._drop_camera
        )

    def _camera_device_id(self, camera_id: str) -> str | None:
        """The camera's device in Home Assistant (None before its entities exist)."""
        identifier = camera_device_identifier(self.engine_id, camera_id)
        device = dr.async_get(self.hass).async_get_device(identifiers={identifier})
        return None if device is None else device.id

    def _evidence_url(self, event: AlertEvent, name: EvidenceFile) -> str | None:
        """The proxy path of the alert's clip or strip; None until the engine has it."""
        return evidence_path(self.engine_id, event.event_id, name) if event.has_evidence else None

    @callback
    def _on_event(self, change: EventChange) -> None:
        self.cursor = change.cursor
        event = change.event
        if event.state in OPEN_STATES and not event.dismissed:
            self.open_alerts[event.event_id] = event
        else:
            self.open_alerts.pop(event.event_id, None)
        self._remember_latest(event)
        data = {
            "engine_id": self.engine_id,
            "device_id": self._camera_device_id(event.camera_id),
            "camera_id": event.camera_id,
            "camera_name": event.camera_name,
            "location": event.location,
            "rule": event.rule,
            "zone": event.zone,
            "confidence": event.confidence,
            "event_id": event.event_id,
            "change": change.change,
            "state": event.state,
            "drill": event.drill,
            "acknowledged": event.acknowledged,
            "dismissed": event.dismissed,
            "snapshot_url": self.client.event_snapshot_url(event.event_id),
            # Home Assistant's own paths (the engine token stays here): set once the
            # engine has written the clip and strip, after the post-roll ("evidence").
            "clip_url": self._evidence_url(event, "clip.mp4"),
            "strip_url": self._evidence_url(event, "strip.jpg"),
        }
        self.hass.bus.async_fire(EVENT_ALERT, data)
        if change.change in LOGGED_CHANGES:
            self.hass.bus.async_fire(EVENT_INCIDENT, data)
        for on_change in list(self._alert_listeners.get(event.camera_id, ())):
            on_change(change)
        # The rule sensors describe the newest alert (confidence, who was paged, outcome).
        self._notify(event.camera_id)
