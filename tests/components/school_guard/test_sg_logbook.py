"""Logbook: every alert change reads as one line of an incident log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.components.recorder.common import (  # type: ignore[import-untyped]
    async_wait_recording_done,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from custom_components.school_guard.const import DOMAIN, EVENT_ALERT
from custom_components.school_guard.logbook import describe_alert

from .conftest import RunningEngine
from .helpers import state_of, wait_until


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Any, enable_custom_integrations: None) -> None:
    """The logbook reads the recorder's database, which must exist before ``hass``."""


async def set_up_logbook(hass: HomeAssistant, port: int) -> None:
    """The real logbook (HTTP on loopback only; the frontend package is not installed)."""
    assert await async_setup_component(
        hass, "http", {"http": {"server_host": ["127.0.0.1"], "server_port": port}}
    )
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})


async def test_alert_changes_in_the_logbook(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    closed_port: int,
) -> None:
    await set_up_logbook(hass, closed_port)
    start = dt_util.utcnow()
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(
        hass, lambda: state_of(hass, "binary_sensor.plaza_connectivity") == "on", "plaza online"
    )
    entry: SchoolGuardConfigEntry = config_entry
    client = entry.runtime_data.client
    alerts: list[str] = []
    hass.bus.async_listen(EVENT_ALERT, lambda event: alerts.append(event.data["change"]))

    weapon = await client.test_alert("plaza", "weapon", seconds=1)
    fight = await client.test_alert("plaza", "fight", seconds=600)
    await client.acknowledge(fight.event.event_id, "SRO Diaz", "on my way")
    await client.dismiss(fight.event.event_id, "SRO Diaz", "drill")
    await wait_until(hass, lambda: len(alerts) >= 5, "five alert changes")
    await async_wait_recording_done(hass)

    event_types = async_determine_event_types(hass, None, None)
    assert EVENT_ALERT in event_types
    processor = EventProcessor(hass, event_types)
    rows = await get_instance(hass).async_add_executor_job(
        processor.get_events, start, dt_util.utcnow() + timedelta(seconds=1)
    )
    lines = sorted(
        (row["message"], row["name"], row.get("entity_id"))
        for row in rows
        if row.get("domain") == DOMAIN
    )
    place = "Plaza (Building B, outside)"
    assert lines == sorted(
        [
            (
                f"Weapon alert started on {place}, confidence 1.00 — DRILL",
                "Lincoln High",
                "binary_sensor.plaza_weapon",
            ),
            (
                f"Weapon alert ended on {place} — DRILL",
                "Lincoln High",
                "binary_sensor.plaza_weapon",
            ),
            (
                f"Fight alert started on {place}, confidence 1.00 — DRILL",
                "Lincoln High",
                "binary_sensor.plaza_fight",
            ),
            (
                f"Fight alert acknowledged on {place} — DRILL",
                "Lincoln High",
                "binary_sensor.plaza_fight",
            ),
            (
                f"Fight alert dismissed as a false alarm on {place} — DRILL",
                "Lincoln High",
                "binary_sensor.plaza_fight",
            ),
        ]
    )
    assert weapon.event.drill is True


def test_describe_alert_without_drill_location_or_known_rule() -> None:
    assert (
        describe_alert(
            {
                "rule": "person_down",
                "change": "updated",
                "camera_name": "Gym",
                "location": "",
                "confidence": 0.914,
                "drill": False,
            }
        )
        == "Person down alert updated on Gym, confidence 0.91"
    )
    assert (
        describe_alert(
            {"rule": "smoke_seen", "change": "ended", "camera_id": "roof", "drill": False}
        )
        == "Smoke seen alert ended on roof"
    )
    assert describe_alert({}) == "Unknown alert changed on an unknown camera"
