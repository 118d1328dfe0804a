"""The weapon playbook as a real automation against the real engine.

Drill alerts come from the engine's own test_alert. The engine makes non-drill alerts
only from real detections, and the sample footage contains no weapon, so the non-drill
case fires ``school_guard_alert`` on the bus with exactly the payload the integration
fires (the same keys and values its hub sends for a real alert).
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import STATE_LOCKED, STATE_UNLOCKED
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockUser,
    async_fire_time_changed,
)

from tests.components.school_guard.conftest import RunningEngine
from tests.components.school_guard.helpers import state_of

from .examples import AUTOMATIONS
from .playbook import (
    LOCKS,
    School,
    add_automation,
    add_phone,
    media_id,
    press,
    settle,
    snapshot_of,
    waiting_for_buttons,
)

INPUTS = AUTOMATIONS["weapon_response.yaml"]


async def drill(s: School, rule: str) -> str:
    """A drill alert from the engine; returns its event id."""
    change = await s.entry.runtime_data.client.test_alert("plaza", rule, seconds=600)
    assert change.event.drill is True
    return change.event.event_id


async def test_weapon_drill_confirmed_locks_announces_and_sets_lockdown(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(hass, "weapon_response.yaml", INPUTS)
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_UNLOCKED, STATE_UNLOCKED]

    event_id = await drill(s, "weapon")
    await settle(lambda: len(s.pages["mobile_app_sro_phone"]) == 1, "the SRO page")
    page = s.paged("mobile_app_sro_phone")[0]
    assert page["title"] == "DRILL: WEAPON ALERT: Building B, outside"
    assert page["message"].startswith(
        "DRILL: Possible weapon seen by camera Plaza at Building B, outside (confidence 100 %)."
    )
    assert page["data"]["actions"] == [
        {"action": f"SG_CONFIRM_{event_id}", "title": "Confirm"},
        {"action": f"SG_DISMISS_{event_id}", "title": "Dismiss"},
    ]
    assert page["data"]["image"] == snapshot_of(hass)
    assert page["data"]["tag"] == f"school_guard_{event_id}"
    assert s.paged("front_office")[0]["title"] == "DRILL: WEAPON ALERT: Building B, outside"
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_UNLOCKED, STATE_UNLOCKED]

    # A post-roll later the same page (same tag: it replaces the first on the phone) comes
    # again with the keyframe strip as its image and the clip behind a tap.
    await settle(lambda: len(s.pages["mobile_app_sro_phone"]) == 2, "the page with the strip")
    evidence = s.paged("mobile_app_sro_phone")[1]
    base = f"/api/school_guard/{running_engine.engine_id}/events/{event_id}"
    assert evidence["data"]["image"] == f"{base}/strip.jpg"
    assert evidence["data"]["url"] == evidence["data"]["clickAction"] == f"{base}/clip.mp4"
    assert (evidence["title"], evidence["message"]) == (page["title"], page["message"])
    assert evidence["data"]["tag"] == page["data"]["tag"]
    assert evidence["data"]["actions"] == page["data"]["actions"]
    assert len(s.pages["front_office"]) == 1, "staff are not paged twice"

    await press(hass, "SG_CONFIRM", event_id)
    await settle(
        lambda: all(state_of(hass, lock) == STATE_LOCKED for lock in LOCKS), "doors locked"
    )
    await settle(lambda: running_engine.engine.mode["mode"] == "lockdown", "lockdown")
    assert running_engine.engine.mode["drill"] is True
    await settle(lambda: "message=This%20is%20a%20drill." in media_id(hass), "the PA")
    assert media_id(hass).endswith("Lockdown.%20Locks%2C%20lights%2C%20out%20of%20sight.")
    assert running_engine.engine.log.get(event_id).acknowledged
    assert s.pages["police_dispatch"] == []
    assert s.who_was_paged() == {"notify.mobile_app_sro_phone", "notify.front_office"}
    await settle(
        lambda: any(line.startswith("DRILL: lockdown started") for line in s.log_lines()),
        "the logbook entry of the response",
    )
    lines = s.log_lines()
    assert lines[0] == (
        "DRILL: weapon alert at Building B, outside (camera Plaza, 100 %); "
        "paging sro phone, front office"
    )
    assert "DRILL: the SRO's phone confirmed the alert at Building B, outside" in lines
    assert running_engine.engine.log.get(event_id).acknowledged_by == "the SRO's phone"
    assert (
        "DRILL: responding to the alert at Building B, outside: locking Front Door, Gym Door, "
        "announcing, mode lockdown"
    ) in lines
    assert (
        "DRILL: lockdown started for the alert at Building B, outside; "
        "outside recipients paged: none"
    ) in lines
    assert not any(event_id in line for line in lines), "no 32-hex ids in the logbook"
    # The incident log keeps who was told, through which step, by which automation.
    told = running_engine.engine.log.get(event_id).notified
    assert sorted((n.recipients, n.channel) for n in told) == [
        (("notify.front_office",), "page"),
        (("notify.mobile_app_sro_phone",), "page"),
    ]
    assert {n.by for n in told} == {"Playbook"}  # the automation's name


async def test_weapon_without_confirmation_acts_at_once_and_pages_outside(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    """Non-drill alert: fired on the bus with the integration's exact payload (see module doc)."""
    s = lincoln
    await add_automation(
        hass,
        "weapon_response.yaml",
        {**INPUTS, "act_without_confirmation": True, "response_mode": "secure"},
    )
    port = running_engine.port
    hass.bus.async_fire(
        "school_guard_alert",
        {
            "engine_id": running_engine.engine_id,
            "camera_id": "plaza",
            "camera_name": "Plaza",
            "location": "Building B, outside",
            "rule": "weapon",
            "confidence": 0.87,
            "event_id": "real-weapon-1",
            "change": "started",
            "state": "started",
            "drill": False,
            "snapshot_url": f"http://127.0.0.1:{port}/api/v1/events/real-weapon-1/snapshot.jpg",
        },
    )
    await settle(
        lambda: all(state_of(hass, lock) == STATE_LOCKED for lock in LOCKS), "doors locked"
    )
    await settle(lambda: running_engine.engine.mode["mode"] == "secure", "secure mode")
    assert running_engine.engine.mode["drill"] is False
    await settle(lambda: len(s.pages["police_dispatch"]) == 1, "outside page")
    police = s.paged("police_dispatch")[0]
    assert police["title"] == "WEAPON ALERT: Building B, outside"
    assert "Secure at the school: possible weapon seen by camera Plaza" in police["message"]
    assert "(confidence 87 %)" in police["message"]
    assert "actions" not in police["data"]
    sro = s.paged("mobile_app_sro_phone")[0]
    assert sro["title"] == "WEAPON ALERT: Building B, outside"
    assert "DRILL" not in sro["message"]
    assert media_id(hass).endswith("message=Lockdown.%20Locks%2C%20lights%2C%20out%20of%20sight.")


async def test_weapon_dismissed_from_phone_locks_nothing_and_tells_everyone(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(hass, "weapon_response.yaml", INPUTS)
    event_id = await drill(s, "weapon")
    await settle(lambda: len(s.pages["front_office"]) == 1, "the staff page")

    await press(hass, "SG_DISMISS", event_id)
    await settle(
        lambda: running_engine.engine.log.get(event_id).dismissed,
        "dismissed in the engine",
    )
    await settle(lambda: len(s.pages["front_office"]) == 2, "the dismissal notice")
    for target in ("mobile_app_sro_phone", "front_office"):
        notice = s.paged(target)[-1]
        assert notice["title"] == "DRILL: FALSE ALARM: Building B, outside"
        assert notice["message"] == (
            "DRILL: The weapon alert at Building B, outside was dismissed as a false alarm."
        )
        assert notice["data"] == {"tag": f"school_guard_{event_id}"}
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_UNLOCKED, STATE_UNLOCKED]
    assert running_engine.engine.mode["mode"] == "normal"
    assert s.pages["police_dispatch"] == []
    assert "Lockdown" not in media_id(hass)
    await settle(
        lambda: len(running_engine.engine.log.get(event_id).notified) == 4,
        "the dismissal notices recorded",
    )
    told = running_engine.engine.log.get(event_id).notified
    assert sorted((n.recipients[0], n.channel) for n in told) == [
        ("notify.front_office", "dismissal notice"),
        ("notify.front_office", "page"),
        ("notify.mobile_app_sro_phone", "dismissal notice"),
        ("notify.mobile_app_sro_phone", "page"),
    ]


async def test_weapon_unanswered_pages_the_backup_and_locks_nothing(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    s = lincoln
    await add_automation(hass, "weapon_response.yaml", {**INPUTS, "confirm_minutes": 2})
    event_id = await drill(s, "weapon")
    await waiting_for_buttons(hass)
    assert s.pages["principal"] == []
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=3))
    await settle(lambda: len(s.pages["principal"]) == 1, "the backup page")
    backup = s.paged("principal")[0]
    assert backup["title"] == "DRILL: NO ANSWER — WEAPON ALERT: Building B, outside"
    assert backup["message"] == (
        "DRILL: Nobody confirmed or dismissed the weapon alert at Building B, outside "
        "(camera Plaza, confidence 100 %) within 2 min."
    )
    assert backup["data"]["image"] == snapshot_of(hass)
    assert (
        "DRILL: no answer for the alert at Building B, outside within 2 min; "
        "paging the backup people"
    ) in s.log_lines()
    assert not any(event_id in line for line in s.log_lines())
    assert [state_of(hass, lock) for lock in LOCKS] == [STATE_UNLOCKED, STATE_UNLOCKED]
    assert running_engine.engine.mode["mode"] == "normal"


async def test_weapon_pages_phones_picked_as_devices(
    hass: HomeAssistant, running_engine: RunningEngine, lincoln: School
) -> None:
    """Recipients are companion-app phones; the playbook derives their notify actions."""
    s = lincoln
    inputs = {
        **{k: v for k, v in INPUTS.items() if k not in ("sro_targets", "backup_targets")},
        "sro_phones": [add_phone(hass, "SRO phone", "Officer Diaz")],
        "backup_phones": [add_phone(hass, "Principal")],
        "confirm_minutes": 2,
    }
    await add_automation(hass, "weapon_response.yaml", inputs)
    event_id = await drill(s, "weapon")
    await settle(lambda: len(s.pages["mobile_app_sro_phone"]) == 1, "the SRO's phone paged")
    assert s.paged("mobile_app_sro_phone")[0]["data"]["actions"][0]["action"] == (
        f"SG_CONFIRM_{event_id}"
    )
    assert s.log_lines()[0].endswith("paging Officer Diaz, front office"), s.log_lines()[0]
    await waiting_for_buttons(hass)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=3))
    await settle(lambda: len(s.pages["mobile_app_principal"]) == 1, "the backup phone paged")


async def test_weapon_confirmed_by_a_person_records_their_name(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    lincoln: School,
    hass_admin_user: MockUser,
) -> None:
    """The phone acts as its Home Assistant user; the person of that user acknowledged."""
    s = lincoln
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "diaz", "name": "Officer Diaz", "user_id": hass_admin_user.id}]},
    )
    await add_automation(hass, "weapon_response.yaml", INPUTS)
    event_id = await drill(s, "weapon")
    await waiting_for_buttons(hass)
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": f"SG_CONFIRM_{event_id}"},
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(lambda: running_engine.engine.log.get(event_id).acknowledged, "acknowledged")
    assert running_engine.engine.log.get(event_id).acknowledged_by == "Officer Diaz"
    await settle(
        lambda: "DRILL: Officer Diaz confirmed the alert at Building B, outside" in s.log_lines(),
        "the confirmation line",
    )
