"""After a Home Assistant or an engine restart the state is the engine's: nothing stuck on."""

from __future__ import annotations

from pathlib import Path

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from detectors.zoo.store import ModelStore
from tests.real_engine import serve_engine

from .conftest import SHUTDOWN_SECONDS, TOKEN, RunningEngine
from .helpers import set_up, state_of, wait_until

WEAPON = "binary_sensor.plaza_weapon"


async def test_home_assistant_restart_shows_the_alert_still_open(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    started = await entry.runtime_data.client.test_alert("plaza", "weapon", seconds=600)
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_ON, "the alert on")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, WEAPON) == STATE_UNAVAILABLE
    # The engine closes nothing while Home Assistant is away...
    assert running_engine.engine.log.get(started.event.event_id).active
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # ...so the reloaded entry shows it open, from the engine's state (not a restored one).
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_ON, "the alert on again")
    assert entry.runtime_data.hub.open_alerts[started.event.event_id].rule == "weapon"
    weapon = hass.states.get(WEAPON)
    assert weapon is not None
    assert weapon.attributes["event_id"] == started.event.event_id
    assert (weapon.attributes["confidence"], weapon.attributes["drill"]) == (1.0, True)

    await entry.runtime_data.client.dismiss(started.event.event_id, "SRO Diaz", "drill over")
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_OFF, "dismissed")
    weapon = hass.states.get(WEAPON)
    assert weapon is not None
    # Issue 17: an ended alert's sensor keeps its story (it used to go blank).
    assert weapon.attributes["event_id"] == started.event.event_id
    assert (weapon.attributes["outcome"], weapon.attributes["dismissed_by"]) == (
        "dismissed",
        "SRO Diaz",
    )


async def test_engine_restart_ends_open_alerts_and_entities_come_back_off(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    samples_dir: Path,
    model_store: ModelStore,
) -> None:
    entry = await set_up(hass, config_entry)
    started = await entry.runtime_data.client.test_alert("plaza", "weapon", seconds=600)
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_ON, "the alert on")
    data_dir = running_engine.engine.data_dir

    await running_engine.stop()
    await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_UNAVAILABLE, "engine gone")

    restarted = await serve_engine(
        data_dir,
        samples_dir,
        model_store,
        TOKEN,
        name="Lincoln High",
        shutdown_timeout=SHUTDOWN_SECONDS,
        port=running_engine.port,
    )
    engine = restarted.engine
    try:
        await wait_until(hass, lambda: state_of(hass, WEAPON) == STATE_OFF, "back, and off")
        assert engine.id == running_engine.engine_id
        record = engine.log.get(started.event.event_id)
        # Drill alerts have no detector to end them: the restart's recovery closes them.
        assert (record.state, record.end_reason) == ("ended", "engine_restart")
        assert started.event.event_id not in entry.runtime_data.hub.open_alerts
        await wait_until(
            hass,
            lambda: state_of(hass, "binary_sensor.plaza_connectivity") == STATE_ON,
            "the camera online again",
        )
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await restarted.stop()
