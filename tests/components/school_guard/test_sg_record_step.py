"""``school_guard.record_step`` against the real engine: steps, lock confirmations, retries."""

from __future__ import annotations

import pytest
import voluptuous as vol
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    MockUser,
)

from .conftest import RunningEngine
from .helpers import wait_until
from .test_sg_services import UNKNOWN_ID, assert_error, call, open_alert, set_up


async def test_steps_reach_the_incident_log_once_each(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "weapon")
    seen: list[str] = []
    hass.bus.async_listen("school_guard_alert", lambda event: seen.append(event.data["change"]))
    hass.states.async_set("lock.front_doors", "locked")
    hass.states.async_set("lock.gym_doors", "locking")
    locked = {
        "event_id": event_id,
        "step": "doors_locked",
        "targets": ["lock.front_doors", "lock.gym_doors"],
        "by": "Weapon response",
    }
    run = Context()
    await call(hass, "record_step", locked, context=run)
    await call(hass, "record_step", locked, context=run)  # a retry of the same run's step
    await call(
        hass,
        "record_step",
        {"event_id": event_id, "step": "mode_set", "note": "lockdown", "step_id": "mode-1"},
        context=Context(user_id=hass_admin_user.id),
    )
    await call(
        hass,
        "record_step",
        {
            "event_id": event_id,
            "step": "pa_played",
            "targets": "media_player.pa_hall",
            "confirmed": {"media_player.pa_hall": True},
        },
    )
    steps = running_engine.engine.log.get(event_id).actions
    assert [(a.step, a.targets, dict(a.confirmed), a.by, a.note) for a in steps] == [
        (
            "doors_locked",
            ("lock.front_doors", "lock.gym_doors"),
            {"lock.front_doors": True, "lock.gym_doors": False},
            "Weapon response",
            "",
        ),
        ("mode_set", (), {}, "Mock User", "lockdown"),
        (
            "pa_played",
            ("media_player.pa_hall",),
            {"media_player.pa_hall": True},
            "Home Assistant",
            "",
        ),
    ]
    assert steps[1].step_id == "mode-1"
    await wait_until(hass, lambda: seen.count("action") == 3, "three steps pushed")


async def test_bad_steps_are_refused_before_the_engine(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "weapon")
    for bad in (
        {"step": "teleported"},
        {"step": "paged", "targets": ["x"] * 51},
        {"step": "paged", "targets": [""]},
        {"step": "paged", "step_id": "has space"},
        {"step": "paged", "confirmed": "yes"},
    ):
        with pytest.raises(vol.Invalid):
            await call(hass, "record_step", {"event_id": event_id, **bad})
    with pytest.raises(ServiceValidationError) as raised:
        await call(
            hass,
            "record_step",
            {"event_id": event_id, "step": "paged", "confirmed": {"notify.sro": True}},
        )
    assert_error(raised, "confirmed_not_a_target")
    with pytest.raises(ServiceValidationError) as unknown:
        await call(hass, "record_step", {"event_id": UNKNOWN_ID, "step": "paged"})
    assert_error(unknown, "unknown_event")
    assert running_engine.engine.log.get(event_id).actions == ()
