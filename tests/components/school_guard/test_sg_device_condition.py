"""Device conditions: an alert open here, a real alert, the response mode; in automations."""

from __future__ import annotations

from typing import Any

import voluptuous_serialize
from homeassistant.components.device_automation import (
    DeviceAutomationType,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_mock_service,
)

from custom_components.school_guard import device_condition
from custom_components.school_guard.const import DOMAIN
from custom_components.school_guard.entity import camera_device_identifier
from detectors.protocol.codes import RESPONSE_MODES

from .conftest import RunningEngine
from .helpers import (
    camera_and_engine_automations,
    device_id_of,
    real_alert,
    set_up,
    wait_until,
)


def check(device_id: str, condition_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "condition": "device",
        "domain": DOMAIN,
        "device_id": device_id,
        "type": condition_type,
        **extra,
    }


async def test_camera_device_offers_three_conditions_and_engine_device_none(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    engine_id = running_engine.engine_id
    plaza = device_id_of(hass, camera_device_identifier(engine_id, "plaza"))
    conditions, engine_conditions = await camera_and_engine_automations(
        hass, DeviceAutomationType.CONDITION, engine_id
    )
    assert engine_conditions == []
    assert [c["type"] for c in conditions] == ["alert_open", "not_drill", "response_mode_is"]

    mode = await device_condition.async_get_condition_capabilities(
        hass, check(plaza, "response_mode_is")
    )
    fields = voluptuous_serialize.convert(
        mode["extra_fields"], custom_serializer=cv.custom_serializer
    )
    assert fields[0]["name"] == "mode"
    assert fields[0]["selector"]["select"]["options"] == list(RESPONSE_MODES)
    assert fields[0]["selector"]["select"]["translation_key"] == "response_mode"
    assert (
        await device_condition.async_get_condition_capabilities(hass, check(plaza, "alert_open"))
        == {}
    )


async def test_conditions_follow_the_engines_alerts_and_mode(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    engine = running_engine.engine
    plaza = device_id_of(hass, camera_device_identifier(running_engine.engine_id, "plaza"))

    async def holds(condition_type: str, **extra: Any) -> bool:
        config = check(plaza, condition_type, **extra)
        test = device_condition.async_condition_from_config(hass, config)
        return bool(test(hass, None))

    assert not await holds("alert_open")
    assert not await holds("not_drill"), "no open alert: nothing here is real"
    assert await holds("response_mode_is", mode="normal")

    drill = await engine.test_alert("plaza", "weapon", seconds=600)
    await wait_until(hass, lambda: drill.event.id in hub.open_alerts, "the drill open")
    assert await holds("alert_open")
    assert not await holds("not_drill")
    await engine.dismiss(drill.event.id, "SRO Diaz", "drill over")
    await wait_until(hass, lambda: not hub.open_alerts, "the drill dismissed")
    assert not await holds("alert_open")

    real = await real_alert(engine, "intrusion")
    await wait_until(hass, lambda: real in hub.open_alerts, "the real alert open")
    assert await holds("alert_open") and await holds("not_drill")

    engine.set_mode("lockdown", True)
    await wait_until(hass, lambda: hub.mode is not None and hub.mode.mode == "lockdown", "mode")
    assert await holds("response_mode_is", mode="lockdown")
    assert not await holds("response_mode_is", mode="normal")

    await hass.config_entries.async_unload(entry.entry_id)
    assert not await holds("alert_open"), "no state to answer from: false, never a guess"
    assert not device_condition.async_condition_from_config(
        hass, check("no-such-device", "alert_open")
    )(hass, None)


async def test_a_condition_stops_an_automation_for_a_drill(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    plaza = device_id_of(hass, camera_device_identifier(running_engine.engine_id, "plaza"))
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "real weapon",
                "triggers": {
                    "platform": "device",
                    "domain": DOMAIN,
                    "device_id": plaza,
                    "type": "weapon_detected",
                },
                "conditions": [check(plaza, "not_drill")],
                "actions": {
                    "action": "test.automation",
                    "data": {"event_id": "{{ trigger.event.data.event_id }}"},
                },
            }
        },
    )
    await hass.async_block_till_done()
    engine = running_engine.engine
    drill = await engine.test_alert("plaza", "weapon", seconds=600)
    await engine.dismiss(drill.event.id, "SRO Diaz", "drill over")
    real = await real_alert(engine, "weapon")
    await wait_until(hass, lambda: len(calls) >= 1, "the real alert's run")
    await hass.async_block_till_done()
    assert [call.data["event_id"] for call in calls] == [real]
