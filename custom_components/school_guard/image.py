"""Image entity per camera: the newest alert on it, as its keyframe strip once written.

The engine keeps each alert's best snapshot (boxes drawn) and, a post-roll later, its
keyframe strip: the frames that confirmed it side by side, with score and time. The
entity shows the snapshot at once and the strip as soon as the engine has it (a single
frame of a phone in a hand can look like a gun; three in a row rarely do). It serves them
through Home Assistant (the engine needs its token), asks the engine only once there is
an alert to show, and remembers which alert that was across Home Assistant restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from . import SchoolGuardConfigEntry
from .client import CameraState, EventChange, SchoolGuardError
from .const import LOGGER
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    async_add_camera_entities,
    engine_online_camera_known,
)
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 0


@dataclass(frozen=True, slots=True)
class LatestAlert:
    """Which alert the image shows and when it started."""

    event_id: str
    rule: str
    started: datetime
    evidence: datetime | None = None
    """When the engine stored the strip (None: only the snapshot so far)."""


@dataclass(frozen=True, kw_only=True)
class SchoolGuardImageEntityDescription(SchoolGuardCameraEntityDescription, ImageEntityDescription):
    """The latest-alert image of a camera."""


LATEST_ALERT = SchoolGuardImageEntityDescription(
    key="latest_alert",
    translation_key="latest_alert",
    # The engine serves past alerts' snapshots while the camera is down: offline is
    # exactly when staff want to see what it saw last.
    available_fn=engine_online_camera_known,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every camera's latest-alert image, now and whenever a new camera appears."""
    hub = entry.runtime_data.hub

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: [SchoolGuardLatestAlertImage(hub, camera_id, LATEST_ALERT)],
    )


class SchoolGuardLatestAlertImage(
    SchoolGuardCameraEntity[LatestAlert | None], ImageEntity, RestoreEntity
):
    """The newest alert's strip (its snapshot until then); its state is when it changed."""

    entity_description: SchoolGuardImageEntityDescription
    _attr_content_type = "image/jpeg"
    _unrecorded_attributes = frozenset({"event_id"})

    def __init__(
        self,
        hub: SchoolGuardHub,
        camera_id: str,
        description: SchoolGuardImageEntityDescription,
    ) -> None:
        """Start without an alert; the first one (or the restored state) sets it."""
        ImageEntity.__init__(self, hub.hass)
        self._latest: LatestAlert | None = None
        self._image: tuple[str, bytes] | None = None
        SchoolGuardCameraEntity.__init__(self, hub, camera_id, description)

    def _value(self, camera: CameraState) -> LatestAlert | None:
        return self._latest

    def _apply(self, value: LatestAlert | None) -> None:
        if value is None:
            self._attr_image_last_updated = None
        else:
            self._attr_image_last_updated = value.evidence or value.started

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Which alert is shown (an automation acts on that one); is it the strip yet."""
        if self._latest is None:
            return None
        return {
            "event_id": self._latest.event_id,
            "rule": self._latest.rule,
            "strip": self._latest.evidence is not None,
        }

    async def async_added_to_hass(self) -> None:
        """Restore the alert shown before a restart, then follow the camera's alerts."""
        await super().async_added_to_hass()
        if (state := await self.async_get_last_state()) is not None:
            event_id = state.attributes.get("event_id")
            started = dt_util.parse_datetime(state.state)
            if self._latest is None and isinstance(event_id, str) and started is not None:
                # The state is when the picture last changed: the strip's time if it is one.
                evidence = started if state.attributes.get("strip") else None
                self._latest = LatestAlert(
                    event_id, str(state.attributes.get("rule")), started, evidence
                )
                self._shown = self._refresh()
        self.async_on_remove(self._hub.async_subscribe_alerts(self._camera_id, self._on_alert))

    @callback
    def _on_alert(self, change: EventChange) -> None:
        """A new alert replaces the image; a later change of it may bring a better one."""
        event = change.event
        if change.change == "started":
            started = dt_util.utc_from_timestamp(event.started_at or change.at)
            self._latest = LatestAlert(event.event_id, event.rule, started)
            self._image = None
            self._handle_push()
        elif self._latest is not None and event.event_id == self._latest.event_id:
            self._image = None
            if change.change == "evidence" and event.evidence_at is not None:
                evidence = dt_util.utc_from_timestamp(event.evidence_at)
                self._latest = replace(self._latest, evidence=evidence)
                self._handle_push()

    async def async_image(self) -> bytes | None:
        """The shown alert's snapshot, fetched once per alert; None before any alert."""
        latest = self._latest
        if latest is None:
            return None
        if self._image is not None and self._image[0] == latest.event_id:
            return self._image[1]
        try:
            if latest.evidence is not None:
                data = await self._hub.client.event_strip(latest.event_id)
            else:
                data = await self._hub.client.event_snapshot(latest.event_id)
        except SchoolGuardError as err:
            LOGGER.debug("No picture for alert %s: %s", latest.event_id, err)
            return None
        if self._latest == latest:
            self._image = (latest.event_id, data)
        return data
