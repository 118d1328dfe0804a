"""The ``school_guard.connectivity_off`` trigger: a camera's connectivity sensor off for a while.

A state trigger needs its entity ids when the automation is written, so an automation
that should follow "these camera devices" or "every School Guard camera" (the
camera-health playbook, whose cameras are picked as devices) cannot use one. This trigger
takes camera devices and/or engine camera ids (both empty: every camera of every engine,
cameras added later included) and fires once a chosen camera's connectivity sensor has
been ``off`` for ``for`` — exactly what ``trigger: state``, ``to: "off"``, ``for:`` on that
sensor would do: a change to anything else (on, unavailable while the engine is away)
before then cancels it, and a camera already off when the automation starts waits for its
next change to off.

    triggers:
      - trigger: school_guard.connectivity_off
        devices: [<camera device id>, ...]   # optional
        camera_ids: [plaza, ...]             # optional
        for: {minutes: 5}

The automation gets ``trigger.entity_id`` (the sensor), ``trigger.device_id``,
``trigger.engine_id``, ``trigger.camera_id``, ``trigger.from_state``, ``trigger.to_state``
and ``trigger.for``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.components.binary_sensor import DOMAIN as BINARY_SENSOR_DOMAIN
from homeassistant.const import CONF_FOR, CONF_PLATFORM, STATE_OFF
from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, State, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    EventStateChangedData,
    TrackStates,
    async_call_later,
    async_track_state_change_filtered,
)
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, camera_unique_id
from .device_trigger import CameraRef, camera_of_device

CONNECTIVITY_OFF: Final = f"{DOMAIN}.connectivity_off"
CONF_DEVICES: Final = "devices"
CONF_CAMERA_IDS: Final = "camera_ids"

TRIGGER_SCHEMA = cv.TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): CONNECTIVITY_OFF,
        vol.Optional(CONF_DEVICES, default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(CONF_CAMERA_IDS, default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(CONF_FOR, default=timedelta(0)): cv.positive_time_period,
    }
)


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Check the trigger's options (devices need not exist yet: cameras come and go)."""
    validated: ConfigType = TRIGGER_SCHEMA(config)
    return validated


@callback
def connectivity_camera(hass: HomeAssistant, entity_id: str) -> tuple[str, CameraRef] | None:
    """The camera device and camera whose connectivity sensor ``entity_id`` is, if it is one."""
    entry = er.async_get(hass).async_get(entity_id)
    if entry is None or entry.platform != DOMAIN or entry.device_id is None:
        return None
    camera = camera_of_device(hass, entry.device_id)
    if camera is None or entry.unique_id != camera_unique_id(
        camera.engine_id, camera.camera_id, "connectivity"
    ):
        return None
    return entry.device_id, camera


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Follow every School Guard connectivity sensor; time the chosen ones while off."""
    devices = set(config[CONF_DEVICES])
    camera_ids = set(config[CONF_CAMERA_IDS])
    delay: timedelta = config[CONF_FOR]
    job = HassJob(action, f"{DOMAIN} connectivity off trigger")
    trigger_data = trigger_info["trigger_data"]
    timers: dict[str, CALLBACK_TYPE] = {}

    def chosen(device_id: str, camera: CameraRef) -> bool:
        if not devices and not camera_ids:
            return True
        return device_id in devices or camera.camera_id in camera_ids

    @callback
    def fire(entity_id: str, device_id: str, camera: CameraRef, event: Event[Any]) -> None:
        timers.pop(entity_id, None)
        now = hass.states.get(entity_id)
        if now is None or now.state != STATE_OFF:
            return
        old: State | None = event.data["old_state"]
        hass.async_run_hass_job(
            job,
            {
                "trigger": {
                    **trigger_data,
                    "platform": CONNECTIVITY_OFF,
                    "entity_id": entity_id,
                    "device_id": device_id,
                    "engine_id": camera.engine_id,
                    "camera_id": camera.camera_id,
                    "from_state": old,
                    "to_state": now,
                    "for": delay,
                    "description": f"{now.name} off for {delay}",
                }
            },
            event.context,
        )

    @callback
    def state_changed(event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        new = event.data["new_state"]
        old = event.data["old_state"]
        if new is not None and new.state == STATE_OFF:
            if old is not None and old.state == STATE_OFF:
                return  # only its attributes changed: keep timing
            found = connectivity_camera(hass, entity_id)
            if found is None or not chosen(*found):
                return
            if (cancel := timers.pop(entity_id, None)) is not None:
                cancel()
            device_id, camera = found

            @callback
            def elapsed(_now: datetime) -> None:
                fire(entity_id, device_id, camera, event)

            timers[entity_id] = async_call_later(hass, delay, elapsed)
        elif (cancel := timers.pop(entity_id, None)) is not None:
            cancel()

    tracker = async_track_state_change_filtered(
        hass, TrackStates(False, set(), {BINARY_SENSOR_DOMAIN}), state_changed
    )

    @callback
    def detach() -> None:
        tracker.async_remove()
        for cancel in timers.values():
            cancel()
        timers.clear()

    return detach
