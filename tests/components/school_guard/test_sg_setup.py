"""Setting up a config entry: devices, entities, and every failure path."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.const import DOMAIN

from .conftest import TOKEN, RunningEngine
from .helpers import state_of, wait_until

CAMERA_BINARY_SENSORS = {
    "binary_sensor.plaza_weapon": "weapon",
    "binary_sensor.plaza_fight": "fight",
    "binary_sensor.plaza_person_down": "person_down",
    "binary_sensor.plaza_unauthorized_access": "intrusion",
    "binary_sensor.plaza_loitering": "loitering",
    "binary_sensor.plaza_crowd": "crowd",
    "binary_sensor.plaza_tamper": "tamper",
    "binary_sensor.plaza_motion": "motion",
    "binary_sensor.plaza_connectivity": "connectivity",
}


def entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    """Read the state afresh (an awaited unload changes it behind mypy's narrowing)."""
    state: ConfigEntryState = entry.state
    return state


async def test_setup_creates_engine_and_camera_devices_and_entities(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    engine_id = running_engine.engine_id

    engine_device = device_registry.async_get_device(identifiers={(DOMAIN, engine_id)})
    assert engine_device is not None
    assert engine_device.name == "Lincoln High"
    assert engine_device.model == "Engine"
    camera_device = device_registry.async_get_device(identifiers={(DOMAIN, f"{engine_id}_plaza")})
    assert camera_device is not None
    assert camera_device.name == "Plaza"
    assert camera_device.via_device_id == engine_device.id

    entries = er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
    camera_entities = {
        **CAMERA_BINARY_SENSORS,
        "sensor.plaza_person_count": "person_count",
        "sensor.plaza_inference_time": "inference_time",
        "event.plaza_alert": "alert",
        "camera.plaza": None,
        "image.plaza_latest_alert": "latest_alert",
        "switch.plaza_detection": "detection",
    }
    engine_entities = {
        "binary_sensor.lincoln_high_connectivity": "engine_connectivity",
        "select.lincoln_high_response_mode": "response_mode",
        "switch.lincoln_high_drill_mode": "drill_mode",
        "sensor.lincoln_high_inference_device": "inference_device",
        "sensor.lincoln_high_false_alarm_share_30_days": "false_alarm_share",
        "sensor.lincoln_high_median_time_to_confirm_30_days": "median_time_to_confirm",
    }
    assert {e.entity_id: e.translation_key for e in entries} == {
        **camera_entities,
        **engine_entities,
    }
    assert {e.unique_id for e in entries if e.entity_id == "binary_sensor.plaza_weapon"} == {
        f"{engine_id}_plaza_weapon"
    }
    assert all(e.device_id == camera_device.id for e in entries if e.entity_id in camera_entities)
    assert all(e.device_id == engine_device.id for e in entries if e.entity_id in engine_entities)

    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor.plaza_connectivity") == "on",
        "the camera to come online",
    )
    assert state_of(hass, "binary_sensor.plaza_weapon") == STATE_OFF
    weapon = hass.states.get("binary_sensor.plaza_weapon")
    assert weapon is not None
    assert weapon.attributes["device_class"] == "safety"
    assert weapon.attributes["friendly_name"] == "Plaza Weapon"
    # Loitering is no "occupied" room: no device class, so no "became occupied" trigger.
    loitering = hass.states.get("binary_sensor.plaza_loitering")
    assert loitering is not None
    assert "device_class" not in loitering.attributes
    translations = await async_get_translations(hass, "en", "entity", integrations=[DOMAIN])
    prefix = f"component.{DOMAIN}.entity.binary_sensor"
    for rule in ("loitering", "crowd"):
        assert translations[f"{prefix}.{rule}.state.on"] == "Detected"
        assert translations[f"{prefix}.{rule}.state.off"] == "Clear"

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert entry_state(config_entry) is ConfigEntryState.NOT_LOADED
    assert state_of(hass, "binary_sensor.plaza_weapon") == "unavailable"


async def test_setup_retries_when_engine_unreachable(hass: HomeAssistant, closed_port: int) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="abc",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: closed_port, CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entry.reason.startswith("Cannot reach the school_guard engine at 127.0.0.1: ")


async def test_setup_with_refused_token_starts_reauth(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_TOKEN: "revoked"}
    )
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [(f["context"]["source"], f["step_id"]) for f in flows] == [
        (SOURCE_REAUTH, "reauth_confirm")
    ]


async def test_setup_refuses_a_different_engine_at_the_address(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="the-engine-we-added",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port, CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason == (
        f"A different school_guard engine ({running_engine.engine_id}) answers at 127.0.0.1"
    )
