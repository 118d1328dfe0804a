"""A Home Assistant with the playbooks installed, real locks and speakers, recorded pages.

Locks are template locks over input booleans, the PA speaker is Home Assistant's demo
YouTube player (a real media_player entity), notify actions and ``logbook.log`` are
registered test services that record their calls, and ``tts.speak`` is a test service that
does what the real one does for a speaker: ``media_player.play_media`` with a TTS media id.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from homeassistant.components.demo.media_player import DemoYoutubePlayer
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_mock_service,
    setup_test_component_platform,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from tests.components.school_guard.helpers import WAIT_SECONDS, state_of, wait_until

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = ROOT / "blueprints"
CONNECTIVITY = "binary_sensor.plaza_connectivity"
LOCKS = ["lock.front_door", "lock.gym_door"]
SPEAKER = "media_player.pa_hall"
NOTIFY = (
    "mobile_app_sro_phone",
    "mobile_app_nurse",
    "mobile_app_principal",
    "mobile_app_police_liaison",
    "mobile_app_facilities_lead",
    "front_office",
    "police_dispatch",
    "facilities",
    "principal",
)


@dataclass
class School:
    """What the playbooks act on, and what they sent."""

    hass: HomeAssistant
    entry: SchoolGuardConfigEntry
    pages: dict[str, list[ServiceCall]]
    logbook: list[ServiceCall]
    scripts_run: list[str] = field(default_factory=list)

    def paged(self, target: str) -> list[dict[str, Any]]:
        """The data of every page sent to ``notify.<target>``."""
        return [dict(call.data) for call in self.pages[target]]

    def who_was_paged(self) -> set[str]:
        """Every notify action that was called at least once."""
        return {f"notify.{name}" for name, calls in self.pages.items() if calls}

    def log_lines(self) -> list[str]:
        """The logbook messages written by the playbooks, in order."""
        return [str(call.data["message"]) for call in self.logbook]


def install_blueprints(hass: HomeAssistant, config_dir: Path) -> None:
    """Point Home Assistant at a fresh config folder holding the project's blueprints."""
    shutil.copytree(BLUEPRINTS, config_dir / "blueprints")
    hass.config.config_dir = str(config_dir)


async def school(hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path) -> School:
    """Load the integration against the running engine and build the school around it."""
    install_blueprints(hass, config_dir)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(hass, lambda: state_of(hass, CONNECTIVITY) == STATE_ON, "plaza online")

    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "front_door_bolt": {},
                "gym_door_bolt": {},
                "hall_lights": {},
                "siren": {},
            }
        },
    )
    locks = [
        {
            "platform": "template",
            "name": name.replace("_", " ").title(),
            "value_template": f"{{{{ is_state('input_boolean.{name}_bolt', 'on') }}}}",
            "lock": {
                "action": "input_boolean.turn_on",
                "target": {"entity_id": f"input_boolean.{name}_bolt"},
            },
            "unlock": {
                "action": "input_boolean.turn_off",
                "target": {"entity_id": f"input_boolean.{name}_bolt"},
            },
        }
        for name in ("front_door", "gym_door")
    ]
    assert await async_setup_component(hass, "lock", {"lock": locks})

    setup_test_component_platform(
        hass, "media_player", [DemoYoutubePlayer("PA Hall", "idle", "Morning music", 300)]
    )
    assert await async_setup_component(hass, "media_player", {"media_player": {"platform": "test"}})

    async def speak(call: ServiceCall) -> None:
        """Play the message on the speakers, as tts.speak does (media id of the TTS source)."""
        message = quote(str(call.data["message"]))
        await hass.services.async_call(
            "media_player",
            "play_media",
            {
                "entity_id": call.data["media_player_entity_id"],
                "media_content_id": f"media-source://tts/{call.data['entity_id'][0]}?message={message}",
                "media_content_type": "music",
            },
            blocking=True,
        )

    hass.services.async_register("tts", "speak", speak)
    await hass.async_block_till_done()
    pages = {name: async_mock_service(hass, "notify", name) for name in NOTIFY}
    logbook = async_mock_service(hass, "logbook", "log")
    return School(hass, cast(SchoolGuardConfigEntry, entry), pages, logbook)


def add_phone(hass: HomeAssistant, name: str, named_by_user: str | None = None) -> str:
    """A companion-app phone (a ``mobile_app`` device) as the device picker offers it."""
    from homeassistant.helpers import device_registry as dr

    entries = hass.config_entries.async_entries("mobile_app")
    if entries:
        phones = entries[0]
    else:
        phones = MockConfigEntry(domain="mobile_app", title="Phones")
        phones.add_to_hass(hass)
    registry = dr.async_get(hass)
    device = registry.async_get_or_create(
        config_entry_id=phones.entry_id, identifiers={("mobile_app", name)}, name=name
    )
    if named_by_user:
        registry.async_update_device(device.id, name_by_user=named_by_user)
    return device.id


async def add_automation(hass: HomeAssistant, path: str, inputs: dict[str, Any]) -> str:
    """Create one automation from a project blueprint; returns its entity id."""
    config = {
        "automation": [
            {
                "id": "playbook",
                "alias": "Playbook",
                "use_blueprint": {"path": f"school_guard/{path}", "input": inputs},
            }
        ]
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    assert state_of(hass, "automation.playbook") == STATE_ON
    return "automation.playbook"


async def settle(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition`` holds, bounded.

    Unlike ``wait_until`` this never calls ``async_block_till_done``: a playbook run that
    waits for a Confirm button is a tracked task, so waiting for all tasks would never end.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def waiting_for_buttons(hass: HomeAssistant, listeners: int = 2) -> None:
    """Until a playbook run listens for the notification buttons (its wait step is armed)."""
    await settle(
        lambda: hass.bus.async_listeners().get("mobile_app_notification_action", 0) >= listeners,
        "the playbook to wait for a button",
    )


async def press(hass: HomeAssistant, button: str, event_id: str) -> None:
    """Tap a notification button once the playbook waits for it (what the companion app fires)."""
    await waiting_for_buttons(hass)
    hass.bus.async_fire("mobile_app_notification_action", {"action": f"{button}_{event_id}"})


async def stop_playbooks(hass: HomeAssistant) -> None:
    """Stop every waiting playbook run so teardown can wait for the remaining tasks."""
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all", "stop_actions": True}, blocking=True
        )
    if hass.services.has_service("script", "turn_off"):
        await hass.services.async_call("script", "turn_off", {"entity_id": "all"}, blocking=True)


def media_id(hass: HomeAssistant) -> str:
    """What the PA speaker was last told to play."""
    state = hass.states.get(SPEAKER)
    assert state is not None
    return str(state.attributes.get("media_content_id", ""))


def plaza_entity(hass: HomeAssistant, domain: str) -> str | None:
    """The plaza camera's entity of ``domain`` (image: latest alert; camera: live still)."""
    from homeassistant.helpers import device_registry as dr
    from homeassistant.helpers import entity_registry as er

    devices = dr.async_get(hass)
    for entry in er.async_get(hass).entities.values():
        if entry.platform != "school_guard" or entry.domain != domain or not entry.device_id:
            continue
        device = devices.async_get(entry.device_id)
        if device is not None and any(ident[1].endswith("_plaza") for ident in device.identifiers):
            return entry.entity_id
    return None


def snapshot_of(hass: HomeAssistant, domain: str = "image") -> str:
    """The picture URL a page about plaza must carry (the entity's own proxy URL)."""
    entity_id = plaza_entity(hass, domain)
    assert entity_id is not None, f"the plaza camera has no {domain} entity"
    picture = hass.states.get(entity_id)
    assert picture is not None
    return str(picture.attributes["entity_picture"])
