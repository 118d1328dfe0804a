"""The playbooks put each response step on the incident's timeline (``record_step``)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from tests.components.school_guard.conftest import RunningEngine

from .examples import AUTOMATIONS
from .playbook import LOCKS, School, add_automation, press, settle
from .test_bp_all_clear import all_clear_scripts
from .test_bp_weapon import drill

INPUTS = AUTOMATIONS["weapon_response.yaml"]


async def test_a_confirmed_weapon_drill_and_its_all_clear_are_one_timeline(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(hass, "weapon_response.yaml", INPUTS)
    event_id = await drill(s, "weapon")
    log = running_engine.engine.log

    def steps() -> list[str]:
        return [a.step for a in log.get(event_id).actions]

    await settle(lambda: steps().count("paged") == 2, "both pages on the timeline")
    await press(hass, "SG_CONFIRM", event_id)
    await settle(
        lambda: {"doors_locked", "pa_played", "mode_set"} <= set(steps()), "the response steps"
    )
    await all_clear_scripts(hass)
    await hass.services.async_call(
        "script", "all_clear", {"drill": True, "event_id": event_id}, blocking=True
    )
    actions = log.get(event_id).actions
    by_step = {a.step: a for a in actions}
    assert by_step["doors_locked"].targets == tuple(LOCKS)
    assert dict(by_step["doors_locked"].confirmed) == dict.fromkeys(LOCKS, True)
    assert by_step["pa_played"].targets == ("media_player.pa_hall",)
    assert [a.note for a in actions if a.step == "mode_set"] == ["lockdown", "normal"]
    assert sorted((a.targets, a.note) for a in actions if a.step == "paged") == [
        (("notify.front_office",), "all clear"),
        (("notify.front_office",), "page"),
        (("notify.mobile_app_sro_phone",), "all clear"),
        (("notify.mobile_app_sro_phone",), "page"),
    ]
    assert steps()[-1] == "all_clear"
    assert {a.by for a in actions if a.step != "all_clear"} >= {"Playbook"}
    # Every step is on the engine's clock, in the order it was recorded, after the alert.
    times = [a.at for a in actions]
    assert times == sorted(times)
    assert times[0] >= log.get(event_id).started_at
    # The dismissal of this drill later would not be mixed with it: each step is once.
    assert len({a.step_id for a in actions}) == len(actions)
