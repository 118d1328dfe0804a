"""Device conditions on each camera device: is an alert open here, is it real, which mode.

A condition answers from the hub's pushed state (no request to the engine), so it costs
nothing inside an automation that runs on every alert. With the engine's entry not loaded
there is no state to answer from, and every condition is false: an automation must not
lock doors on a guess.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_CONDITION, CONF_DEVICE_ID, CONF_DOMAIN, CONF_TYPE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.condition import ConditionCheckerType
from homeassistant.helpers.selector import SelectSelector, SelectSelectorConfig
from homeassistant.helpers.typing import ConfigType, TemplateVarsType

from .client import AlertEvent
from .const import DOMAIN
from .device_trigger import CameraRef, camera_of_device
from .hub import SchoolGuardHub

ALERT_OPEN: Final = "alert_open"
NOT_DRILL: Final = "not_drill"
RESPONSE_MODE_IS: Final = "response_mode_is"
CONDITION_TYPES: Final = (ALERT_OPEN, NOT_DRILL, RESPONSE_MODE_IS)
CONF_MODE: Final = "mode"

CONDITION_SCHEMA = cv.DEVICE_CONDITION_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In(CONDITION_TYPES),
        vol.Optional(CONF_MODE): cv.string,
    }
)


@callback
def hub_of(hass: HomeAssistant, camera: CameraRef) -> SchoolGuardHub | None:
    """The loaded hub of the camera's engine (None while its entry is not loaded)."""
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, camera.engine_id)
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        return None
    hub: SchoolGuardHub = entry.runtime_data.hub
    return hub


def open_alerts_here(hub: SchoolGuardHub, camera_id: str) -> list[AlertEvent]:
    """The camera's open alerts, newest first."""
    alerts = [alert for alert in hub.open_alerts.values() if alert.camera_id == camera_id]
    return sorted(alerts, key=lambda alert: alert.started_at, reverse=True)


def condition_holds(hub: SchoolGuardHub, camera_id: str, config: ConfigType) -> bool:
    """Evaluate one condition against the hub's current state."""
    condition_type = config[CONF_TYPE]
    if condition_type == RESPONSE_MODE_IS:
        return hub.mode is not None and hub.mode.mode == config.get(CONF_MODE)
    alerts = open_alerts_here(hub, camera_id)
    if condition_type == ALERT_OPEN:
        return bool(alerts)
    # NOT_DRILL: the newest open alert here is real (no open alert: nothing is real).
    return bool(alerts) and not alerts[0].drill


async def async_get_conditions(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Every condition for a camera device; none for the engine device."""
    if camera_of_device(hass, device_id) is None:
        return []
    return [
        {
            CONF_CONDITION: "device",
            CONF_DEVICE_ID: device_id,
            CONF_DOMAIN: DOMAIN,
            CONF_TYPE: condition_type,
        }
        for condition_type in CONDITION_TYPES
    ]


async def async_get_condition_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """The "response mode is" condition asks which mode, from those the engine offers."""
    if config[CONF_TYPE] != RESPONSE_MODE_IS:
        return {}
    camera = camera_of_device(hass, config[CONF_DEVICE_ID])
    hub = None if camera is None else hub_of(hass, camera)
    modes = list(hub.info.response_modes) if hub is not None else []
    selector = SelectSelector(SelectSelectorConfig(options=modes, translation_key="response_mode"))
    return {"extra_fields": vol.Schema({vol.Required(CONF_MODE): selector})}


@callback
def async_condition_from_config(hass: HomeAssistant, config: ConfigType) -> ConditionCheckerType:
    """The checker of one condition; false while the camera or its engine is unknown."""
    config = CONDITION_SCHEMA(config)

    @callback
    def test(hass: HomeAssistant, variables: TemplateVarsType = None) -> bool:
        camera = camera_of_device(hass, config[CONF_DEVICE_ID])
        hub = None if camera is None else hub_of(hass, camera)
        return (
            camera is not None
            and hub is not None
            and condition_holds(hub, camera.camera_id, config)
        )

    return test
