"""Fight, person down, intrusion and camera health playbooks as real automations.

Every alert here comes from the real engine (``test_alert`` makes drills; switching the
camera's detection off makes it really go offline).
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
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
    media_id,
    plaza_entity,
    press,
    settle,
    snapshot_of,
    waiting_for_buttons,
)

WHERE = "Building B, outside"
EMPTY = State("image.none", "unknown")


async def drill(s: School, rule: str) -> str:
    """A drill alert from the engine; returns its event id."""
    change = await s.entry.runtime_data.client.test_alert("plaza", rule, seconds=600)
    assert change.event.drill is True
    return change.event.event_id


async def test_fight_drill_pages_sro_sets_hold_and_a_dismissal_reaches_everyone(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(hass, "fight_response.yaml", AUTOMATIONS["fight_response.yaml"])
    event_id = await drill(s, "fight")
    await settle(lambda: len(s.pages["front_office"]) == 1, "the staff page")
    sro = s.paged("mobile_app_sro_phone")[0]
    assert sro["title"] == f"DRILL: FIGHT: {WHERE}"
    assert sro["message"] == (
        f"DRILL: Possible fight seen by camera Plaza at {WHERE} (confidence 100 %). "
        "Respond to take it, or dismiss a false alarm."
    )
    assert sro["data"]["image"] == snapshot_of(hass)
    assert [a["title"] for a in sro["data"]["actions"]] == ["Respond", "Dismiss"]
    staff = s.paged("front_office")[0]
    assert staff["message"].endswith("Responders have been paged.")
    assert staff["data"]["image"] == snapshot_of(hass)
    # Nobody has answered yet when the clip and strip are written: the page comes again
    # (same tag, it replaces the first) with the strip as its image and the clip to open.
    await settle(lambda: len(s.pages["mobile_app_sro_phone"]) == 2, "the page with the strip")
    again = s.paged("mobile_app_sro_phone")[1]
    base = f"/api/school_guard/{running_engine.engine_id}/events/{event_id}"
    assert (again["data"]["image"], again["data"]["url"]) == (
        f"{base}/strip.jpg",
        f"{base}/clip.mp4",
    )
    assert (again["title"], again["data"]["tag"]) == (sro["title"], sro["data"]["tag"])

    await press(hass, "SG_CONFIRM", event_id)
    await settle(lambda: running_engine.engine.mode["mode"] == "hold", "hold mode")
    assert running_engine.engine.mode["drill"] is True
    await settle(lambda: "Hold.%20Please" in media_id(hass), "the hold announcement")
    assert "message=This%20is%20a%20drill.%20Hold." in media_id(hass)

    await waiting_for_buttons(hass, listeners=1)
    await s.entry.runtime_data.client.dismiss(event_id, "Principal Ruiz", "students playing")
    await settle(lambda: len(s.pages["front_office"]) == 2, "the dismissal notice")
    for target in ("mobile_app_sro_phone", "front_office"):
        notice = s.paged(target)[-1]
        assert notice["title"] == f"DRILL: FALSE ALARM: {WHERE}"
        assert notice["message"] == (
            f"DRILL: The fight alert at {WHERE} was dismissed as a false alarm."
        )
    assert s.pages["police_dispatch"] == []


async def test_person_down_pages_sro_and_nurse_and_phone_dismiss_tells_everyone(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(
        hass, "person_down_response.yaml", AUTOMATIONS["person_down_response.yaml"]
    )
    event_id = await drill(s, "person_down")
    await settle(lambda: len(s.pages["mobile_app_nurse"]) == 1, "the nurse page")
    await settle(lambda: len(s.pages["front_office"]) == 1, "the staff page")
    for target in ("mobile_app_sro_phone", "mobile_app_nurse"):
        page = s.paged(target)[0]
        assert page["title"] == f"DRILL: PERSON DOWN: {WHERE}"
        assert page["message"].startswith(
            f"DRILL: Possible person down (medical) seen by camera Plaza at {WHERE}"
        )
        assert page["data"]["image"] == snapshot_of(hass)
        assert page["data"]["actions"][0] == {
            "action": f"SG_CONFIRM_{event_id}",
            "title": "Responding",
        }

    await press(hass, "SG_DISMISS", event_id)
    await settle(lambda: running_engine.engine.log.get(event_id).dismissed, "the dismissal")
    await settle(lambda: len(s.pages["front_office"]) == 2, "everyone told")
    # The clip and strip come after the dismissal: a dismissed alert is not paged again.
    await settle(
        lambda: (hass.states.get("image.plaza_latest_alert") or EMPTY).attributes.get("strip"),
        "the strip written and pushed",
    )
    told = {target for target, calls in s.pages.items() if len(calls) == 2}
    assert told == {"mobile_app_sro_phone", "mobile_app_nurse", "front_office"}
    assert s.pages["police_dispatch"] == []
    assert (
        f"DRILL: the alert at {WHERE} was dismissed as a false alarm; telling" in s.log_lines()[-1]
    )
    assert not any(event_id in line for line in s.log_lines()), "no 32-hex ids in the logbook"


async def test_intrusion_drill_lights_at_once_siren_on_confirm_no_outside_page(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "lights_on": {
                    "sequence": [
                        {
                            "action": "input_boolean.turn_on",
                            "target": {"entity_id": "input_boolean.hall_lights"},
                        }
                    ]
                },
                "siren": {
                    "sequence": [
                        {
                            "action": "input_boolean.turn_on",
                            "target": {"entity_id": "input_boolean.siren"},
                        }
                    ]
                },
            }
        },
    )
    await hass.async_block_till_done()
    await add_automation(hass, "intrusion_response.yaml", AUTOMATIONS["intrusion_response.yaml"])
    event_id = await drill(s, "intrusion")
    await settle(lambda: state_of(hass, "input_boolean.hall_lights") == STATE_ON, "lights on")
    page = s.paged("mobile_app_sro_phone")[0]
    assert page["title"] == f"DRILL: INTRUSION: {WHERE}"
    assert page["data"]["image"] == snapshot_of(hass)
    assert s.paged("principal")[0]["title"] == f"DRILL: INTRUSION: {WHERE}"
    assert state_of(hass, "input_boolean.siren") == STATE_OFF

    await press(hass, "SG_CONFIRM", event_id)
    await settle(lambda: state_of(hass, "input_boolean.siren") == STATE_ON, "the siren")
    await settle(lambda: running_engine.engine.log.get(event_id).acknowledged, "the ack")
    assert s.pages["police_dispatch"] == []
    assert s.who_was_paged() == {"notify.mobile_app_sro_phone", "notify.principal"}


async def test_camera_offline_pages_facilities_with_location_and_picture(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    camera_entity = plaza_entity(hass, "camera")
    assert camera_entity is not None
    device_id = dr.async_get(hass).async_get_device(
        identifiers={("school_guard", f"{running_engine.engine_id}_plaza")}
    )
    assert device_id is not None
    area = ar.async_get(hass).async_create("Building B courtyard")
    dr.async_get(hass).async_update_device(device_id.id, area_id=area.id)
    await add_automation(hass, "camera_health.yaml", AUTOMATIONS["camera_health.yaml"])

    await running_engine.engine.update_camera("plaza", {"enabled": False})
    await settle(lambda: state_of(hass, CONNECTIVITY) == STATE_OFF, "plaza offline")
    assert s.pages["facilities"] == []
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=3))
    await settle(lambda: len(s.pages["facilities"]) == 1, "the facilities page")
    page = s.paged("facilities")[0]
    assert page["title"] == "CAMERA OFFLINE: Plaza"
    assert page["message"] == (
        "Camera Plaza at Building B courtyard has been offline for 2 min: "
        "this area is not being watched."
    )
    state = hass.states.get(camera_entity)
    assert state is not None
    expected = state.attributes.get("entity_picture") or f"/api/camera_proxy/{camera_entity}"
    assert page["data"]["image"] == expected
    assert s.paged("police_dispatch")[0]["title"] == "CAMERA OFFLINE: Plaza"


async def test_tamper_drill_skips_outside_and_dismissal_is_told(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(hass, "camera_health.yaml", AUTOMATIONS["camera_health.yaml"])
    event_id = await drill(s, "tamper")
    await settle(lambda: len(s.pages["facilities"]) == 1, "the facilities page")
    page = s.paged("facilities")[0]
    assert page["title"] == "DRILL: CAMERA TAMPERED: Plaza"
    assert page["message"] == (
        f"DRILL: Camera Plaza at {WHERE} looks tampered with "
        "(blacked out, blurred or moved; confidence 100 %)."
    )
    assert page["data"]["image"] == snapshot_of(hass)
    assert s.pages["police_dispatch"] == []

    await settle(
        lambda: hass.bus.async_listeners().get("school_guard_alert", 0) >= 3, "the dismissal watch"
    )
    await s.entry.runtime_data.client.dismiss(event_id, "Facilities", "cleaning crew")
    await settle(lambda: len(s.pages["facilities"]) == 2, "the dismissal notice")
    assert s.paged("facilities")[1]["title"] == "DRILL: FALSE ALARM: Plaza"
    assert s.pages["police_dispatch"] == []
