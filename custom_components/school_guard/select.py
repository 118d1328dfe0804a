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
DRILL_SUFFIX = "_drill"
"""An option ``<mode>_drill`` is ``<mode>`` as a drill ("Lockdown (drill)")."""
NORMAL = "normal"
"""The mode with nothing to practise: it has no drill option."""


def mode_options(modes: tuple[str, ...]) -> list[str]:
    """Every mode, then every mode but normal as a drill (so a drill shows as one)."""
    return [*modes, *(f"{mode}{DRILL_SUFFIX}" for mode in modes if mode != NORMAL)]


def option_of(mode: str, drill: bool) -> str:
    """The option shown for the engine's mode and drill flag."""
    return f"{mode}{DRILL_SUFFIX}" if drill and mode != NORMAL else mode


def mode_of(option: str) -> tuple[str, bool]:
    """The engine's mode and drill flag for an option."""
    if option.endswith(DRILL_SUFFIX):
        return option.removesuffix(DRILL_SUFFIX), True
    return option, False


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the engine's response-mode select."""
    async_add_entities([SchoolGuardResponseMode(entry.runtime_data.hub, RESPONSE_MODE)])


class SchoolGuardResponseMode(SchoolGuardEngineEntity[str | None], SelectEntity):
    """Shows the engine's mode as pushed; choosing one asks the engine (no optimism).

    A drill is an option of its own ("Lockdown (drill)"), so the dashboard never shows a
    practised lockdown as a real one; choosing a plain mode means it is real. The drill
    switch still turns the flag on or off without changing the mode. Normal has no drill.
    """

    def __init__(self, hub: SchoolGuardHub, description: SelectEntityDescription) -> None:
        """Offer the modes the engine itself lists, each also as a drill."""
        self._attr_options = mode_options(hub.info.response_modes)
        super().__init__(hub, description)

    def _available(self) -> bool:
        return self._hub.connected and self._hub.mode is not None

    def _value(self, hub: SchoolGuardHub) -> str | None:
        return None if hub.mode is None else option_of(hub.mode.mode, hub.mode.drill)

    def _apply(self, value: str | None) -> None:
        self._attr_current_option = value

    async def async_select_option(self, option: str) -> None:
        """Ask the engine for the new mode; the state follows the engine's push."""
        mode, drill = mode_of(option)
        await ask_engine(self._hub.client, self._hub.client.set_mode(mode, drill=drill))
