"""Logbook lines for alerts, so the history reads like an incident log.

Only what a person acts on gets a line: an alert started, ended, was acknowledged or
dismissed (the hub fires ``school_guard_incident`` for exactly those; an alert's updates,
every few seconds while it lasts, stay on ``school_guard_alert`` for automations). Each line
is under the camera's name, e.g. "Plaza: Weapon alert started at Building B, outside,
confidence 0.91 — DRILL", linked to the camera's binary sensor for that rule and, through
the event's ``device_id``, to the camera's device, so it shows on the camera's page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.components.binary_sensor import DOMAIN as BINARY_SENSOR_DOMAIN
from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN, EVENT_INCIDENT, camera_unique_id

RULE_TITLES: Final[dict[str, str]] = {
    "weapon": "Weapon",
    "fight": "Fight",
    "person_down": "Person down",
    "intrusion": "Unauthorized access",
    "loitering": "Loitering",
    "crowd": "Crowd",
    "tamper": "Camera tamper",
}
CHANGE_WORDS: Final[dict[str, str]] = {
    "started": "started",
    "ended": "ended",
    "acknowledged": "acknowledged",
    "dismissed": "dismissed as a false alarm",
}
WITH_CONFIDENCE: Final = frozenset({"started"})
"""Only when the detection starts does its confidence say something to a reader."""


def camera_title(data: Mapping[str, Any]) -> str:
    """Who the line is about: the camera, by its name."""
    return str(data.get("camera_name") or data.get("camera_id") or "Unknown camera")


def describe_alert(data: Mapping[str, Any]) -> str:
    """One sentence for one alert change (the bus event's data), after the camera's name."""
    rule = str(data.get("rule", ""))
    title = RULE_TITLES.get(rule, rule.replace("_", " ").capitalize() or "Unknown")
    change = str(data.get("change", ""))
    message = f"{title} alert {CHANGE_WORDS.get(change, change or 'changed')}"
    if location := data.get("location"):
        message = f"{message} at {location}"
    confidence = data.get("confidence")
    if change in WITH_CONFIDENCE and isinstance(confidence, int | float):
        message = f"{message}, confidence {confidence:.2f}"
    if data.get("drill"):
        message = f"{message} — DRILL"
    return message


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Teach the logbook how to describe ``school_guard_incident``."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        data = event.data
        engine_id = str(data.get("engine_id", ""))
        described = {
            LOGBOOK_ENTRY_NAME: camera_title(data),
            LOGBOOK_ENTRY_MESSAGE: describe_alert(data),
        }
        unique_id = camera_unique_id(engine_id, str(data.get("camera_id")), str(data.get("rule")))
        entity_id = er.async_get(hass).async_get_entity_id(BINARY_SENSOR_DOMAIN, DOMAIN, unique_id)
        if entity_id is not None:
            described[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return described

    async_describe_event(DOMAIN, EVENT_INCIDENT, describe)
