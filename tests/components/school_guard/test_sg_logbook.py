"""Logbook: every alert change reads as one line of an incident log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
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
from custom_components.school_guard.const import DOMAIN, EVENT_ALERT, EVENT_INCIDENT
from custom_components.school_guard.logbook import camera_title, describe_alert

from .conftest import RunningEngine
from .helpers import real_alert, state_of, wait_until


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
    device_registry: dr.DeviceRegistry,
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
    await client.notified(fight.event.event_id, ["notify.sro_phone"], "notify", "playbook")
    await client.dismiss(fight.event.event_id, "SRO Diaz", "drill")
    # A real alert whose confidence is updated twice: the updates are no lines of their own.
    real = await real_alert(running_engine.engine, "intrusion")
    for _ in range(2):
        await real_alert(running_engine.engine, "intrusion", state="updated", alert_id=real)
    await real_alert(running_engine.engine, "intrusion", state="ended", alert_id=real)
    await wait_until(hass, lambda: len(alerts) >= 10, "ten alert changes")
    assert alerts.count("updated") == 2 and alerts.count("notified") == 1
    await async_wait_recording_done(hass)

    event_types = async_determine_event_types(hass, None, None)
    assert EVENT_INCIDENT in event_types
    camera = device_registry.async_get_device(
        identifiers={(DOMAIN, f"{running_engine.engine_id}_plaza")}
    )
    assert camera is not None
    # What the camera's device page shows: its entities' lines and the device's events.
    processor = EventProcessor(hass, event_types, device_ids=[camera.id])
    rows = await get_instance(hass).async_add_executor_job(
        processor.get_events, start, dt_util.utcnow() + timedelta(seconds=1)
    )
    lines = sorted(
        (row["name"], row["message"], row.get("entity_id"))
        for row in rows
        if row.get("domain") == DOMAIN
    )
    at = "at Building B, outside"
    assert lines == sorted(
        [
            (
                "Plaza",
                f"Weapon alert started {at}, confidence 1.00 — DRILL",
                "binary_sensor.plaza_weapon",
            ),
            ("Plaza", f"Weapon alert ended {at} — DRILL", "binary_sensor.plaza_weapon"),
            (
                "Plaza",
                f"Fight alert started {at}, confidence 1.00 — DRILL",
                "binary_sensor.plaza_fight",
            ),
            ("Plaza", f"Fight alert acknowledged {at} — DRILL", "binary_sensor.plaza_fight"),
            (
                "Plaza",
                f"Fight alert dismissed as a false alarm {at} — DRILL",
                "binary_sensor.plaza_fight",
            ),
            (
                "Plaza",
                f"Unauthorized access alert started {at}, confidence 0.80",
                "binary_sensor.plaza_unauthorized_access",
            ),
            (
                "Plaza",
                f"Unauthorized access alert ended {at}",
                "binary_sensor.plaza_unauthorized_access",
            ),
        ]
    )
    assert weapon.event.drill is True
    no_event_noise = [row for row in rows if row.get("entity_id") == "event.plaza_alert"]
    assert no_event_noise == [], "the event entity adds no 'detected an event' lines"


def test_describe_alert_without_drill_location_or_known_rule() -> None:
    assert (
        describe_alert(
            {
                "rule": "person_down",
                "change": "started",
                "camera_name": "Gym",
                "location": "",
                "confidence": 0.914,
                "drill": False,
            }
        )
        == "Person down alert started, confidence 0.91"
    )
    assert (
        describe_alert(
            {"rule": "smoke_seen", "change": "ended", "camera_id": "roof", "drill": False}
        )
        == "Smoke seen alert ended"
    )
    assert describe_alert({}) == "Unknown alert changed"
    assert camera_title({"camera_id": "roof"}) == "roof"
    assert camera_title({}) == "Unknown camera"
