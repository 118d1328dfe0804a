"""Switches: detection on each camera, drill mode on the engine.

Neither is optimistic: turning one asks the engine, and the state changes when the
engine pushes the result, so the switch never shows something the engine did not do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .client import CameraState
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    SchoolGuardEngineEntity,
    async_add_camera_entities,
    engine_online_camera_known,
)
from .errors import ask_engine
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SchoolGuardSwitchEntityDescription(
    SchoolGuardCameraEntityDescription, SwitchEntityDescription
):
    """A camera switch."""


DETECTION = SchoolGuardSwitchEntityDescription(
    key="detection",
    translation_key="detection",
    entity_category=EntityCategory.CONFIG,
    # A camera with detection off delivers no frames; the switch must stay usable then.
    available_fn=engine_online_camera_known,
)
DRILL_MODE = SwitchEntityDescription(key="drill_mode", translation_key="drill_mode")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the engine's drill switch and every camera's detection switch."""
    hub = entry.runtime_data.hub
    async_add_entities([SchoolGuardDrillSwitch(hub, DRILL_MODE)])

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: [SchoolGuardDetectionSwitch(hub, camera_id, DETECTION)],
    )


class SchoolGuardDetectionSwitch(SchoolGuardCameraEntity[bool], SwitchEntity):
    """Whether the engine analyses this camera (off: it does not even read the stream)."""

    entity_description: SchoolGuardSwitchEntityDescription

    def _value(self, camera: CameraState) -> bool:
        return camera.enabled

    def _apply(self, value: bool | None) -> None:
        self._attr_is_on = value

    async def _set(self, enabled: bool) -> None:
        client = self._hub.client
        await ask_engine(client, client.patch_camera(self._camera_id, {"enabled": enabled}))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch detection on (the engine restarts the camera)."""
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch detection off (the engine stops reading the camera)."""
        await self._set(False)


class SchoolGuardDrillSwitch(SchoolGuardEngineEntity[bool | None], SwitchEntity):
    """Whether the current response mode is a drill; toggling keeps the mode itself."""

    def _available(self) -> bool:
        return self._hub.connected and self._hub.mode is not None

    def _value(self, hub: SchoolGuardHub) -> bool | None:
        return None if hub.mode is None else hub.mode.drill

    def _apply(self, value: bool | None) -> None:
        self._attr_is_on = value

    async def _set(self, drill: bool) -> None:
        mode = self._hub.mode.mode if self._hub.mode is not None else "normal"
        await ask_engine(self._hub.client, self._hub.client.set_mode(mode, drill=drill))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Mark the current mode as a drill."""
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Mark the current mode as real."""
        await self._set(False)
