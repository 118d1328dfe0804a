"""Camera entity per camera: the engine's latest frame with its detections drawn.

Home Assistant never talks to the camera itself: the engine already decodes the stream,
and it holds the camera's credentials. Stills come from the engine's snapshot endpoint
through the API client (which carries the engine's token), so Home Assistant proxies
them to the frontend. The engine exposes no stream URL (it redacts camera URLs), so the
entity offers stills only.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.camera import Camera, CameraEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import SchoolGuardConfigEntry
from .client import CameraState, SchoolGuardError
from .const import LOGGER
from .entity import (
    SchoolGuardCameraEntity,
    SchoolGuardCameraEntityDescription,
    async_add_camera_entities,
)
from .hub import SchoolGuardHub
from .subentries import camera_hardware

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SchoolGuardCameraDescription(SchoolGuardCameraEntityDescription, CameraEntityDescription):
    """The camera entity of a camera device."""


SNAPSHOT = SchoolGuardCameraDescription(key="snapshot", name=None)
"""The device's main feature, so it takes the camera's own name."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SchoolGuardConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every camera's camera entity, now and whenever the engine reports a new camera."""
    hub = entry.runtime_data.hub

    async_add_camera_entities(
        hass,
        entry,
        async_add_entities,
        lambda camera_id: [SchoolGuardCamera(hub, camera_id, SNAPSHOT)],
    )


class SchoolGuardCamera(SchoolGuardCameraEntity[None], Camera):
    """Annotated stills of one camera, fetched from the engine on demand."""

    entity_description: SchoolGuardCameraDescription

    def __init__(
        self,
        hub: SchoolGuardHub,
        camera_id: str,
        description: SchoolGuardCameraDescription,
    ) -> None:
        """Set up Home Assistant's camera machinery (access tokens) and the device link."""
        Camera.__init__(self)
        SchoolGuardCameraEntity.__init__(self, hub, camera_id, description)

    @property
    def brand(self) -> str | None:
        """The camera's maker as ONVIF reports it ("School Guard" for a URL source)."""
        camera = self._hub.cameras.get(self._camera_id)
        return None if camera is None else camera_hardware(camera)["manufacturer"]

    @property
    def model(self) -> str | None:
        """The camera's model as ONVIF reports it ("Camera" for a URL source)."""
        camera = self._hub.cameras.get(self._camera_id)
        return None if camera is None else camera_hardware(camera)["model"]

    def _value(self, camera: CameraState) -> None:
        """Only availability follows the camera; the image is fetched when asked for."""

    def _apply(self, value: None) -> None:
        """Nothing to store between requests."""

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The engine's latest frame with boxes drawn; None when there is none to give."""
        try:
            return await self._hub.client.snapshot(self._camera_id, annotated=True)
        except SchoolGuardError as err:
            LOGGER.debug("No snapshot of camera %s: %s", self._camera_id, err)
            return None
