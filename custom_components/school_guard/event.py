"""Event entity per camera: fires once for every alert that starts, typed by its rule.

The binary sensors say whether a rule is active now; this entity keeps the history
("what started, when") that the logbook and automations on the entity's state need,
with the alert's id so an automation can acknowledge or dismiss exactly that alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .client import CameraState, EventChange
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    async_add_camera_entities,
    camera_known,
)
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SchoolGuardEventEntityDescription(SchoolGuardCameraEntityDescription, EventEntityDescription):
    """The alert event entity of a camera."""


ALERT = SchoolGuardEventEntityDescription(
    key="alert",
    translation_key="alert",
    # The last alert stays the last alert while the engine is unreachable; going
    # unavailable and back would log "detected an event" at every engine or Home
    # Assistant start, burying the real lines (the alert lines are the logbook's own).
    available_fn=camera_known,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every camera's alert entity, now and whenever the engine reports a new camera."""
    hub = entry.runtime_data.hub

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: [SchoolGuardAlertEvent(hub, camera_id, ALERT)],
    )


class SchoolGuardAlertEvent(SchoolGuardCameraEntity[None], EventEntity):
    """Fires ``<rule>`` with the alert's id, confidence, location, drill flag and snapshot."""

    entity_description: SchoolGuardEventEntityDescription
    _unrecorded_attributes = frozenset({"event_id", "snapshot_url", "thresholds"})
    """Per-alert ids and URLs are useless in long-term history and would bloat it."""

    def __init__(
        self,
        hub: SchoolGuardHub,
        camera_id: str,
        description: SchoolGuardEventEntityDescription,
    ) -> None:
        """Offer the rules this engine runs as event types."""
        super().__init__(hub, camera_id, description)
        self._attr_event_types = list(hub.info.rules)

    def _value(self, camera: CameraState) -> None:
        """The entity's state is its last event, not a camera value."""

    def _apply(self, value: None) -> None:
        """Nothing to store: events are written when they happen."""

    async def async_added_to_hass(self) -> None:
        """Also listen to the camera's alert changes."""
        await super().async_added_to_hass()
        self.async_on_remove(self._hub.async_subscribe_alerts(self._camera_id, self._on_alert))

    @callback
    def _on_alert(self, change: EventChange) -> None:
        """Fire on an alert's start only; updates, acks and ends are not new alerts."""
        event = change.event
        if change.change != "started" or event.rule not in self.event_types:
            return
        self._trigger_event(
            event.rule,
            {
                "event_id": event.event_id,
                "confidence": event.confidence,
                "location": event.location,
                "zone": event.zone,
                "drill": event.drill,
                # What raised it, for whoever judges the alert later: the method, the
                # model and the thresholds in force (the incident log keeps the rest).
                "method": event.method,
                "model": event.model,
                "thresholds": dict(event.thresholds),
                "snapshot_url": self._hub.client.event_snapshot_url(event.event_id),
            },
        )
        self.async_write_ha_state()
