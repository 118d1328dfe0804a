"""The ``school_guard.connectivity_off`` trigger against the real engine's cameras."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.school_guard import trigger
from custom_components.school_guard.entity import camera_device_identifier

from .conftest import RunningEngine
from .helpers import device_id_of, set_up, state_of, wait_until

PLAZA = "binary_sensor.plaza_connectivity"
GYM = {
    "id": "gym",
    "name": "Gym",
    "location": "Building C",
    "source": {"type": "rtsp", "url": "rtsp://127.0.0.1:1/gym"},
    "enabled": False,
}


def automation(alias: str, **options: Any) -> dict[str, Any]:
    """An automation on the trigger that reports what the trigger said."""
    return {
        "alias": alias,
        "triggers": {"trigger": "school_guard.connectivity_off", "for": {"minutes": 2}, **options},
        "actions": {
            "action": "test.automation",
            "data": {
                "alias": alias,
                "camera": "{{ trigger.engine_id }}/{{ trigger.camera_id }}",
                "device_id": "{{ trigger.device_id }}",
                "entity_id": "{{ trigger.entity_id }}",
                "to": "{{ trigger.to_state.state }}",
            },
        },
    }


def fired(calls: list[ServiceCall]) -> list[tuple[str, str]]:
    return sorted((str(c.data["alias"]), str(c.data["camera"])) for c in calls)


async def later(hass: HomeAssistant, minutes: float) -> None:
    """Move Home Assistant's clock on and let what came due run."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=minutes))
    await hass.async_block_till_done()


async def test_a_chosen_camera_off_for_the_time_fires_once(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    engine_id = running_engine.engine_id
    plaza = device_id_of(hass, camera_device_identifier(engine_id, "plaza"))
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                automation("plaza by device", devices=[plaza]),
                automation("plaza by id", camera_ids=["plaza"]),
                automation("every camera"),
                automation("gym only", camera_ids=["gym"]),
            ]
        },
    )
    await hass.async_block_till_done()

    await running_engine.engine.update_camera("plaza", {"enabled": False})
    await wait_until(hass, lambda: state_of(hass, PLAZA) == STATE_OFF, "plaza offline")
    await later(hass, 1)
    assert calls == [], "not off for two minutes yet"
    await later(hass, 3)
    await wait_until(hass, lambda: len(calls) == 3, "the three automations on plaza")
    assert fired(calls) == [
        ("every camera", f"{engine_id}/plaza"),
        ("plaza by device", f"{engine_id}/plaza"),
        ("plaza by id", f"{engine_id}/plaza"),
    ]
    assert {(c.data["device_id"], c.data["entity_id"], c.data["to"]) for c in calls} == {
        (plaza, PLAZA, STATE_OFF)
    }
    await later(hass, 10)
    assert len(calls) == 3, "once per time the sensor turns off"


async def test_back_in_time_or_engine_away_cancels(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass, "automation", {"automation": [automation("every camera")]}
    )
    await hass.async_block_till_done()

    # Back before the two minutes are up: nothing.
    await running_engine.engine.update_camera("plaza", {"enabled": False})
    await wait_until(hass, lambda: state_of(hass, PLAZA) == STATE_OFF, "plaza offline")
    await running_engine.engine.update_camera("plaza", {"enabled": True})
    await wait_until(hass, lambda: state_of(hass, PLAZA) == STATE_ON, "plaza back")
    await later(hass, 3)
    assert calls == []

    # A camera that appears offline (its sensor is created "off") is timed like any other.
    await running_engine.engine.add_camera(GYM)
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor.gym_connectivity") == STATE_OFF, "gym"
    )
    await later(hass, 3)
    await wait_until(hass, lambda: len(calls) == 1, "the gym page")
    assert fired(calls) == [("every camera", f"{running_engine.engine_id}/gym")]

    # Off, then the engine goes away (unavailable, as a state trigger would see it): nothing.
    await running_engine.engine.update_camera("plaza", {"enabled": False})
    await wait_until(hass, lambda: state_of(hass, PLAZA) == STATE_OFF, "plaza offline")
    await running_engine.stop()
    await wait_until(hass, lambda: state_of(hass, PLAZA) == STATE_UNAVAILABLE, "unavailable")
    await later(hass, 3)
    assert len(calls) == 1


async def test_the_trigger_refuses_unknown_options(hass: HomeAssistant) -> None:
    config = {"platform": "school_guard.connectivity_off", "for": {"minutes": 5}}
    validated = await trigger.async_validate_trigger_config(hass, config)
    assert (validated["devices"], validated["camera_ids"]) == ([], [])
    assert validated["for"] == timedelta(minutes=5)
    with pytest.raises(vol.Invalid):
        await trigger.async_validate_trigger_config(hass, {**config, "entity_id": "x.y"})
    with pytest.raises(vol.Invalid):
        await trigger.async_validate_trigger_config(hass, {**config, "for": "soon"})
