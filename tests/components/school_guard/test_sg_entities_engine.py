"""Engine-device entities: response mode, drill, connectivity, inference; API restarts."""

from __future__ import annotations

from typing import Any, cast
from unittest.mock import patch

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, EntityCategory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from custom_components.school_guard.client import (
    SchoolGuardApiError,
    SchoolGuardAuthError,
    SchoolGuardConnectionError,
)
from custom_components.school_guard.const import DOMAIN
from detectors.protocol.codes import RESPONSE_MODES

from .conftest import RunningEngine
from .helpers import state_of, wait_until

MODE = "select.lincoln_high_response_mode"
DRILL = "switch.lincoln_high_drill_mode"
LINK = "binary_sensor.lincoln_high_connectivity"
DEVICE = "sensor.lincoln_high_inference_device"
CAMERA_LINK = "binary_sensor.plaza_connectivity"


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> SchoolGuardConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(hass, lambda: state_of(hass, MODE) == "normal", "the pushed mode")
    return cast(SchoolGuardConfigEntry, entry)


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dict(state.attributes)


async def test_engine_device_entities(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    await set_up(hass, config_entry)
    engine_id = running_engine.engine_id
    device = device_registry.async_get_device(identifiers={(DOMAIN, engine_id)})
    assert device is not None
    assert device.manufacturer == "School Guard"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    camera = device_registry.async_get_device(identifiers={(DOMAIN, f"{engine_id}_plaza")})
    assert camera is not None
    assert (camera.manufacturer, camera.name) == ("School Guard", "Plaza")
    area = ar.async_get(hass).async_get_area(camera.area_id or "")
    assert area is not None and area.name == "Building B, outside", "suggested from location"
    expected = {
        MODE: ("response_mode", None),
        DRILL: ("drill_mode", None),
        LINK: ("engine_connectivity", EntityCategory.DIAGNOSTIC),
        DEVICE: ("inference_device", EntityCategory.DIAGNOSTIC),
    }
    for entity_id, (key, category) in expected.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert (entry.translation_key, entry.entity_category) == (key, category)
        assert entry.unique_id == f"{engine_id}_{key}"
        assert entry.device_id == device.id

    drills = [f"{mode}_drill" for mode in RESPONSE_MODES if mode != "normal"]
    assert attributes(hass, MODE)["options"] == [*RESPONSE_MODES, *drills]
    assert attributes(hass, MODE)["friendly_name"] == "Lincoln High Response mode"
    assert state_of(hass, DRILL) == STATE_OFF
    assert attributes(hass, DRILL)["friendly_name"] == "Lincoln High Drill mode"
    assert state_of(hass, LINK) == STATE_ON
    assert attributes(hass, LINK)["device_class"] == "connectivity"
    runtime = running_engine.engine.runtime
    assert runtime is not None
    assert state_of(hass, DEVICE) == "CPU"
    assert attributes(hass, DEVICE)["available_devices"] == list(runtime.available_devices)


async def test_mode_select_and_drill_switch_round_trip(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    engine = running_engine.engine

    await hass.services.async_call("switch", "turn_on", {"entity_id": DRILL}, blocking=True)
    await wait_until(hass, lambda: state_of(hass, DRILL) == STATE_ON, "drill on")
    assert (engine.mode["mode"], engine.mode["drill"]) == ("normal", True)

    assert state_of(hass, MODE) == "normal", "normal has nothing to practise"

    await hass.services.async_call(
        "select", "select_option", {"entity_id": MODE, "option": "lockdown_drill"}, blocking=True
    )
    await wait_until(hass, lambda: state_of(hass, MODE) == "lockdown_drill", "lockdown drill")
    assert (engine.mode["mode"], engine.mode["drill"]) == ("lockdown", True)
    assert state_of(hass, DRILL) == STATE_ON

    await hass.services.async_call("switch", "turn_off", {"entity_id": DRILL}, blocking=True)
    await wait_until(hass, lambda: state_of(hass, DRILL) == STATE_OFF, "drill off")
    assert (engine.mode["mode"], engine.mode["drill"]) == ("lockdown", False), "mode kept"
    assert state_of(hass, MODE) == "lockdown"

    await hass.services.async_call("switch", "turn_on", {"entity_id": DRILL}, blocking=True)
    await wait_until(hass, lambda: state_of(hass, MODE) == "lockdown_drill", "drill again")
    await hass.services.async_call(
        "select", "select_option", {"entity_id": MODE, "option": "evacuate"}, blocking=True
    )
    await wait_until(hass, lambda: state_of(hass, MODE) == "evacuate", "real evacuate")
    assert (engine.mode["mode"], engine.mode["drill"]) == ("evacuate", False), "plain is real"

    # A change made elsewhere (another client of the engine) arrives by push.
    engine.set_mode("shelter", True)
    await wait_until(hass, lambda: state_of(hass, MODE) == "shelter_drill", "pushed shelter")
    assert state_of(hass, DRILL) == STATE_ON


@pytest.mark.parametrize(
    ("error", "key", "placeholders"),
    [
        (
            SchoolGuardApiError(400, "invalid", "mode: nope"),
            "engine_rejected",
            {"code": "invalid", "error": "mode: nope"},
        ),
        (SchoolGuardAuthError("refused"), "invalid_auth", {"host": "127.0.0.1"}),
        (
            SchoolGuardConnectionError("PUT /mode: refused"),
            "cannot_connect",
            {"host": "127.0.0.1", "error": "PUT /mode: refused"},
        ),
    ],
)
async def test_engine_failures_are_translated_errors(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    error: Exception,
    key: str,
    placeholders: dict[str, str],
) -> None:
    entry = await set_up(hass, config_entry)
    client = entry.runtime_data.client
    calls = [
        ("select", "select_option", {"entity_id": MODE, "option": "hold"}, "set_mode"),
        ("switch", "turn_on", {"entity_id": DRILL}, "set_mode"),
        ("switch", "turn_off", {"entity_id": "switch.plaza_detection"}, "patch_camera"),
    ]
    for domain, service, data, method in calls:
        with (
            patch.object(client, method, side_effect=error),
            pytest.raises(HomeAssistantError) as raised,
        ):
            await hass.services.async_call(domain, service, data, blocking=True)
        assert raised.value.translation_domain == DOMAIN
        assert raised.value.translation_key == key
        assert raised.value.translation_placeholders == placeholders
    assert state_of(hass, MODE) == "normal"
    assert state_of(hass, "switch.plaza_detection") == STATE_ON


async def test_api_restart_makes_entities_unavailable_then_back(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    await wait_until(hass, lambda: state_of(hass, CAMERA_LINK) == STATE_ON, "camera online")
    watched = [
        MODE,
        DRILL,
        DEVICE,
        LINK,
        "event.plaza_alert",
        "camera.plaza",
        "image.plaza_latest_alert",
        "switch.plaza_detection",
    ]
    seen: dict[str, list[str]] = {entity_id: [] for entity_id in watched}

    @callback
    def record(event: Event[Any]) -> None:
        seen[event.data["entity_id"]].append(event.data["new_state"].state)

    unsub = async_track_state_change_event(hass, watched, record)
    await running_engine.restart_api()
    await wait_until(
        hass,
        lambda: state_of(hass, LINK) == STATE_ON and len(seen[LINK]) >= 2,
        "the engine link to drop and come back",
    )
    await wait_until(hass, lambda: state_of(hass, "camera.plaza") == "idle", "camera back")
    await wait_until(hass, lambda: state_of(hass, MODE) == "normal", "mode back")
    unsub()
    assert seen[LINK] == [STATE_OFF, STATE_ON], "the link sensor itself stays available"
    assert seen["event.plaza_alert"] == [], "the last alert stays shown: no logbook noise"
    for entity_id in watched:
        if entity_id not in (LINK, "event.plaza_alert"):
            assert seen[entity_id][0] == STATE_UNAVAILABLE, entity_id
            assert seen[entity_id][-1] != STATE_UNAVAILABLE, entity_id
    assert state_of(hass, DRILL) == STATE_OFF
    assert state_of(hass, DEVICE) == "CPU"
    assert state_of(hass, "switch.plaza_detection") == STATE_ON
