"""Pushed state: person count, drill alerts, new cameras, and the engine going away."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.const import DOMAIN, EVENT_ALERT

from .conftest import RunningEngine
from .helpers import set_up, state_of, wait_until

WEAPON = "binary_sensor.plaza_weapon"
PERSONS = "sensor.plaza_person_count"
CONNECTIVITY = "binary_sensor.plaza_connectivity"


async def test_person_count_follows_the_engine_by_push(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    plaza = running_engine.engine.cameras["plaza"]

    def shows_engine_count() -> bool:
        state = state_of(hass, PERSONS)
        return plaza.person_count > 0 and state == str(plaza.person_count)

    await wait_until(hass, shows_engine_count, "the pushed person count")
    sensor = hass.states.get(PERSONS)
    assert sensor is not None
    assert sensor.attributes["state_class"] == "measurement"
    assert sensor.attributes["unit_of_measurement"] == "persons"


async def test_drill_alert_turns_weapon_on_and_fires_bus_event(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    alerts: list[dict[str, Any]] = []
    hass.bus.async_listen(EVENT_ALERT, lambda event: alerts.append(dict(event.data)))
    weapon_states: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or old.state != new.state:  # attributes change along the way too
            weapon_states.append(new.state)

    unsub = async_track_state_change_event(hass, [WEAPON], record)
    assert state_of(hass, WEAPON) == STATE_OFF

    client = entry.runtime_data.client
    started = await client.test_alert("plaza", "weapon", seconds=1)
    assert started.change == "started"
    assert started.event.drill is True

    await wait_until(hass, lambda: weapon_states[-2:] == [STATE_ON, STATE_OFF], "on then off")
    await wait_until(hass, lambda: len(alerts) >= 2, "started and ended bus events")
    unsub()
    assert weapon_states == [STATE_ON, STATE_OFF]
    event_id = started.event.event_id
    base = f"http://127.0.0.1:{running_engine.port}/api/v1"
    camera = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{running_engine.engine_id}_plaza")}
    )
    assert camera is not None
    assert alerts[0] == {
        "engine_id": running_engine.engine_id,
        "device_id": camera.id,
        "camera_id": "plaza",
        "camera_name": "Plaza",
        "location": "Building B, outside",
        "rule": "weapon",
        "zone": None,
        "confidence": 1.0,
        "event_id": event_id,
        "change": "started",
        "state": "started",
        "drill": True,
        "acknowledged": False,
        "dismissed": False,
        "snapshot_url": f"{base}/events/{event_id}/snapshot.jpg",
        "clip_url": None,  # named by the "evidence" change, after the post-roll
        "strip_url": None,
    }
    assert (alerts[1]["event_id"], alerts[1]["change"], alerts[1]["state"]) == (
        event_id,
        "ended",
        "ended",
    )
    assert entry.runtime_data.hub.open_alerts == {}
    assert entry.runtime_data.hub.cursor == started.cursor + 1


async def test_dismissed_drill_closes_the_open_alert(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    client = entry.runtime_data.client
    started = await client.test_alert("plaza", "fight", seconds=600)
    event_id = started.event.event_id
    await wait_until(hass, lambda: event_id in hub.open_alerts, "the open alert")
    assert state_of(hass, "binary_sensor.plaza_fight") == STATE_ON

    acknowledged = await client.acknowledge(event_id, "SRO Diaz", "on my way")
    assert acknowledged.change == "acknowledged"
    await wait_until(hass, lambda: hub.open_alerts[event_id].acknowledged, "the acknowledgement")

    dismissed = await client.dismiss(event_id, "SRO Diaz", "drill")
    assert (dismissed.change, dismissed.event.dismissed) == ("dismissed", True)
    await wait_until(hass, lambda: event_id not in hub.open_alerts, "the dismissal")
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor.plaza_fight") == STATE_OFF, "fight off"
    )


async def test_camera_added_on_the_engine_gets_entities(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    await running_engine.engine.add_camera(
        {
            "id": "gym",
            "name": "Gym",
            "location": "Building C",
            "source": {"type": "rtsp", "url": "rtsp://127.0.0.1:1/gym"},
            "enabled": False,
        }
    )
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor.gym_connectivity") is not None, "gym entities"
    )
    assert state_of(hass, "binary_sensor.gym_connectivity") == STATE_OFF
    assert state_of(hass, "binary_sensor.gym_weapon") == STATE_UNAVAILABLE
    assert state_of(hass, "sensor.gym_person_count") == STATE_UNAVAILABLE

    # A camera removed from the engine takes its device and entities with it.
    await running_engine.engine.remove_camera("gym")
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor.gym_connectivity") is None,
        "the removed camera's entities to go",
    )
    assert state_of(hass, "sensor.gym_person_count") is None
    assert state_of(hass, "binary_sensor.plaza_connectivity") is not None


async def test_entities_unavailable_when_engine_stops(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    assert state_of(hass, WEAPON) == STATE_OFF
    await running_engine.stop()
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_UNAVAILABLE, "unavailable")
    assert entry.runtime_data.hub.connected is False
    for entity_id in (WEAPON, PERSONS, CONNECTIVITY, "binary_sensor.plaza_motion"):
        assert state_of(hass, entity_id) == STATE_UNAVAILABLE
