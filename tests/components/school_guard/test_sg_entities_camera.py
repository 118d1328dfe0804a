"""Camera-device entities: alert event, camera stills, latest-alert image, detection switch."""

from __future__ import annotations

from typing import Any, cast
from unittest.mock import patch

from homeassistant.components.camera import async_get_image
from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    mock_restore_cache,
)
from pytest_homeassistant_custom_component.typing import (  # type: ignore[import-untyped]
    ClientSessionGenerator,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from custom_components.school_guard.const import DOMAIN
from detectors.protocol.codes import RULE_NAMES

from .conftest import RunningEngine
from .helpers import real_alert, state_of, wait_until

ALERT = "event.plaza_alert"
CAMERA = "camera.plaza"
IMAGE = "image.plaza_latest_alert"
DETECTION = "switch.plaza_detection"
INFERENCE_TIME = "sensor.plaza_inference_time"
PERSONS = "sensor.plaza_person_count"
CONNECTIVITY = "binary_sensor.plaza_connectivity"
WEAPON = "binary_sensor.plaza_weapon"


async def set_up(
    hass: HomeAssistant, entry: MockConfigEntry, running_engine: RunningEngine
) -> SchoolGuardConfigEntry:
    """Load the entry and wait until the camera has analysed a frame (snapshots exist)."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plaza = running_engine.engine.cameras["plaza"]
    await wait_until(
        hass,
        lambda: state_of(hass, CONNECTIVITY) == STATE_ON and plaza.last_result is not None,
        "the camera to come online and analyse a frame",
    )
    return cast(SchoolGuardConfigEntry, entry)


def detection_enabled(running_engine: RunningEngine) -> bool:
    return running_engine.engine.cameras["plaza"].config.enabled


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dict(state.attributes)


async def test_camera_device_entities_after_setup(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    await set_up(hass, config_entry, running_engine)
    engine_id = running_engine.engine_id
    device = device_registry.async_get_device(identifiers={(DOMAIN, f"{engine_id}_plaza")})
    assert device is not None
    expected = {
        ALERT: ("alert", None, f"{engine_id}_plaza_alert"),
        CAMERA: (None, None, f"{engine_id}_plaza_snapshot"),
        IMAGE: ("latest_alert", None, f"{engine_id}_plaza_latest_alert"),
        DETECTION: ("detection", EntityCategory.CONFIG, f"{engine_id}_plaza_detection"),
        INFERENCE_TIME: (
            "inference_time",
            EntityCategory.DIAGNOSTIC,
            f"{engine_id}_plaza_inference_time",
        ),
    }
    for entity_id, (key, category, unique_id) in expected.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert (entry.translation_key, entry.entity_category, entry.unique_id) == (
            key,
            category,
            unique_id,
        )
        assert entry.device_id == device.id
    inference = entity_registry.async_get(INFERENCE_TIME)
    assert inference is not None
    assert inference.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(INFERENCE_TIME) is None

    assert state_of(hass, ALERT) == STATE_UNKNOWN
    alert = attributes(hass, ALERT)
    assert alert["event_types"] == list(RULE_NAMES)
    assert alert["friendly_name"] == "Plaza Alert"
    assert state_of(hass, CAMERA) == "idle"
    assert attributes(hass, CAMERA)["friendly_name"] == "Plaza"
    assert attributes(hass, CAMERA)["brand"] == "School Guard"  # a URL source: no ONVIF make
    assert attributes(hass, CAMERA)["model_name"] == "Camera"
    assert state_of(hass, IMAGE) == STATE_UNKNOWN
    assert attributes(hass, IMAGE)["friendly_name"] == "Plaza Latest alert"
    assert "event_id" not in attributes(hass, IMAGE)
    assert state_of(hass, DETECTION) == STATE_ON
    assert attributes(hass, DETECTION)["friendly_name"] == "Plaza Detection"
    assert state_of(hass, PERSONS) is not None


async def test_camera_entity_serves_the_engines_annotated_jpeg(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry, running_engine)
    image = await async_get_image(hass, CAMERA)
    assert image.content_type == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
    assert len(image.content) > 1000


async def test_camera_entity_without_a_frame_gives_no_image(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry, running_engine)
    with patch.object(running_engine.engine, "snapshot", return_value=None):
        camera = hass.data["camera"].get_entity(CAMERA)
        assert await camera.async_camera_image() is None
    assert entry.runtime_data.hub.connected


async def test_test_alert_fires_the_event_and_replaces_the_image(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    entry = await set_up(hass, config_entry, running_engine)
    fired: list[State] = []

    @callback
    def record(event: Event[Any]) -> None:
        fired.append(event.data["new_state"])

    unsub = async_track_state_change_event(hass, [ALERT], record)
    response = await hass.services.async_call(
        DOMAIN,
        "test_alert",
        {"device_id": _plaza_device_id(hass, running_engine), "rule": "weapon", "seconds": 600},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    event_id = str(response["event_id"])
    record_ = running_engine.engine.log.get(event_id)
    assert record_.drill is True
    await wait_until(hass, lambda: len(fired) == 1, "the alert event")
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_ON, "weapon on")
    base = f"http://127.0.0.1:{running_engine.port}/api/v1"
    assert {k: v for k, v in fired[0].attributes.items() if k != "friendly_name"} == {
        "event_types": list(RULE_NAMES),
        "event_type": "weapon",
        "event_id": event_id,
        "confidence": 1.0,
        "location": "Building B, outside",
        "zone": None,
        "drill": True,
        "method": None,
        "model": f"{record_.model.name} {record_.model.version} on {record_.model.device}",
        "thresholds": dict(record_.thresholds),
        "snapshot_url": f"{base}/events/{event_id}/snapshot.jpg",
    }
    weapon = attributes(hass, WEAPON)
    assert (weapon["event_id"], weapon["outcome"], weapon["alert_type"]) == (
        event_id,
        "open",
        "drill",
    )
    assert weapon["model"].startswith(record_.model.name)
    assert hass.states.get(WEAPON).attributes["icon"] == "mdi:whistle"  # type: ignore[union-attr]

    started = dt_util.utc_from_timestamp(record_.started_at)
    assert state_of(hass, IMAGE) == started.isoformat()
    assert attributes(hass, IMAGE)["event_id"] == event_id
    assert attributes(hass, IMAGE)["rule"] == "weapon"
    expected = running_engine.engine.log.snapshot(event_id)
    assert expected is not None
    assert expected[:2] == b"\xff\xd8"
    client = await hass_client()
    for _ in range(2):  # the second answer comes from the entity's cache, equal bytes
        served = await client.get(f"/api/image_proxy/{IMAGE}")
        assert served.status == 200
        assert served.content_type == "image/jpeg"
        assert await served.read() == expected

    await hass.services.async_call(
        DOMAIN, "dismiss_alert", {"event_id": event_id, "reason": "drill"}, blocking=True
    )
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_OFF, "weapon off")
    await hass.async_block_till_done()
    unsub()
    # Over, the sensor still tells its last alert's story: how it ended and by whom.
    weapon = attributes(hass, WEAPON)
    assert (weapon["event_id"], weapon["outcome"], weapon["dismissed_reason"]) == (
        event_id,
        "dismissed",
        "drill",
    )
    assert weapon["ended_at"] is not None
    assert "icon" not in attributes(hass, WEAPON), "an ended drill wears no whistle"
    assert len(fired) == 1, "only a start fires the event"
    assert event_id not in entry.runtime_data.hub.open_alerts
    assert attributes(hass, IMAGE)["event_id"] == event_id


async def test_image_asks_nothing_before_the_first_alert(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    entry = await set_up(hass, config_entry, running_engine)
    client = entry.runtime_data.client
    with patch.object(client, "event_snapshot", wraps=client.event_snapshot) as spy:
        served = await (await hass_client()).get(f"/api/image_proxy/{IMAGE}")
    assert served.status == 500
    spy.assert_not_called()


async def test_image_of_an_alert_without_snapshot_is_empty(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry, running_engine)
    plaza = running_engine.engine.cameras["plaza"]
    # The engine stores no snapshot without an analysed frame; the engine reads the
    # frame before its first await, so the worker cannot put one back in between.
    plaza.last_result = None
    started = await running_engine.engine.test_alert("plaza", "crowd", seconds=600)
    event_id = started.event.id
    assert running_engine.engine.log.snapshot(event_id) is None
    await wait_until(
        hass, lambda: attributes(hass, IMAGE).get("event_id") == event_id, "the new alert"
    )
    image = hass.data["image"].get_entity(IMAGE)
    assert await image.async_image() is None


async def test_image_restores_the_alert_shown_before_a_restart(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    plaza = running_engine.engine.cameras["plaza"]
    await wait_until(hass, lambda: plaza.last_result is not None, "an analysed frame")
    change = await running_engine.engine.test_alert("plaza", "tamper", seconds=600)
    event_id = change.event.id
    started = dt_util.utc_from_timestamp(change.event.started_at).isoformat()
    mock_restore_cache(hass, [State(IMAGE, started, {"event_id": event_id, "rule": "tamper"})])

    await set_up(hass, config_entry, running_engine)
    assert state_of(hass, IMAGE) == started
    assert attributes(hass, IMAGE)["rule"] == "tamper"
    served = await (await hass_client()).get(f"/api/image_proxy/{IMAGE}")
    assert served.status == 200
    assert await served.read() == running_engine.engine.log.snapshot(event_id)


async def test_detection_switch_round_trip_through_the_engine(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry, running_engine)
    await hass.services.async_call("switch", "turn_off", {"entity_id": DETECTION}, blocking=True)
    await wait_until(hass, lambda: state_of(hass, DETECTION) == STATE_OFF, "detection off")
    assert not detection_enabled(running_engine)
    await wait_until(hass, lambda: state_of(hass, CAMERA) == STATE_UNAVAILABLE, "no camera")
    assert state_of(hass, CONNECTIVITY) == STATE_OFF
    assert state_of(hass, IMAGE) == STATE_UNKNOWN, "past alerts stay viewable"

    await hass.services.async_call("switch", "turn_on", {"entity_id": DETECTION}, blocking=True)
    await wait_until(hass, lambda: state_of(hass, DETECTION) == STATE_ON, "detection on")
    assert detection_enabled(running_engine)
    await wait_until(hass, lambda: state_of(hass, CAMERA) == "idle", "the camera back")


async def test_inference_time_sensor_when_enabled(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = await set_up(hass, config_entry, running_engine)
    entity_registry.async_update_entity(INFERENCE_TIME, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    hub = entry.runtime_data.hub

    def shows_engine_value() -> bool:
        camera = hub.cameras.get("plaza")
        value = None if camera is None else camera.inference_ms
        return value is not None and value > 0 and state_of(hass, INFERENCE_TIME) == str(value)

    await wait_until(hass, shows_engine_value, "the pushed inference time")
    sensor = attributes(hass, INFERENCE_TIME)
    assert sensor["unit_of_measurement"] == "ms"
    assert sensor["device_class"] == "duration"
    assert sensor["state_class"] == "measurement"
    assert sensor["friendly_name"] == "Plaza Inference time"


def _plaza_device_id(hass: HomeAssistant, running_engine: RunningEngine) -> str:
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{running_engine.engine_id}_plaza")}
    )
    assert device is not None
    return device.id


async def test_a_drill_and_a_real_alert_look_different_on_the_rule_sensor(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry, running_engine)
    engine = running_engine.engine
    drill = await engine.test_alert("plaza", "weapon", seconds=600)
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_ON, "weapon drill on")
    shown = attributes(hass, WEAPON)
    assert (shown["alert_type"], shown["icon"], shown["drill"]) == ("drill", "mdi:whistle", True)
    assert shown["event_id"] == drill.event.id

    await engine.dismiss(drill.event.id, "SRO Diaz", "drill over")
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_OFF, "weapon off")
    assert "icon" not in attributes(hass, WEAPON)
    real = await real_alert(engine, "weapon")
    await wait_until(hass, lambda: attributes(hass, WEAPON).get("event_id") == real, "real")
    shown = attributes(hass, WEAPON)
    assert (shown["alert_type"], shown["drill"]) == ("real", False)
    assert "icon" not in shown, "a real alert keeps the alarm icon of icons.json"
