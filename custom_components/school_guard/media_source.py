"""The "School safety" media browser: engine → camera → day → incident → clip and strip.

A review starts from a place and a day ("what happened at the gym door on Tuesday"), so
that is the order of the folders. Each incident says what a reviewer decides on first:
its time, rule, confidence and outcome (acknowledged, dismissed as a false alarm, or
open). Its clip and strip play from the integration's evidence view, which the media
browser reaches through a signed path, so the engine token never reaches the browser.

Identifiers: ``<engine_id>/<camera_id>/<YYYY-MM-DD>/<event_id>[/clip.mp4|strip.jpg]``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Final

from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from . import SchoolGuardConfigEntry
from .client import AlertEvent, EvidenceFile, SchoolGuardError
from .const import DOMAIN
from .views import evidence_path

TITLE: Final = "School safety"
MAX_INCIDENTS: Final = 1000
"""Incidents read per camera to list its days (retention keeps 30 days by default)."""
_FILES: Final = {"clip.mp4": "video/mp4", "strip.jpg": "image/jpeg"}


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """The integration's media source (Home Assistant's media_source platform hook)."""
    return SchoolGuardMediaSource(hass)


def outcome(event: AlertEvent) -> str:
    """What people decided: dismissed (a false alarm), acknowledged, or still open."""
    if event.dismissed:
        return "dismissed as false alarm"
    if event.acknowledged:
        return "acknowledged"
    return "open"


class SchoolGuardMediaSource(MediaSource):
    """Every loaded engine's incidents with their clips and keyframe strips."""

    name = TITLE

    def __init__(self, hass: HomeAssistant) -> None:
        """One source for every school_guard engine."""
        super().__init__(DOMAIN)
        self.hass = hass

    def _entries(self) -> dict[str, SchoolGuardConfigEntry]:
        return {
            str(entry.unique_id): entry
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        }

    def _entry(self, engine_id: str) -> SchoolGuardConfigEntry:
        entry = self._entries().get(engine_id)
        if entry is None:
            raise BrowseError(f"no loaded school_guard engine {engine_id}")
        return entry

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """A clip or strip: the evidence view's path (Home Assistant signs it)."""
        parts = (item.identifier or "").split("/")
        if len(parts) != 5 or parts[4] not in _FILES:
            raise Unresolvable(f"not a school_guard clip or strip: {item.identifier}")
        engine_id, _, _, event_id, name = parts
        if engine_id not in self._entries():
            raise Unresolvable(f"no loaded school_guard engine {engine_id}")
        file: EvidenceFile = "clip.mp4" if name == "clip.mp4" else "strip.jpg"
        return PlayMedia(evidence_path(engine_id, event_id, file), _FILES[name])

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """One level of the tree: engines, cameras, days, incidents, or an incident."""
        parts = [part for part in (item.identifier or "").split("/") if part]
        if not parts:
            return self._engines()
        entry = self._entry(parts[0])
        if len(parts) == 1:
            return self._cameras(entry)
        events = await self._incidents(entry, parts[1])
        if len(parts) == 2:
            return self._days(entry, parts[1], events)
        if len(parts) == 3:
            return self._day(entry, parts[1], parts[2], events)
        if len(parts) == 4:
            for event in events:
                if event.event_id == parts[3]:
                    return self._incident(entry, parts[2], event)
        raise BrowseError(f"no such school_guard item: {item.identifier}")

    def _engines(self) -> BrowseMediaSource:
        children = [
            _folder(engine_id, entry.runtime_data.hub.info.name, MediaClass.DIRECTORY)
            for engine_id, entry in self._entries().items()
        ]
        return _folder(None, TITLE, MediaClass.APP, children)

    def _cameras(self, entry: SchoolGuardConfigEntry) -> BrowseMediaSource:
        hub = entry.runtime_data.hub
        children = [
            _folder(f"{hub.engine_id}/{camera_id}", camera.name, MediaClass.DIRECTORY)
            for camera_id, camera in sorted(hub.cameras.items())
        ]
        return _folder(hub.engine_id, hub.info.name, MediaClass.DIRECTORY, children)

    async def _incidents(self, entry: SchoolGuardConfigEntry, camera_id: str) -> list[AlertEvent]:
        try:
            return await entry.runtime_data.client.incidents(
                camera_id=camera_id, limit=MAX_INCIDENTS
            )
        except SchoolGuardError as err:
            raise BrowseError(f"the engine did not list the incidents: {err}") from err

    def _days(
        self, entry: SchoolGuardConfigEntry, camera_id: str, events: list[AlertEvent]
    ) -> BrowseMediaSource:
        days: dict[str, int] = defaultdict(int)
        for event in events:
            days[_day(event)] += 1
        base = f"{entry.runtime_data.hub.engine_id}/{camera_id}"
        children = [
            _folder(f"{base}/{day}", f"{day} ({count})", MediaClass.DIRECTORY)
            for day, count in sorted(days.items(), reverse=True)
        ]
        camera = entry.runtime_data.hub.cameras.get(camera_id)
        return _folder(base, camera.name if camera else camera_id, MediaClass.DIRECTORY, children)

    def _day(
        self, entry: SchoolGuardConfigEntry, camera_id: str, day: str, events: list[AlertEvent]
    ) -> BrowseMediaSource:
        base = f"{entry.runtime_data.hub.engine_id}/{camera_id}/{day}"
        children = [
            _folder(
                f"{base}/{event.event_id}",
                _incident_title(event),
                MediaClass.DIRECTORY,
                thumbnail=_strip(entry, event),
            )
            for event in events
            if _day(event) == day
        ]
        return _folder(base, day, MediaClass.DIRECTORY, children)

    def _incident(
        self, entry: SchoolGuardConfigEntry, day: str, event: AlertEvent
    ) -> BrowseMediaSource:
        engine_id = entry.runtime_data.hub.engine_id
        base = f"{engine_id}/{event.camera_id}/{day}/{event.event_id}"
        children: list[BrowseMediaSource] = []
        if event.has_evidence:
            children = [
                BrowseMediaSource(
                    domain=DOMAIN,
                    identifier=f"{base}/{name}",
                    media_class=media_class,
                    media_content_type=media_type,
                    title=title,
                    can_play=True,
                    can_expand=False,
                    thumbnail=_strip(entry, event),
                )
                for name, media_class, media_type, title in (
                    ("clip.mp4", MediaClass.VIDEO, MediaType.VIDEO, "Clip"),
                    ("strip.jpg", MediaClass.IMAGE, MediaType.IMAGE, "Keyframe strip"),
                )
            ]
        return _folder(base, _incident_title(event), MediaClass.DIRECTORY, children)


def _day(event: AlertEvent) -> str:
    """The incident's day in Home Assistant's time zone."""
    return dt_util.as_local(dt_util.utc_from_timestamp(event.started_at)).date().isoformat()


def _incident_title(event: AlertEvent) -> str:
    """The incident as a reviewer scans it: time, rule (DRILL), confidence, outcome."""
    started = dt_util.as_local(dt.datetime.fromtimestamp(event.started_at, dt.UTC))
    drill = " DRILL" if event.drill else ""
    return f"{started:%H:%M:%S} {event.rule}{drill} {event.confidence:.0%} ({outcome(event)})"


def _strip(entry: SchoolGuardConfigEntry, event: AlertEvent) -> str | None:
    if not event.has_evidence:
        return None
    return evidence_path(entry.runtime_data.hub.engine_id, event.event_id, "strip.jpg")


def _folder(
    identifier: str | None,
    title: str,
    media_class: MediaClass,
    children: list[BrowseMediaSource] | None = None,
    *,
    thumbnail: str | None = None,
) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=media_class,
        media_content_type=MediaType.APP if identifier is None else "",
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.DIRECTORY if children else None,
        thumbnail=thumbnail,
    )
