"""Binary sensors per camera: one per detection rule, motion, and connectivity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .api import CameraState
from .const import RULES
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    SchoolGuardEngineEntity,
    async_add_camera_entities,
    engine_online_camera_known,
)
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 0

RULE_DEVICE_CLASSES: dict[str, BinarySensorDeviceClass] = {
    "weapon": BinarySensorDeviceClass.SAFETY,
    "fight": BinarySensorDeviceClass.SAFETY,
    "person_down": BinarySensorDeviceClass.SAFETY,
    "intrusion": BinarySensorDeviceClass.SAFETY,
    "loitering": BinarySensorDeviceClass.OCCUPANCY,
    "crowd": BinarySensorDeviceClass.OCCUPANCY,
    "tamper": BinarySensorDeviceClass.TAMPER,
}


@dataclass(frozen=True, kw_only=True)
class SchoolGuardBinarySensorEntityDescription(
    SchoolGuardCameraEntityDescription, BinarySensorEntityDescription
):
    """A camera binary sensor and how it reads the camera's state."""

    value_fn: Callable[[CameraState], bool]


def _rule_description(rule: str) -> SchoolGuardBinarySensorEntityDescription:
    """On while the engine has an open alert of ``rule`` on the camera."""

    def is_active(camera: CameraState) -> bool:
        return camera.rules_active.get(rule, False)

    return SchoolGuardBinarySensorEntityDescription(
        key=rule,
        translation_key=rule,
        device_class=RULE_DEVICE_CLASSES[rule],
        value_fn=is_active,
    )


MOTION = SchoolGuardBinarySensorEntityDescription(
    key="motion",
    translation_key="motion",
    device_class=BinarySensorDeviceClass.MOTION,
    value_fn=lambda camera: camera.motion,
)
CONNECTIVITY = SchoolGuardBinarySensorEntityDescription(
    key="connectivity",
    translation_key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    available_fn=engine_online_camera_known,
    value_fn=lambda camera: camera.online,
)


ENGINE_CONNECTIVITY = BinarySensorEntityDescription(
    key="engine_connectivity",
    translation_key="engine_connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def camera_descriptions(
    engine_rules: tuple[str, ...],
) -> list[SchoolGuardBinarySensorEntityDescription]:
    """The binary sensors of one camera: the rules this engine runs, motion, connectivity."""
    rules = [rule for rule in RULES if not engine_rules or rule in engine_rules]
    return [*(_rule_description(rule) for rule in rules), MOTION, CONNECTIVITY]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every camera's binary sensors, now and whenever the engine reports a new camera."""
    hub = entry.runtime_data.hub
    descriptions = camera_descriptions(hub.info.rules)
    async_add_entities([SchoolGuardEngineConnectivity(hub, ENGINE_CONNECTIVITY)])

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: (
            SchoolGuardBinarySensor(hub, camera_id, description) for description in descriptions
        ),
    )


class SchoolGuardBinarySensor(SchoolGuardCameraEntity[bool], BinarySensorEntity):
    """A push-updated binary sensor of one camera."""

    entity_description: SchoolGuardBinarySensorEntityDescription

    def _value(self, camera: CameraState) -> bool:
        return self.entity_description.value_fn(camera)

    def _apply(self, value: bool | None) -> None:
        self._attr_is_on = value


class SchoolGuardEngineConnectivity(SchoolGuardEngineEntity[bool], BinarySensorEntity):
    """Whether Home Assistant is connected to the engine's push feed.

    Always available: "disconnected" is the answer it exists to give.
    """

    def _available(self) -> bool:
        return True

    def _value(self, hub: SchoolGuardHub) -> bool:
        return hub.connected

    def _apply(self, value: bool) -> None:
        self._attr_is_on = value
