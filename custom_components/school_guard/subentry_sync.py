"""Keep the engine's cameras and the entry's "Add camera" subentries in step.

A camera added from Home Assistant is a subentry; the hub must not announce it (create its
device and entities) before that subentry exists, or they would land outside it. A
subentry the user deletes deletes the camera on the engine; a camera the engine drops
takes its device and subentry along.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .client import SchoolGuardApiError, SchoolGuardClient, SchoolGuardError
from .const import LOGGER
from .subentries import async_remove_camera_device, camera_subentry_id, subentry_cameras


@dataclass
class SubentrySync:
    """The subentries of one engine's entry, and the cameras waiting for theirs."""

    hass: HomeAssistant
    entry: ConfigEntry
    client: SchoolGuardClient
    engine_id: str
    awaiting: set[str] = field(default_factory=set)
    """Cameras an "Add camera" flow is creating: announced only once their subentry exists,
    so their device and entities are created under it (the engine's push can come first)."""
    _known: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Start from the subentries the entry has now."""
        self._known = subentry_cameras(self.entry)

    def holds(self, camera_id: str) -> bool:
        """Whether the camera waits for its subentry before it may be announced."""
        return camera_id in self.awaiting

    def subentry_id(self, camera_id: str) -> str | None:
        """The subentry entities of ``camera_id`` are added under (None: the entry itself)."""
        return camera_subentry_id(self.entry, camera_id)

    async def async_changed(
        self,
        cameras: Collection[str],
        announced: Collection[str],
        announce: Callable[[str], None],
        drop: Callable[[str], None],
    ) -> None:
        """Follow the entry's camera subentries (its update listener calls this).

        A new subentry releases its camera's announcement; a removed one deletes the
        camera on the engine (a camera the engine already forgot is fine), then ``drop``.
        """
        current = subentry_cameras(self.entry)
        removed = [c for s, c in self._known.items() if s not in current]
        self._known = current
        for camera_id in current.values():
            if camera_id in self.awaiting:
                self.awaiting.discard(camera_id)
                if camera_id in cameras and camera_id not in announced:
                    announce(camera_id)
        for camera_id in removed:
            try:
                await self.client.delete_camera(camera_id)
            except SchoolGuardApiError as err:
                if err.status != 404:
                    LOGGER.warning("Engine %s kept camera %s: %s", self.engine_id, camera_id, err)
                    continue
            except SchoolGuardError as err:
                LOGGER.warning(
                    "Could not delete camera %s on engine %s: %s", camera_id, self.engine_id, err
                )
                continue
            drop(camera_id)

    @callback
    def forget(self, camera_id: str) -> None:
        """The camera left the engine: its device and its subentry go too."""
        async_remove_camera_device(self.hass, self.entry, self.engine_id, camera_id)
        if (subentry_id := self.subentry_id(camera_id)) is not None:
            self.hass.config_entries.async_remove_subentry(self.entry, subentry_id)
