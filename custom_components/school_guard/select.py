"""Select on the engine device: the school's response mode (Standard Response Protocol)."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .entity import SchoolGuardEngineEntity
from .errors import ask_engine
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 1

RESPONSE_MODE = SelectEntityDescription(key="response_mode", translation_key="response_mode")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the engine's response-mode select."""
    async_add_entities([SchoolGuardResponseMode(entry.runtime_data.hub, RESPONSE_MODE)])


class SchoolGuardResponseMode(SchoolGuardEngineEntity[str | None], SelectEntity):
    """Shows the engine's mode as pushed; choosing one asks the engine (no optimism).

    The drill flag is kept: switching lockdown to evacuate during a drill stays a drill.
    """

    def __init__(self, hub: SchoolGuardHub, description: SelectEntityDescription) -> None:
        """Offer the modes the engine itself lists."""
        self._attr_options = list(hub.info.response_modes)
        super().__init__(hub, description)

    def _available(self) -> bool:
        return self._hub.connected and self._hub.mode is not None

    def _value(self, hub: SchoolGuardHub) -> str | None:
        return None if hub.mode is None else hub.mode.mode

    def _apply(self, value: str | None) -> None:
        self._attr_current_option = value

    async def async_select_option(self, option: str) -> None:
        """Ask the engine for the new mode; the state follows the engine's push."""
        drill = self._hub.mode.drill if self._hub.mode is not None else False
        await ask_engine(self._hub.client, self._hub.client.set_mode(option, drill=drill))
