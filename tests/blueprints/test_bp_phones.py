"""Every playbook pages phones picked as devices, plus the advanced notify actions.

Each playbook gets companion-app phones (``mobile_app`` devices, as the device picker
offers them) for every group of recipients and one advanced action per group where the
playbook has one. A drill from the engine must reach the phones and actions inside the
school and never the outside ones; a real alert (fired on the bus with the integration's
payload, as in test_bp_weapon.py) reaches the outside phone and action too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    async_fire_time_changed,
)

from tests.components.school_guard.conftest import RunningEngine
from tests.components.school_guard.helpers import state_of

from .examples import AUTOMATIONS
from .playbook import (
    CONNECTIVITY,
    School,
    add_automation,
    add_phone,
    media_id,
    settle,
    waiting_for_buttons,
)
from .test_bp_alerts import WHERE, drill

ALERT_PLAYBOOKS = {
    "fight_response.yaml": ("fight", "FIGHT", "Respond"),
    "person_down_response.yaml": ("person_down", "PERSON DOWN", "Responding"),
    "intrusion_response.yaml": ("intrusion", "INTRUSION", "Confirm"),
}
INSIDE = {"notify.mobile_app_sro_phone", "notify.mobile_app_principal", "notify.front_office"}
OUTSIDE = {"notify.mobile_app_police_liaison", "notify.police_dispatch"}


def real_alert(running_engine: RunningEngine, rule: str, event_id: str) -> dict[str, Any]:
    """What the integration fires for a real (non-drill) alert on plaza."""
    return {
        "engine_id": running_engine.engine_id,
        "camera_id": "plaza",
        "camera_name": "Plaza",
        "location": WHERE,
        "rule": rule,
        "confidence": 0.9,
        "event_id": event_id,
        "change": "started",
        "state": "started",
        "drill": False,
    }


def lines_with(s: School, text: str) -> list[str]:
    return [line for line in s.log_lines() if text in line]


@pytest.mark.parametrize("path", list(ALERT_PLAYBOOKS))
async def test_alert_playbooks_page_phones_and_drills_stay_inside(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School, path: str
) -> None:
    s = lincoln
    rule, title, button = ALERT_PLAYBOOKS[path]
    await add_automation(
        hass,
        path,
        {
            "camera_ids": ["plaza"],
            "responder_phones": [add_phone(hass, "SRO phone", "Officer Diaz")],
            "staff_phones": [add_phone(hass, "Principal")],
            "outside_phones": [add_phone(hass, "Police liaison")],
            "staff_targets": ["notify.front_office"],
            "outside_targets": ["notify.police_dispatch"],
            "cooldown_seconds": 0,
        },
    )

    event_id = await drill(s, rule)
    await settle(lambda: s.who_was_paged() == INSIDE, "the phones and the action inside")
    sro = s.paged("mobile_app_sro_phone")[0]
    assert sro["title"] == f"DRILL: {title}: {WHERE}"
    assert sro["data"]["actions"][0] == {"action": f"SG_CONFIRM_{event_id}", "title": button}
    staff = s.paged("mobile_app_principal")[0]
    assert staff["title"] == f"DRILL: {title}: {WHERE}"
    assert "actions" not in staff["data"], "only responders get the buttons"
    # The logbook names phones as people named them, actions in words.
    assert lines_with(s, "paging")[0].endswith("paging Officer Diaz, front office, Principal")

    await waiting_for_buttons(hass)
    hass.bus.async_fire("mobile_app_notification_action", {"action": f"SG_CONFIRM_{event_id}"})
    await settle(lambda: running_engine.engine.log.get(event_id).acknowledged, "the ack")
    await settle(lambda: lines_with(s, "outside recipients paged: none") != [], "the response")
    assert not s.who_was_paged() & OUTSIDE, "a drill never reaches outside recipients"

    # A real alert: on Confirm the outside phone and the outside action are paged too.
    hass.bus.async_fire("school_guard_alert", real_alert(running_engine, rule, f"real-{rule}"))
    await waiting_for_buttons(hass, listeners=3)  # the drill still watches for a dismissal
    hass.bus.async_fire("mobile_app_notification_action", {"action": f"SG_CONFIRM_real-{rule}"})
    await settle(lambda: s.who_was_paged() >= OUTSIDE, "the outside phone and action")
    liaison = s.paged("mobile_app_police_liaison")
    assert [page["title"] for page in liaison] == [f"{title}: {WHERE}"]
    assert lines_with(s, "outside recipients paged: police dispatch, Police liaison")


async def test_camera_health_pages_phones_and_a_tamper_drill_stays_inside(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(
        hass,
        "camera_health.yaml",
        {
            "camera_ids": ["plaza"],
            "facilities_phones": [add_phone(hass, "Facilities lead")],
            "outside_phones": [add_phone(hass, "Police liaison")],
            "facilities_targets": ["notify.facilities"],
            "offline_minutes": 2,
            "cooldown_seconds": 0,
        },
    )
    await drill(s, "tamper")
    await settle(
        lambda: s.who_was_paged() == {"notify.mobile_app_facilities_lead", "notify.facilities"},
        "facilities' phone and action",
    )
    assert s.paged("mobile_app_facilities_lead")[0]["title"] == "DRILL: CAMERA TAMPERED: Plaza"
    assert lines_with(s, "paging facilities, Facilities lead"), s.log_lines()

    # Offline is no drill: the outside phone hears of it too.
    await running_engine.engine.update_camera("plaza", {"enabled": False})
    await settle(lambda: state_of(hass, CONNECTIVITY) == STATE_OFF, "plaza offline")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=3))
    await settle(lambda: len(s.pages["mobile_app_police_liaison"]) == 1, "the outside phone")
    assert s.paged("mobile_app_police_liaison")[0]["title"] == "CAMERA OFFLINE: Plaza"
    assert s.paged("mobile_app_facilities_lead")[-1]["title"] == "CAMERA OFFLINE: Plaza"


async def test_all_clear_tells_phones_and_skips_outside_after_a_drill(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    inputs = {
        "notify_phones": [add_phone(hass, "SRO phone", "Officer Diaz")],
        "outside_phones": [add_phone(hass, "Police liaison")],
        "notify_targets": ["notify.front_office"],
    }
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "all_clear": {
                    "use_blueprint": {"path": "school_guard/all_clear.yaml", "input": inputs}
                }
            }
        },
    )
    await hass.services.async_call("script", "all_clear", {"drill": True}, blocking=True)
    assert s.who_was_paged() == {"notify.mobile_app_sro_phone", "notify.front_office"}
    assert s.paged("mobile_app_sro_phone")[0]["title"] == "DRILL: ALL CLEAR"
    assert s.log_lines()[0].endswith("telling front office, Officer Diaz"), s.log_lines()

    await hass.services.async_call("script", "all_clear", {}, blocking=True)
    assert s.paged("mobile_app_police_liaison") == [
        {"title": "ALL CLEAR", "message": "ALL CLEAR. Staff release locked doors."}
    ]


async def test_a_voice_saved_as_an_entity_id_still_speaks(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    """Automations saved before the voice became a target picker keep their voice."""
    s = lincoln
    await add_automation(
        hass,
        "fight_response.yaml",
        {
            **AUTOMATIONS["fight_response.yaml"],
            "tts_entity": "tts.pa_voice",
            "act_without_confirmation": True,
        },
    )
    await drill(s, "fight")
    await settle(lambda: "Hold.%20Please" in media_id(hass), "the hold announcement")
    assert media_id(hass).startswith("media-source://tts/tts.pa_voice?message=This%20is")
