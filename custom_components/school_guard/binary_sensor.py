"""Binary sensors per camera: one per detection rule, motion, and connectivity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import SchoolGuardConfigEntry
from .client import AlertEvent, CameraState
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    SchoolGuardEngineEntity,
    async_add_camera_entities,
    engine_online_camera_known,
)
from .hub import OPEN_STATES, SchoolGuardHub

PARALLEL_UPDATES = 0

RULE_DEVICE_CLASSES: dict[str, BinarySensorDeviceClass | None] = {
    # How each rule's sensor looks in Home Assistant; a rule the engine adds later is
    # shown as a safety sensor until it is listed here. Loitering and crowding are not
    # "occupied" rooms (Home Assistant's generic trigger read "Loitering became
    # occupied"): no device class, and their states are translated "Detected" / "Clear".
    "weapon": BinarySensorDeviceClass.SAFETY,
    "fight": BinarySensorDeviceClass.SAFETY,
    "person_down": BinarySensorDeviceClass.SAFETY,
    "intrusion": BinarySensorDeviceClass.SAFETY,
    "loitering": None,
    "crowd": None,
    "tamper": BinarySensorDeviceClass.TAMPER,
}


@dataclass(frozen=True, kw_only=True)
class SchoolGuardBinarySensorEntityDescription(
    SchoolGuardCameraEntityDescription, BinarySensorEntityDescription
):
    """A camera binary sensor and how it reads the camera's state."""

    value_fn: Callable[[CameraState], bool]
    rule: str | None = None
    """For a rule's sensor: the rule whose open alert it describes in its attributes."""


def _rule_description(rule: str) -> SchoolGuardBinarySensorEntityDescription:
    """On while the engine has an open alert of ``rule`` on the camera."""

    def is_active(camera: CameraState) -> bool:
        return camera.rules_active.get(rule, False)

    return SchoolGuardBinarySensorEntityDescription(
        key=rule,
        translation_key=rule,
        device_class=RULE_DEVICE_CLASSES.get(rule, BinarySensorDeviceClass.SAFETY),
        value_fn=is_active,
        rule=rule,
    )


MOTION = SchoolGuardBinarySensorEntityDescription(
    key="motion",
    translation_key="motion",
    device_class=BinarySensorDeviceClass.MOTION,
    value_fn=lambda camera: camera.motion,
)
CONNECTIVITY = SchoolGuardBinarySensorEntityDescription(
    key="connectivity",
    translation_key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    available_fn=engine_online_camera_known,
    value_fn=lambda camera: camera.online,
)


ENGINE_CONNECTIVITY = BinarySensorEntityDescription(
    key="engine_connectivity",
    translation_key="engine_connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def camera_descriptions(
    engine_rules: tuple[str, ...],
) -> list[SchoolGuardBinarySensorEntityDescription]:
    """The binary sensors of one camera: the rules this engine runs, motion, connectivity."""
    return [*(_rule_description(rule) for rule in engine_rules), MOTION, CONNECTIVITY]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every camera's binary sensors, now and whenever the engine reports a new camera."""
    hub = entry.runtime_data.hub
    descriptions = camera_descriptions(hub.info.rules)
    async_add_entities([SchoolGuardEngineConnectivity(hub, ENGINE_CONNECTIVITY)])

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: (
            SchoolGuardBinarySensor(hub, camera_id, description) for description in descriptions
        ),
    )


DRILL_ICON: Final = "mdi:whistle"
"""A drill's sensor wears a whistle instead of the alarm icon, on every card that shows it."""


def _time(timestamp: float | None) -> str | None:
    return None if timestamp is None else dt_util.utc_from_timestamp(timestamp).isoformat()


def outcome(alert: AlertEvent) -> str:
    """How the alert stands: open, acknowledged, dismissed (a false alarm) or ended."""
    if alert.dismissed:
        return "dismissed"
    if alert.acknowledged:
        return "acknowledged"
    return "open" if alert.state in OPEN_STATES else "ended"


def alert_attributes(alert: AlertEvent) -> dict[str, Any]:
    """What a rule's sensor says about its newest alert, open or over.

    The sensor keeps describing the last alert after it ends, so a dashboard or a
    review shows who was paged and how it ended, not a blank card.
    """
    return {
        "event_id": alert.event_id,
        "confidence": alert.confidence,
        "drill": alert.drill,
        # Translated ("Drill" / "Real alert"): the one attribute staff read at a glance.
        "alert_type": "drill" if alert.drill else "real",
        "outcome": outcome(alert),
        "zone": alert.zone,
        "started_at": _time(alert.started_at),
        "ended_at": _time(alert.ended_at),
        "method": alert.method,
        "model": alert.model,
        "thresholds": dict(alert.thresholds),
        "notified": list(alert.notified),
        "acknowledged_by": alert.acknowledged_by,
        "dismissed_by": alert.dismissed_by,
        "dismissed_reason": alert.dismissed_reason,
    }


class SchoolGuardBinarySensor(
    SchoolGuardCameraEntity[tuple[bool, AlertEvent | None]], BinarySensorEntity
):
    """A push-updated binary sensor of one camera.

    A rule's sensor also says which alert makes it "on" (event id, confidence, drill), so
    an automation can acknowledge or dismiss exactly that alert from the sensor's state.
    A drill is visible without opening the attributes: a whistle icon replaces the alarm.
    """

    entity_description: SchoolGuardBinarySensorEntityDescription
    _unrecorded_attributes = frozenset(
        {"event_id", "model", "thresholds", "notified", "started_at", "ended_at"}
    )
    """The incident log keeps these; history needs only the state and who handled it."""

    def _value(self, camera: CameraState) -> tuple[bool, AlertEvent | None]:
        rule = self.entity_description.rule
        alert = None
        if rule is not None:
            alert = self._hub.latest_alerts.get((camera.camera_id, rule))
        # On as soon as the alert's event says so: the camera's state message follows.
        open_now = alert is not None and alert.state in OPEN_STATES and not alert.dismissed
        return self.entity_description.value_fn(camera) or open_now, alert

    def _apply(self, value: tuple[bool, AlertEvent | None] | None) -> None:
        self._attr_is_on = None if value is None else value[0]
        alert = None if value is None else value[1]
        self._attr_extra_state_attributes = {} if alert is None else alert_attributes(alert)
        # The whistle while a drill is on: an ended drill's sensor looks like any other.
        drilling = self._attr_is_on and alert is not None and alert.drill
        self._attr_icon = DRILL_ICON if drilling else None


class SchoolGuardEngineConnectivity(SchoolGuardEngineEntity[bool], BinarySensorEntity):
    """Whether Home Assistant is connected to the engine's push feed.

    Always available: "disconnected" is the answer it exists to give.
    """

    def _available(self) -> bool:
        return True

    def _value(self, hub: SchoolGuardHub) -> bool:
        return hub.connected

    def _apply(self, value: bool) -> None:
        self._attr_is_on = value
