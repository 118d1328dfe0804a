"""Sensors per camera: how many people the engine currently sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .api import CameraState
from .entity import SchoolGuardCameraEntity, SchoolGuardCameraEntityDescription
from .hub import signal_new_camera

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SchoolGuardSensorEntityDescription(
    SchoolGuardCameraEntityDescription, SensorEntityDescription
):
    """A camera sensor and how it reads the camera's state."""

    value_fn: Callable[[CameraState], int]


SENSORS: tuple[SchoolGuardSensorEntityDescription, ...] = (
    SchoolGuardSensorEntityDescription(
        key="person_count",
        translation_key="person_count",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda camera: camera.person_count,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every camera's sensors, now and whenever the engine reports a new camera."""
    hub = entry.runtime_data.hub

    @callback
    def add_camera(camera_id: str) -> None:
        async_add_entities(
            SchoolGuardSensor(hub, camera_id, description) for description in SENSORS
        )

    for camera_id in hub.cameras:
        add_camera(camera_id)
    entry.async_on_unload(
        async_dispatcher_connect(hass, signal_new_camera(entry.entry_id), add_camera)
    )


class SchoolGuardSensor(SchoolGuardCameraEntity[int], SensorEntity):
    """A push-updated sensor of one camera."""

    entity_description: SchoolGuardSensorEntityDescription

    def _value(self, camera: CameraState) -> int:
        return self.entity_description.value_fn(camera)

    def _apply(self, value: int | None) -> None:
        self._attr_native_value = value
