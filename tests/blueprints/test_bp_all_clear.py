"""The all-clear script: announcement and Normal mode, and it never unlocks by itself."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_LOCKED, STATE_UNLOCKED
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from tests.components.school_guard.conftest import RunningEngine
from tests.components.school_guard.helpers import state_of

from .examples import SCRIPTS
from .playbook import LOCKS, School, media_id, settle

INPUTS = SCRIPTS["all_clear.yaml"]


async def all_clear_scripts(hass: HomeAssistant, **extra: Any) -> None:
    """Two scripts from the blueprint: as shipped, and with the school's own unlock action."""
    blueprint = {"path": "school_guard/all_clear.yaml"}
    unlock = [{"action": "lock.unlock", "target": {"entity_id": LOCKS}}]
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "all_clear": {"use_blueprint": {**blueprint, "input": INPUTS}},
                "all_clear_and_unlock": {
                    "use_blueprint": {**blueprint, "input": {**INPUTS, "unlock_actions": unlock}}
                },
            }
        },
    )
    # Not async_block_till_done: a playbook run still in flight (waiting for a Confirm, or
    # for its alert's clip to re-page the SRO) is a tracked task that would never finish.
    await settle(lambda: hass.states.get("script.all_clear") is not None, "the all-clear scripts")


async def lockdown(hass: HomeAssistant, running_engine: RunningEngine) -> None:
    """A response in progress: doors locked, engine in Lockdown."""
    await hass.services.async_call("lock", "lock", {"entity_id": LOCKS}, blocking=True)
    await hass.services.async_call(
        "school_guard", "set_response_mode", {"mode": "lockdown", "drill": False}, blocking=True
    )
    assert running_engine.engine.mode["mode"] == "lockdown"
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_LOCKED, STATE_LOCKED]


async def test_all_clear_sets_normal_announces_and_keeps_doors_locked(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await all_clear_scripts(hass)
    await lockdown(hass, running_engine)

    await hass.services.async_call(
        "script", "all_clear", {"note": "released by Officer Diaz"}, blocking=True
    )
    assert running_engine.engine.mode["mode"] == "normal"
    assert running_engine.engine.mode["drill"] is False
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_LOCKED, STATE_LOCKED]
    assert media_id(hass).endswith(
        "message=All%20clear.%20The%20emergency%20is%20over%3B%20please%20follow"
        "%20your%20teachers%27%20instructions."
    )
    for target in ("mobile_app_sro_phone", "front_office", "police_dispatch"):
        assert s.paged(target) == [
            {
                "title": "ALL CLEAR",
                "message": "ALL CLEAR. released by Officer Diaz Staff release locked doors.",
            }
        ]
    assert s.log_lines()[0].startswith("ALL CLEAR. released by Officer Diaz Mode back to normal")


async def test_all_clear_after_a_drill_skips_outside_and_says_drill(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await all_clear_scripts(hass)
    await lockdown(hass, running_engine)
    await hass.services.async_call("script", "all_clear", {"drill": True}, blocking=True)
    assert running_engine.engine.mode == {
        **running_engine.engine.mode,
        "mode": "normal",
        "drill": True,
    }
    assert s.pages["police_dispatch"] == []
    assert s.paged("front_office")[0]["title"] == "DRILL: ALL CLEAR"
    assert "message=This%20was%20a%20drill.%20All%20clear." in media_id(hass)


async def test_all_clear_unlocks_only_when_the_school_added_it(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    await all_clear_scripts(hass)
    await lockdown(hass, running_engine)
    await hass.services.async_call("script", "all_clear_and_unlock", blocking=True)
    assert running_engine.engine.mode["mode"] == "normal"
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_UNLOCKED, STATE_UNLOCKED]
