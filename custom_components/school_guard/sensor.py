"""Sensors: per camera, people and inference time; per engine, device and review numbers.

The review numbers are the engine's after-action report of the last 30 days: the
false-alarm share and the median time to confirm or dismiss, real incidents only (the
drill values are attributes beside them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .client import CameraState, ReportSummary, SchoolGuardError
from .const import DOMAIN, EVENT_INCIDENT
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    SchoolGuardEngineEntity,
    async_add_camera_entities,
)
from .hub import SchoolGuardHub

PARALLEL_UPDATES = 0
SCAN_INTERVAL = timedelta(minutes=15)
"""Only the review sensors poll: their numbers change with people's answers, not pushes."""
REVIEW_DAYS: Final = 30
REFRESH_COOLDOWN: Final = 5.0
"""Seconds between two refreshes that alert changes ask for."""
_LOGGER = logging.getLogger(__name__)

type SensorValue = int | float | str | None


@dataclass(frozen=True, kw_only=True)
class SchoolGuardSensorEntityDescription(
    SchoolGuardCameraEntityDescription, SensorEntityDescription
):
    """A camera sensor and how it reads the camera's state."""

    value_fn: Callable[[CameraState], SensorValue]


SENSORS: tuple[SchoolGuardSensorEntityDescription, ...] = (
    SchoolGuardSensorEntityDescription(
        key="person_count",
        translation_key="person_count",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda camera: camera.person_count,
    ),
    SchoolGuardSensorEntityDescription(
        key="inference_time",
        translation_key="inference_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Useful when sizing the edge box, noise otherwise.
        entity_registry_enabled_default=False,
        value_fn=lambda camera: camera.inference_ms,
    ),
)


@dataclass(frozen=True, kw_only=True)
class SchoolGuardEngineSensorEntityDescription(SensorEntityDescription):
    """An engine sensor and how it reads the hub."""

    value_fn: Callable[[SchoolGuardHub], SensorValue]
    attributes_fn: Callable[[SchoolGuardHub], dict[str, Any]] = lambda hub: {}


ENGINE_SENSORS: tuple[SchoolGuardEngineSensorEntityDescription, ...] = (
    SchoolGuardEngineSensorEntityDescription(
        key="inference_device",
        translation_key="inference_device",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub: hub.info.inference_device,
        attributes_fn=lambda hub: {"available_devices": list(hub.info.available_devices)},
    ),
)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100.0, 1)


@dataclass(frozen=True, kw_only=True)
class SchoolGuardReviewSensorEntityDescription(SensorEntityDescription):
    """A number of the engine's after-action report; real incidents only, drills beside."""

    value_fn: Callable[[ReportSummary], float | None]
    attributes_fn: Callable[[ReportSummary], dict[str, Any]]


REVIEW_SENSORS: tuple[SchoolGuardReviewSensorEntityDescription, ...] = (
    SchoolGuardReviewSensorEntityDescription(
        key="false_alarm_share",
        translation_key="false_alarm_share",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda summary: _percent(summary.false_alarm_share),
        attributes_fn=lambda summary: {
            "days": summary.days,
            "real_alerts": summary.real_incidents,
            "drill_alerts": summary.drill_incidents,
            "drill_false_alarm_share": _percent(summary.drill_false_alarm_share),
        },
    ),
    SchoolGuardReviewSensorEntityDescription(
        key="median_time_to_confirm",
        translation_key="median_time_to_confirm",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda summary: summary.median_seconds_to_decision,
        attributes_fn=lambda summary: {
            "days": summary.days,
            "real_alerts": summary.real_incidents,
            "drill_median_seconds": summary.drill_median_seconds_to_decision,
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the engine's sensors and every camera's, now and for each new camera."""
    hub = entry.runtime_data.hub
    async_add_entities(SchoolGuardEngineSensor(hub, description) for description in ENGINE_SENSORS)
    async_add_entities(
        (SchoolGuardReviewSensor(entry, description) for description in REVIEW_SENSORS),
        update_before_add=True,
    )

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: (
            SchoolGuardSensor(hub, camera_id, description) for description in SENSORS
        ),
    )


class SchoolGuardSensor(SchoolGuardCameraEntity[SensorValue], SensorEntity):
    """A push-updated sensor of one camera."""

    entity_description: SchoolGuardSensorEntityDescription

    def _value(self, camera: CameraState) -> SensorValue:
        return self.entity_description.value_fn(camera)

    def _apply(self, value: SensorValue) -> None:
        self._attr_native_value = value


class SchoolGuardEngineSensor(SchoolGuardEngineEntity[SensorValue], SensorEntity):
    """A sensor of the engine, re-read whenever the hub learns something new."""

    entity_description: SchoolGuardEngineSensorEntityDescription

    def _value(self, hub: SchoolGuardHub) -> SensorValue:
        return self.entity_description.value_fn(hub)

    def _apply(self, value: SensorValue) -> None:
        self._attr_native_value = value
        self._attr_extra_state_attributes = self.entity_description.attributes_fn(self._hub)


class SchoolGuardReviewSensor(SensorEntity):
    """A number of the last 30 days' after-action report, asked of the engine.

    Asked every 15 minutes, and again soon after an alert of this engine starts, ends, is
    confirmed or dismissed (at most once per :data:`REFRESH_COOLDOWN`): recounting 30 days
    of incidents on every push (confidence updates every few seconds) would cost the
    engine more than it tells.
    """

    _attr_has_entity_name = True
    _attr_should_poll = True
    entity_description: SchoolGuardReviewSensorEntityDescription

    def __init__(
        self, entry: SchoolGuardConfigEntry, description: SchoolGuardReviewSensorEntityDescription
    ) -> None:
        """Attach the sensor to the engine device."""
        self.entity_description = description
        self._client = entry.runtime_data.client
        engine_id = entry.runtime_data.hub.engine_id
        self._engine_id = engine_id
        self._attr_unique_id = f"{engine_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, engine_id)})

    async def async_added_to_hass(self) -> None:
        """Refresh after the alert changes a person reads (the logbook's), debounced."""
        await super().async_added_to_hass()
        refresh = Debouncer(
            self.hass,
            _LOGGER,
            cooldown=REFRESH_COOLDOWN,
            immediate=True,
            function=self._refresh_now,
        )
        self.async_on_remove(refresh.async_shutdown)

        @callback
        def on_incident(event: Event) -> None:
            if event.data.get("engine_id") == self._engine_id:
                refresh.async_schedule_call()

        self.async_on_remove(self.hass.bus.async_listen(EVENT_INCIDENT, on_incident))

    async def _refresh_now(self) -> None:
        await self.async_update_ha_state(force_refresh=True)

    async def async_update(self) -> None:
        """Ask the engine for the numbers; unavailable while it cannot answer."""
        try:
            summary = await self._client.report_summary(REVIEW_DAYS)
        except SchoolGuardError:
            self._attr_available = False
            return
        self._attr_available = True
        self._attr_native_value = self.entity_description.value_fn(summary)
        self._attr_extra_state_attributes = self.entity_description.attributes_fn(summary)
