"""Sensors: people seen and inference time per camera; the inference device of the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .client import CameraState
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    SchoolGuardEngineEntity,
    async_add_camera_entities,
)
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 0

type SensorValue = int | float | str | None


@dataclass(frozen=True, kw_only=True)
class SchoolGuardSensorEntityDescription(
    SchoolGuardCameraEntityDescription, SensorEntityDescription
):
    """A camera sensor and how it reads the camera's state."""

    value_fn: Callable[[CameraState], SensorValue]


SENSORS: tuple[SchoolGuardSensorEntityDescription, ...] = (
    SchoolGuardSensorEntityDescription(
        key="person_count",
        translation_key="person_count",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda camera: camera.person_count,
    ),
    SchoolGuardSensorEntityDescription(
        key="inference_time",
        translation_key="inference_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Useful when sizing the edge box, noise otherwise.
        entity_registry_enabled_default=False,
        value_fn=lambda camera: camera.inference_ms,
    ),
)


@dataclass(frozen=True, kw_only=True)
class SchoolGuardEngineSensorEntityDescription(SensorEntityDescription):
    """An engine sensor and how it reads the hub."""

    value_fn: Callable[[SchoolGuardHub], SensorValue]
    attributes_fn: Callable[[SchoolGuardHub], dict[str, Any]] = lambda hub: {}


ENGINE_SENSORS: tuple[SchoolGuardEngineSensorEntityDescription, ...] = (
    SchoolGuardEngineSensorEntityDescription(
        key="inference_device",
        translation_key="inference_device",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub: hub.info.inference_device,
        attributes_fn=lambda hub: {"available_devices": list(hub.info.available_devices)},
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the engine's sensors and every camera's, now and for each new camera."""
    hub = entry.runtime_data.hub
    async_add_entities(SchoolGuardEngineSensor(hub, description) for description in ENGINE_SENSORS)

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: (
            SchoolGuardSensor(hub, camera_id, description) for description in SENSORS
        ),
    )


class SchoolGuardSensor(SchoolGuardCameraEntity[SensorValue], SensorEntity):
    """A push-updated sensor of one camera."""

    entity_description: SchoolGuardSensorEntityDescription

    def _value(self, camera: CameraState) -> SensorValue:
        return self.entity_description.value_fn(camera)

    def _apply(self, value: SensorValue) -> None:
        self._attr_native_value = value


class SchoolGuardEngineSensor(SchoolGuardEngineEntity[SensorValue], SensorEntity):
    """A sensor of the engine, re-read whenever the hub learns something new."""

    entity_description: SchoolGuardEngineSensorEntityDescription

    def _value(self, hub: SchoolGuardHub) -> SensorValue:
        return self.entity_description.value_fn(hub)

    def _apply(self, value: SensorValue) -> None:
        self._attr_native_value = value
        self._attr_extra_state_attributes = self.entity_description.attributes_fn(self._hub)
