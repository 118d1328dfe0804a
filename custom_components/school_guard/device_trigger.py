"""Device triggers on each camera device, so alert automations are built in the UI.

Alert triggers listen to the ``school_guard_alert`` bus event the hub fires for every
alert change, filtered by engine, camera, rule and change. "Camera offline" listens to
the hub's per-camera signal instead of the connectivity sensor's on -> off: the sensor
also turns off when the engine stops its cameras for a restart and when a person switches
detection off, and a facilities page for every camera on each engine update would teach
people to ignore it. The hub sends the signal only when a camera that was online fails
(``issues.camera_fault``), with the engine's reason, which the automation receives as
``trigger.reason``.

Alert triggers take options (the automation editor shows them once a trigger is picked):
*Ignore drills*, *Minimum confidence* (percent) and *Zone* (the engine's zone name). They
are checked on the bus event before the automation runs, so an automation that ignores
drills never starts for one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
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
    CONF_ENTITY_ID,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, Context, HassJob, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, EVENT_ALERT, camera_unique_id
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

CONF_IGNORE_DRILLS: Final = "ignore_drills"
CONF_MIN_CONFIDENCE: Final = "min_confidence"
CONF_ZONE: Final = "zone"

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES),
        # Names the camera in the editor only; the device id says which camera fires.
        vol.Optional(CONF_ENTITY_ID): cv.entity_id_or_uuid,
        vol.Optional(CONF_IGNORE_DRILLS, default=False): cv.boolean,
        vol.Optional(CONF_MIN_CONFIDENCE): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
        vol.Optional(CONF_ZONE): cv.string,
    }
)

ALERT_OPTIONS = vol.Schema(
    {
        vol.Optional(CONF_IGNORE_DRILLS, default=False): BooleanSelector(),
        vol.Optional(CONF_MIN_CONFIDENCE): NumberSelector(
            NumberSelectorConfig(
                min=0, max=100, step=5, unit_of_measurement="%", mode=NumberSelectorMode.SLIDER
            )
        ),
        vol.Optional(CONF_ZONE): TextSelector(),
    }
)
"""What an alert trigger can be narrowed by (dismissal and offline have no options)."""


def alert_passes(config: ConfigType, data: Mapping[str, Any]) -> bool:
    """Whether an alert's bus data meets the trigger's options."""
    if config.get(CONF_IGNORE_DRILLS) and data.get("drill"):
        return False
    minimum = config.get(CONF_MIN_CONFIDENCE)
    confidence = data.get("confidence")
    if minimum is not None and (
        not isinstance(confidence, int | float) or confidence * 100 < minimum
    ):
        return False
    zone = config.get(CONF_ZONE)
    return not zone or data.get("zone") == zone


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


@callback
def camera_entity_ref(hass: HomeAssistant, camera: CameraRef) -> str | None:
    """The registry id of the camera's camera entity, which names the camera.

    A trigger carrying it reads "Main entrance: weapon detected" in the automation
    editor (the frontend fills ``{entity_name}`` from it); the id, unlike the entity id,
    survives renaming the entity.
    """
    registry = er.async_get(hass)
    unique_id = camera_unique_id(camera.engine_id, camera.camera_id, "snapshot")
    entity_id = registry.async_get_entity_id("camera", DOMAIN, unique_id)
    entry = None if entity_id is None else registry.async_get(entity_id)
    return None if entry is None else entry.id


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Every trigger type for a camera device; none for the engine device."""
    camera = camera_of_device(hass, device_id)
    if camera is None:
        return []
    named = camera_entity_ref(hass, camera)
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DEVICE_ID: device_id,
            CONF_DOMAIN: DOMAIN,
            CONF_TYPE: trigger_type,
            **({CONF_ENTITY_ID: named} if named is not None else {}),
        }
        for trigger_type in TRIGGER_TYPES
    ]


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """The options of an alert trigger; the other triggers have none."""
    if config[CONF_TYPE] in ALERT_TRIGGERS:
        return {"extra_fields": ALERT_OPTIONS}
    return {}


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
    if trigger_type in ALERT_TRIGGERS:
        action = _filtered(config, action)
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )


def _filtered(config: ConfigType, action: TriggerActionType) -> TriggerActionType:
    """``action``, run only for alerts that meet the trigger's options."""

    async def run_if_it_passes(
        run_variables: dict[str, Any], context: Context | None = None
    ) -> Any:
        if not alert_passes(config, run_variables["trigger"]["event"].data):
            return None
        result = action(run_variables, context)
        return await result if isinstance(result, Awaitable) else result

    return run_if_it_passes


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
