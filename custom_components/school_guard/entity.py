"""Base entity for one camera of an engine: push-updated, written only on change."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import (
    CameraState,
)
from .const import DOMAIN, camera_unique_id
from .hub import SchoolGuardHub, signal_new_camera
from .subentries import camera_device_identifier as camera_device_identifier  # noqa: PLC0414
from .subentries import camera_hardware

if TYPE_CHECKING:
    from . import SchoolGuardConfigEntry


@callback
def async_add_camera_entities(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[str], Iterable[Entity]],
) -> None:
    """Add ``build(camera_id)`` for every camera now and for each one the engine adds later.

    Every platform does this the same way: a camera's entities belong to its "Add camera"
    subentry when it has one, so deleting the subentry takes them along.
    """
    hub = entry.runtime_data.hub

    @callback
    def add_camera(camera_id: str) -> None:
        async_add_entities(build(camera_id), config_subentry_id=hub.camera_subentry_id(camera_id))

    for camera_id in hub.cameras:
        add_camera(camera_id)
    entry.async_on_unload(
        async_dispatcher_connect(hass, signal_new_camera(entry.entry_id), add_camera)
    )


def engine_and_camera_online(hub: SchoolGuardHub, camera_id: str) -> bool:
    """Default availability: the engine is connected and the camera delivers frames."""
    return hub.camera_available(camera_id)


def engine_online_camera_known(hub: SchoolGuardHub, camera_id: str) -> bool:
    """Availability for connectivity: it must say "disconnected" when the camera is down."""
    return hub.connected and camera_id in hub.cameras


def camera_known(hub: SchoolGuardHub, camera_id: str) -> bool:
    """Availability for history entities: what happened stays true while the link is down."""
    return camera_id in hub.cameras


@dataclass(frozen=True, kw_only=True)
class SchoolGuardCameraEntityDescription(EntityDescription):
    """How one camera entity reads its value and decides whether it is available."""

    available_fn: Callable[[SchoolGuardHub, str], bool] = engine_and_camera_online


class SchoolGuardCameraEntity[ValueT](Entity):
    """An entity of one camera, fed by the hub's push callbacks."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: SchoolGuardCameraEntityDescription

    def __init__(
        self,
        hub: SchoolGuardHub,
        camera_id: str,
        description: SchoolGuardCameraEntityDescription,
    ) -> None:
        """Describe the entity and its camera device (linked to the engine device)."""
        self.entity_description = description
        self._hub = hub
        self._camera_id = camera_id
        self._attr_unique_id = camera_unique_id(hub.engine_id, camera_id, description.key)
        camera = hub.cameras[camera_id]
        hardware = camera_hardware(camera)
        self._attr_device_info = DeviceInfo(
            identifiers={camera_device_identifier(hub.engine_id, camera_id)},
            manufacturer=hardware["manufacturer"],
            model=hardware["model"],
            sw_version=hardware["sw_version"],
            name=camera.name,
            # The engine knows where the camera hangs ("Building A, ground floor"):
            # Home Assistant offers it as the device's area when the device is created.
            suggested_area=camera.location or None,
            via_device=(DOMAIN, hub.engine_id),
        )
        self._shown = self._refresh()

    @abstractmethod
    def _value(self, camera: CameraState) -> ValueT:
        """What the entity shows for ``camera`` (each platform decides)."""

    @abstractmethod
    def _apply(self, value: ValueT | None) -> None:
        """Store ``value`` in the platform's state attribute."""

    def _refresh(self) -> tuple[bool, ValueT | None]:
        """Recompute availability and value from the hub; return them for comparison."""
        available = self.entity_description.available_fn(self._hub, self._camera_id)
        camera = self._hub.cameras.get(self._camera_id)
        value = self._value(camera) if camera is not None else None
        self._attr_available = available
        self._apply(value)
        return available, value

    async def async_added_to_hass(self) -> None:
        """Subscribe to the hub; state may have moved on since the entity was created."""
        await super().async_added_to_hass()
        self.async_on_remove(self._hub.async_subscribe(self._camera_id, self._handle_push))
        self._shown = self._refresh()

    @callback
    def _handle_push(self) -> None:
        """Write state only when availability or value changed."""
        shown = self._refresh()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()


class SchoolGuardEngineEntity[ValueT](Entity):
    """An entity of the engine device itself (response mode, drill, inference, link)."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: SchoolGuardHub, description: EntityDescription) -> None:
        """Attach the entity to the engine device that setup registered."""
        self.entity_description = description
        self._hub = hub
        self._attr_unique_id = f"{hub.engine_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, hub.engine_id)})
        self._shown = self._refresh()

    def _available(self) -> bool:
        """Engine entities mirror engine state, so they are only valid while connected."""
        return self._hub.connected

    @abstractmethod
    def _value(self, hub: SchoolGuardHub) -> ValueT:
        """What the entity shows (each platform decides)."""

    @abstractmethod
    def _apply(self, value: ValueT) -> None:
        """Store ``value`` in the platform's state attribute."""

    def _refresh(self) -> tuple[bool, ValueT]:
        """Recompute availability and value from the hub; return them for comparison."""
        value = self._value(self._hub)
        self._attr_available = self._available()
        self._apply(value)
        return self._attr_available, value

    async def async_added_to_hass(self) -> None:
        """Follow every hub change: mode, connection and info all concern the engine."""
        await super().async_added_to_hass()
        self.async_on_remove(self._hub.async_subscribe(None, self._handle_push))
        self._shown = self._refresh()

    @callback
    def _handle_push(self) -> None:
        """Write state only when availability or value changed."""
        shown = self._refresh()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()
