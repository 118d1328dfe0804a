"""Device triggers on each camera device, so alert automations are built in the UI.

Alert triggers listen to the ``school_guard_alert`` bus event the hub fires for every
alert change, filtered by engine, camera, rule and change. "Camera offline" listens to
the hub's per-camera signal instead of the connectivity sensor's on -> off: the sensor
also turns off when the engine stops its cameras for a restart and when a person switches
detection off, and a facilities page for every camera on each engine update would teach
people to ignore it. The hub sends the signal only when a camera that was online fails
(``issues.camera_fault``), with the engine's reason, which the automation receives as
``trigger.reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, EVENT_ALERT
from .entity import camera_device_identifier
from .hub import signal_camera_offline

ALERT_TRIGGERS: Final[dict[str, str]] = {
    "weapon_detected": "weapon",
    "fight_detected": "fight",
    "person_down": "person_down",
    "unauthorized_access": "intrusion",
    "loitering": "loitering",
    "crowd": "crowd",
    "camera_tampered": "tamper",
}
"""Trigger type -> engine rule whose alert start fires it."""
CAMERA_OFFLINE: Final = "camera_offline"
ALERT_DISMISSED: Final = "alert_dismissed"
TRIGGER_TYPES: Final = (*ALERT_TRIGGERS, CAMERA_OFFLINE, ALERT_DISMISSED)

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend({vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES)})


@dataclass(frozen=True, slots=True)
class CameraRef:
    """Which engine's which camera a device is."""

    engine_id: str
    camera_id: str


@callback
def camera_of_device(hass: HomeAssistant, device_id: str) -> CameraRef | None:
    """The camera a device stands for; None for the engine device or a foreign one.

    Works from the registries alone (the entry's unique id is the engine id), so
    automations validate and attach even before the config entry has loaded.
    """
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.unique_id is None:
            continue
        engine_id = entry.unique_id
        prefix = camera_device_identifier(engine_id, "")[1]
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier.startswith(prefix) and identifier != prefix:
                return CameraRef(engine_id, identifier.removeprefix(prefix))
    return None


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Check the schema and that the device is one of our cameras."""
    config = TRIGGER_SCHEMA(config)
    if camera_of_device(hass, config[CONF_DEVICE_ID]) is None:
        raise InvalidDeviceAutomationConfig(
            f"Device {config[CONF_DEVICE_ID]} is not a school_guard camera"
        )
    return config


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Every trigger type for a camera device; none for the engine device."""
    if camera_of_device(hass, device_id) is None:
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DEVICE_ID: device_id,
            CONF_DOMAIN: DOMAIN,
            CONF_TYPE: trigger_type,
        }
        for trigger_type in TRIGGER_TYPES
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Attach an event trigger (alerts) or the hub's camera-offline signal."""
    camera = camera_of_device(hass, config[CONF_DEVICE_ID])
    if camera is None:
        raise InvalidDeviceAutomationConfig(
            f"Device {config[CONF_DEVICE_ID]} is not a school_guard camera"
        )
    trigger_type: str = config[CONF_TYPE]
    if trigger_type == CAMERA_OFFLINE:
        return _attach_camera_offline(hass, config, camera, action, trigger_info)
    event_data: dict[str, str] = {
        "engine_id": camera.engine_id,
        "camera_id": camera.camera_id,
    }
    if trigger_type == ALERT_DISMISSED:
        event_data["change"] = "dismissed"
    else:
        event_data |= {"rule": ALERT_TRIGGERS[trigger_type], "change": "started"}
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: EVENT_ALERT,
            CONF_EVENT_DATA: event_data,
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )


@callback
def _attach_camera_offline(
    hass: HomeAssistant,
    config: ConfigType,
    camera: CameraRef,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Fire when the hub sees the camera go from online to offline through a fault."""
    job = HassJob(action, f"{DOMAIN} camera offline trigger")
    trigger_data = trigger_info["trigger_data"]

    @callback
    def camera_offline(reason: str | None) -> None:
        hass.async_run_hass_job(
            job,
            {
                "trigger": {
                    **trigger_data,
                    **config,
                    "engine_id": camera.engine_id,
                    "camera_id": camera.camera_id,
                    "reason": reason,
                    "description": f"camera {camera.camera_id} offline",
                }
            },
        )

    signal = signal_camera_offline(camera.engine_id, camera.camera_id)
    return async_dispatcher_connect(hass, signal, camera_offline)
