"""The integration's actions against the real engine, and every validation error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast
from unittest.mock import patch

import pytest
import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    MockUser,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from custom_components.school_guard.client import SchoolGuardApiError
from custom_components.school_guard.const import DOMAIN

from .conftest import RunningEngine
from .helpers import state_of, wait_until

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> SchoolGuardConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(hass, lambda: entry.runtime_data.hub.mode is not None, "the pushed mode")
    return cast(SchoolGuardConfigEntry, entry)


def device_id(hass: HomeAssistant, identifier: str) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})
    assert device is not None
    return device.id


async def open_alert(hass: HomeAssistant, entry: SchoolGuardConfigEntry, rule: str) -> str:
    started = await entry.runtime_data.client.test_alert("plaza", rule, seconds=600)
    event_id = started.event.event_id
    await wait_until(hass, lambda: event_id in entry.runtime_data.hub.open_alerts, "the open alert")
    return event_id


async def call(
    hass: HomeAssistant, service: str, data: Mapping[str, object], context: Context | None = None
) -> None:
    await hass.services.async_call(DOMAIN, service, dict(data), blocking=True, context=context)


def assert_error(raised: pytest.ExceptionInfo[HomeAssistantError], key: str) -> None:
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == key


async def test_actions_exist_before_any_engine_is_loaded(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    services = hass.services.async_services_for_domain(DOMAIN)
    assert set(services) == {
        "acknowledge_alert",
        "dismiss_alert",
        "record_notification",
        "record_step",
        "set_response_mode",
        "test_alert",
        "write_report",
    }
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "set_response_mode", {"mode": "hold"})
    assert_error(raised, "engine_not_loaded")


async def test_acknowledge_records_the_calling_user(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "fight")
    await call(
        hass,
        "acknowledge_alert",
        {"event_id": event_id, "note": "SRO on the way"},
        context=Context(user_id=hass_admin_user.id),
    )
    record = running_engine.engine.log.get(event_id)
    assert (record.acknowledged_by, record.acknowledged_note) == ("Mock User", "SRO on the way")
    await wait_until(
        hass, lambda: entry.runtime_data.hub.open_alerts[event_id].acknowledged, "the push"
    )


async def test_who_acknowledged_is_the_user_or_the_person_a_playbook_names(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """A playbook answering a phone names the person; a signed-in user cannot sign for another."""
    entry = await set_up(hass, config_entry)
    first = await open_alert(hass, entry, "fight")
    await call(hass, "acknowledge_alert", {"event_id": first, "by": "Officer Diaz"})
    assert running_engine.engine.log.get(first).acknowledged_by == "Officer Diaz"
    second = await open_alert(hass, entry, "crowd")
    await call(
        hass,
        "dismiss_alert",
        {"event_id": second, "by": "Officer Diaz"},
        context=Context(user_id=hass_admin_user.id),
    )
    assert running_engine.engine.log.get(second).dismissed_by == "Mock User"


async def test_acknowledge_and_dismiss_of_a_closed_alert_ask_the_engine(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    started = await entry.runtime_data.client.test_alert("plaza", "crowd", seconds=1)
    event_id = started.event.event_id
    await wait_until(
        hass,
        lambda: running_engine.engine.log.get(event_id).state == "ended",
        "the test alert to end",
    )
    await wait_until(
        hass, lambda: event_id not in entry.runtime_data.hub.open_alerts, "the end pushed"
    )
    await call(hass, "acknowledge_alert", {"event_id": event_id})
    record = running_engine.engine.log.get(event_id)
    assert (record.acknowledged_by, record.acknowledged_note) == ("Home Assistant", "")

    await call(hass, "dismiss_alert", {"event_id": event_id, "reason": "balloon"})
    record = running_engine.engine.log.get(event_id)
    assert (record.dismissed_by, record.dismissed_reason) == ("Home Assistant", "balloon")

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "dismiss_alert", {"event_id": event_id})
    assert_error(raised, "engine_rejected")
    assert raised.value.translation_placeholders is not None
    assert raised.value.translation_placeholders["code"] == "conflict"


async def test_dismiss_closes_an_open_alert(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "person_down")
    assert state_of(hass, "binary_sensor.plaza_person_down") == STATE_ON
    await call(
        hass,
        "dismiss_alert",
        {"event_id": event_id, "reason": "student tying shoes"},
        context=Context(user_id=hass_admin_user.id),
    )
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor.plaza_person_down") == "off",
        "the dismissal pushed",
    )
    record = running_engine.engine.log.get(event_id)
    assert (record.dismissed_by, record.dismissed_reason) == ("Mock User", "student tying shoes")


async def test_record_notification_keeps_who_was_told(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "fight")
    seen: list[str] = []
    hass.bus.async_listen("school_guard_alert", lambda event: seen.append(event.data["change"]))
    await call(
        hass,
        "record_notification",
        {"event_id": event_id, "recipients": "notify.sro_phone", "by": "Fight response"},
    )
    await call(
        hass,
        "record_notification",
        {"event_id": event_id, "recipients": [" notify.nurse ", "PA"], "channel": "pa"},
        context=Context(user_id=hass_admin_user.id),
    )
    told = running_engine.engine.log.get(event_id).notified
    assert [(n.recipients, n.channel, n.by) for n in told] == [
        (("notify.sro_phone",), "notify", "Fight response"),
        (("notify.nurse", "PA"), "pa", "Mock User"),
    ]
    await wait_until(hass, lambda: seen.count("notified") == 2, "both changes pushed")
    for bad in ({"recipients": []}, {"recipients": [""]}, {"recipients": ["x"] * 51}):
        with pytest.raises(vol.Invalid):
            await call(hass, "record_notification", {"event_id": event_id, **bad})


async def test_unknown_and_malformed_event_ids(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    for service, extra in (
        ("acknowledge_alert", {}),
        ("dismiss_alert", {}),
        ("record_notification", {"recipients": ["notify.sro"]}),
    ):
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, service, {"event_id": UNKNOWN_ID, **extra})
        assert_error(raised, "unknown_event")
        assert raised.value.translation_placeholders == {"event_id": UNKNOWN_ID}
        with pytest.raises(vol.Invalid):
            await call(hass, service, {"event_id": "../cameras"})
        with pytest.raises(vol.Invalid):
            await call(hass, service, {})


async def test_event_lookup_on_an_unreachable_engine_says_so(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    await running_engine.runner.cleanup()
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "acknowledge_alert", {"event_id": UNKNOWN_ID})
    assert_error(raised, "cannot_connect")


async def test_event_lookup_answered_with_an_error_is_not_unknown(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    await running_engine.restart_api(token="a-different-token")
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "dismiss_alert", {"event_id": UNKNOWN_ID})
    assert_error(raised, "invalid_auth")
    assert raised.value.translation_placeholders == {"host": entry.runtime_data.client.host}


async def test_event_lookup_failing_inside_the_engine_is_not_unknown(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    client = entry.runtime_data.client
    broken = SchoolGuardApiError(500, "internal", "internal error; see the engine log")
    with (
        patch.object(client, "event", side_effect=broken),
        pytest.raises(HomeAssistantError) as raised,
    ):
        await call(hass, "acknowledge_alert", {"event_id": UNKNOWN_ID})
    assert_error(raised, "engine_rejected")
    assert raised.value.translation_placeholders == {
        "code": "internal",
        "error": "internal error; see the engine log",
    }


async def test_ack_refused_by_the_engine_is_translated(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "loitering")
    await running_engine.restart_api(token="a-different-token")
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "acknowledge_alert", {"event_id": event_id})
    assert_error(raised, "invalid_auth")
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "dismiss_alert", {"event_id": event_id})
    assert_error(raised, "invalid_auth")


async def test_set_response_mode(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    await call(hass, "set_response_mode", {"mode": "lockdown", "drill": True})
    assert (running_engine.engine.mode["mode"], running_engine.engine.mode["drill"]) == (
        "lockdown",
        True,
    )
    await wait_until(
        hass,
        lambda: state_of(hass, "select.lincoln_high_response_mode") == "lockdown_drill",
        "the pushed mode, shown as a drill",
    )
    await call(
        hass, "set_response_mode", {"mode": "evacuate", "config_entry_id": config_entry.entry_id}
    )
    assert (running_engine.engine.mode["mode"], running_engine.engine.mode["drill"]) == (
        "evacuate",
        False,
    )
    with pytest.raises(vol.Invalid):
        await call(hass, "set_response_mode", {"mode": "panic"})


async def test_set_response_mode_needs_the_engine_when_several_are_loaded(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    # A second engine cannot run in this test; a loaded entry sharing the first one's
    # runtime data stands in for it (only the count of loaded engines matters here).
    other = MockConfigEntry(domain=DOMAIN, title="Other", state=ConfigEntryState.LOADED)
    other.add_to_hass(hass)
    other.runtime_data = entry.runtime_data
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "set_response_mode", {"mode": "hold"})
    assert_error(raised, "engine_required")
    await call(hass, "set_response_mode", {"mode": "hold", "config_entry_id": entry.entry_id})
    assert running_engine.engine.mode["mode"] == "hold"


async def test_set_response_mode_on_an_engine_that_is_not_loaded(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    foreign = MockConfigEntry(domain="other_domain", state=ConfigEntryState.LOADED)
    foreign.add_to_hass(hass)
    for entry_id in ("no-such-entry", foreign.entry_id):
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, "set_response_mode", {"mode": "hold", "config_entry_id": entry_id})
        assert_error(raised, "engine_not_loaded")
        assert raised.value.translation_placeholders == {"engine": entry_id}
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    for data in ({"mode": "hold"}, {"mode": "hold", "config_entry_id": config_entry.entry_id}):
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, "set_response_mode", data)
        assert_error(raised, "engine_not_loaded")
    assert running_engine.engine.mode["mode"] == "normal"


async def test_set_response_mode_with_the_engine_down(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    await running_engine.runner.cleanup()
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "set_response_mode", {"mode": "secure"})
    assert_error(raised, "cannot_connect")


async def test_test_alert_on_a_camera_device(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    camera = device_id(hass, f"{running_engine.engine_id}_plaza")
    response = await hass.services.async_call(
        DOMAIN,
        "test_alert",
        {"device_id": camera, "rule": "intrusion"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    event_id = str(response["event_id"])
    record = running_engine.engine.log.get(event_id)
    assert (record.camera_id, record.rule, record.drill) == ("plaza", "intrusion", True)
    await wait_until(
        hass, lambda: event_id in entry.runtime_data.hub.open_alerts, "the alert pushed"
    )
    assert state_of(hass, "binary_sensor.plaza_unauthorized_access") == STATE_ON
    await call(hass, "dismiss_alert", {"event_id": event_id})


async def test_test_alert_validation(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    await set_up(hass, config_entry)
    engine_device = device_id(hass, running_engine.engine_id)
    foreign = MockConfigEntry(domain="other_domain")
    foreign.add_to_hass(hass)
    foreign_device = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=foreign.entry_id, identifiers={("other", "x")})
        .id
    )
    for device in (engine_device, "no-such-device", foreign_device):
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, "test_alert", {"device_id": device, "rule": "weapon"})
        assert_error(raised, "not_a_camera")
        assert raised.value.translation_placeholders == {"device_id": device}
    camera = device_id(hass, f"{running_engine.engine_id}_plaza")
    with pytest.raises(vol.Invalid):
        await call(hass, "test_alert", {"device_id": camera, "rule": "arson"})
    with pytest.raises(vol.Invalid):
        await call(hass, "test_alert", {"device_id": camera, "rule": "weapon", "seconds": 0})

    await running_engine.runner.cleanup()
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "test_alert", {"device_id": camera, "rule": "weapon"})
    assert_error(failed, "cannot_connect")

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "test_alert", {"device_id": camera, "rule": "weapon"})
    assert_error(raised, "engine_not_loaded")
    assert raised.value.translation_placeholders == {"engine": "Lincoln High"}
