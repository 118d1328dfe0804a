"""Device triggers: listed per camera device, and firing real automations from the engine."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
import voluptuous_serialize
from homeassistant.components.device_automation import (
    DeviceAutomationType,
)
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_mock_service,
)

from custom_components.school_guard import device_trigger
from custom_components.school_guard.const import DOMAIN
from custom_components.school_guard.entity import camera_device_identifier

from .conftest import RunningEngine
from .helpers import (
    camera_and_engine_automations,
    device_id_of,
    real_alert,
    set_up,
    state_of,
    wait_until,
)
from .sg_snapshot_camera import (
    SnapshotCamera,
    post_camera,
    snapshot_camera_body,
)

TRIGGER_TYPES = [
    "weapon_detected",
    "fight_detected",
    "person_down",
    "unauthorized_access",
    "loitering",
    "crowd",
    "camera_tampered",
    "camera_offline",
    "alert_dismissed",
]


def automation(alias: str, device_id: str, trigger_type: str) -> dict[str, Any]:
    """An automation that reports which trigger fired, with the event or state it saw."""
    return {
        "alias": alias,
        "triggers": {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": device_id,
            "type": trigger_type,
        },
        "actions": {
            "action": "test.automation",
            "data": {
                "alias": alias,
                "event_id": "{{ trigger.event.data.event_id if trigger.event is defined }}",
                "drill": "{{ trigger.event.data.drill if trigger.event is defined }}",
                "reason": "{{ trigger.reason if trigger.reason is defined }}",
            },
        },
    }


def fired(calls: list[ServiceCall]) -> list[tuple[str, str, str, str]]:
    return [
        (c.data["alias"], str(c.data["event_id"]), str(c.data["drill"]), str(c.data["reason"]))
        for c in calls
    ]


async def test_camera_device_offers_nine_triggers_and_engine_device_none(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    engine_id = running_engine.engine_id
    camera_device = device_id_of(hass, camera_device_identifier(engine_id, "plaza"))
    engine_device = device_id_of(hass, (DOMAIN, engine_id))
    camera_triggers, engine_triggers = await camera_and_engine_automations(
        hass, DeviceAutomationType.TRIGGER, engine_id
    )
    assert engine_triggers == []
    assert [t["type"] for t in camera_triggers] == TRIGGER_TYPES
    assert camera_triggers[0] == {
        "platform": "device",
        "device_id": camera_device,
        "domain": DOMAIN,
        "type": "weapon_detected",
        # The camera entity's registry id: the editor names the camera from it.
        "entity_id": er.async_get(hass).async_get("camera.plaza").id,  # type: ignore[union-attr]
        "metadata": {"secondary": False},
    }

    with pytest.raises(InvalidDeviceAutomationConfig, match="is not a school_guard camera"):
        await device_trigger.async_validate_trigger_config(
            hass,
            {
                "platform": "device",
                "domain": DOMAIN,
                "device_id": engine_device,
                "type": "weapon_detected",
            },
        )
    assert device_trigger.camera_of_device(hass, "no-such-device") is None
    other = MockConfigEntry(domain="other", unique_id=engine_id)
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", f"{engine_id}_plaza")}
    )
    assert device_trigger.camera_of_device(hass, foreign.id) is None


async def test_automations_fire_on_alert_dismissal_and_camera_offline(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    lobby: SnapshotCamera,
) -> None:
    entry = await set_up(hass, config_entry)
    client = entry.runtime_data.client
    engine_id = running_engine.engine_id
    await post_camera(hass, running_engine, snapshot_camera_body("lobby", "Lobby", lobby.url()))
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor.lobby_connectivity") == STATE_ON,
        "the lobby camera online in Home Assistant",
    )
    plaza = device_id_of(hass, camera_device_identifier(engine_id, "plaza"))
    lobby_device = device_id_of(hass, camera_device_identifier(engine_id, "lobby"))

    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                automation("plaza weapon", plaza, "weapon_detected"),
                automation("plaza fight", plaza, "fight_detected"),
                automation("plaza dismissed", plaza, "alert_dismissed"),
                automation("lobby offline", lobby_device, "camera_offline"),
                automation("lobby weapon", lobby_device, "weapon_detected"),
            ]
        },
    )
    await hass.async_block_till_done()

    started = await client.test_alert("plaza", "weapon", seconds=600)
    event_id = started.event.event_id
    await wait_until(hass, lambda: len(calls) >= 1, "the weapon automation")
    assert fired(calls) == [("plaza weapon", event_id, "True", "")]

    await client.dismiss(event_id, "SRO Diaz", "drill")
    await wait_until(hass, lambda: len(calls) >= 2, "the dismissal automation")
    assert fired(calls)[1] == ("plaza dismissed", event_id, "True", "")

    lobby.serving = False
    await wait_until(hass, lambda: len(calls) >= 3, "the camera offline automation")
    assert fired(calls)[2] == ("lobby offline", "", "", "http error")
    assert entry.runtime_data.hub.cameras["lobby"].reason == "http error"
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor.lobby_connectivity") == STATE_OFF, "off"
    )

    # Nothing else fired: not the fight trigger, not the other camera's weapon trigger,
    # and not the alert's end.
    await hass.async_block_till_done()
    assert [call[0] for call in fired(calls)] == [
        "plaza weapon",
        "plaza dismissed",
        "lobby offline",
    ]


async def test_engine_stopping_its_cameras_does_not_fire_camera_offline(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    plaza = device_id_of(hass, camera_device_identifier(running_engine.engine_id, "plaza"))
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass, "automation", {"automation": [automation("offline", plaza, "camera_offline")]}
    )
    await running_engine.stop()
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor.plaza_connectivity") == "unavailable",
        "connectivity unavailable while the engine is away",
    )
    await hass.async_block_till_done()
    # The engine said "stopped" for the camera before it went away: no fault, no page.
    assert calls == []


async def never_run(run_variables: dict[str, Any], context: Context | None = None) -> None:
    raise AssertionError("the trigger must not attach")


async def test_attaching_to_a_device_that_is_not_a_camera_fails(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    engine_device = device_id_of(hass, (DOMAIN, running_engine.engine_id))
    config = {"platform": "device", "domain": DOMAIN, "device_id": engine_device}
    with pytest.raises(InvalidDeviceAutomationConfig, match="is not a school_guard camera"):
        await device_trigger.async_attach_trigger(
            hass,
            {**config, "type": "camera_offline"},
            never_run,
            {
                "domain": "automation",
                "name": "n",
                "home_assistant_start": False,
                "variables": None,
                "trigger_data": {"id": "0", "idx": "0", "alias": None},
            },
        )


async def test_alert_trigger_options_ignore_drills_confidence_and_zone(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    plaza = device_id_of(hass, camera_device_identifier(running_engine.engine_id, "plaza"))
    calls = async_mock_service(hass, "test", "automation")

    def with_options(alias: str, **options: Any) -> dict[str, Any]:
        config = automation(alias, plaza, "weapon_detected")
        config["triggers"] |= options
        return config

    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                with_options("real only", ignore_drills=True),
                with_options("sure", min_confidence=90),
                with_options("gate", zone="gate"),
            ]
        },
    )
    await hass.async_block_till_done()
    engine = running_engine.engine

    drill = await engine.test_alert("plaza", "weapon", seconds=600)  # confidence 1.0, no zone
    await wait_until(hass, lambda: len(calls) >= 1, "the drill through 'sure'")
    real = await real_alert(engine, "weapon", confidence=0.8)
    await wait_until(hass, lambda: len(calls) >= 2, "the real alert through 'real only'")
    gate = await real_alert(engine, "weapon", confidence=0.95, zone="gate")
    await wait_until(hass, lambda: len(calls) >= 5, "the gate alert through all three")
    await hass.async_block_till_done()
    assert sorted(fired(calls)) == sorted(
        [
            ("sure", drill.event.id, "True", ""),
            ("real only", real, "False", ""),
            ("real only", gate, "False", ""),
            ("sure", gate, "False", ""),
            ("gate", gate, "False", ""),
        ]
    )


async def test_alert_triggers_offer_their_options_in_the_editor(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    plaza = device_id_of(hass, camera_device_identifier(running_engine.engine_id, "plaza"))
    base = {"platform": "device", "domain": DOMAIN, "device_id": plaza}
    weapon = await device_trigger.async_get_trigger_capabilities(
        hass, {**base, "type": "weapon_detected"}
    )
    fields = voluptuous_serialize.convert(
        weapon["extra_fields"], custom_serializer=cv.custom_serializer
    )
    assert [(f["name"], next(iter(f["selector"]))) for f in fields] == [
        ("ignore_drills", "boolean"),
        ("min_confidence", "number"),
        ("zone", "text"),
    ]
    assert fields[1]["selector"]["number"]["unit_of_measurement"] == "%"
    for plain in ("camera_offline", "alert_dismissed"):
        assert (
            await device_trigger.async_get_trigger_capabilities(hass, {**base, "type": plain}) == {}
        )
    with pytest.raises(vol.Invalid):
        device_trigger.TRIGGER_SCHEMA({**base, "type": "weapon_detected", "min_confidence": 120})


async def test_triggers_saved_before_they_named_their_camera_still_fire(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    """Triggers saved without ``entity_id`` fire like those the editor saves today.

    The automation editor reads ``entity_id`` from the saved trigger to name the camera, so
    such a trigger reads "<unknown entity>: weapon detected" until it is picked again
    (docs/automations/README.md); the camera comes from its device id either way.
    """
    await set_up(hass, config_entry)
    plaza = device_id_of(hass, camera_device_identifier(running_engine.engine_id, "plaza"))
    listed, _ = await camera_and_engine_automations(
        hass, DeviceAutomationType.TRIGGER, running_engine.engine_id
    )
    (weapon,) = [t for t in listed if t["type"] == "weapon_detected"]
    weapon = {k: v for k, v in weapon.items() if k != "metadata"}
    assert "entity_id" in weapon, "what the editor saves today"

    def with_trigger(alias: str, trigger: dict[str, Any]) -> dict[str, Any]:
        return {**automation(alias, plaza, "weapon_detected"), "triggers": trigger}

    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                with_trigger("saved today", weapon),
                with_trigger("saved before", {k: v for k, v in weapon.items() if k != "entity_id"}),
            ]
        },
    )
    await hass.async_block_till_done()
    assert all(
        state_of(hass, f"automation.{name}") == STATE_ON for name in ("saved_today", "saved_before")
    )
    started = await running_engine.engine.test_alert("plaza", "weapon", seconds=600)
    await wait_until(hass, lambda: len(calls) >= 2, "both automations")
    await hass.async_block_till_done()
    assert sorted(fired(calls)) == [
        ("saved before", started.event.id, "True", ""),
        ("saved today", started.event.id, "True", ""),
    ]
