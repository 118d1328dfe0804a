"""What the engine API needs from the engine: a small interface, not the engine's fields.

The API (:mod:`.api`) is written against :class:`EngineService` only, so the engine's
inside (its registry, recorder and log) can change without touching a route, and what a
route may do is visible here in one page. :class:`detectors.engine.service.Engine`
implements it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from detectors.engine.feed import MessageFeed
from detectors.engine.source_limits import SourceLimits
from detectors.engine.state import ModeState
from detectors.incidents.records import EventChange, EventRecord
from detectors.protocol.cameras import LiveCamera
from detectors.protocol.report import ReportSummary


class EngineService(Protocol):
    """The engine as the API sees it."""

    @property
    def id(self) -> str:
        """The engine's stable id."""
        ...

    @property
    def feed(self) -> MessageFeed:
        """The WebSocket fan-out (subscribe per connection)."""
        ...

    @property
    def cameras(self) -> Mapping[str, LiveCamera]:
        """The running cameras by id."""
        ...

    @property
    def limits(self) -> SourceLimits:
        """What cameras may make the engine open (probe and discovery targets too)."""
        ...

    @property
    def mode(self) -> ModeState:
        """The response mode."""
        ...

    def cursor(self) -> int:
        """The newest event cursor."""
        ...

    def info(self) -> dict[str, object]:
        """``GET /info``'s answer."""
        ...

    def camera(self, camera_id: str) -> LiveCamera:
        """One camera (``CameraNotFoundError`` when there is none)."""
        ...

    async def add_camera(self, body: object) -> LiveCamera:
        """Add a camera from an API body."""
        ...

    async def update_camera(self, camera_id: str, patch: Mapping[str, object]) -> LiveCamera:
        """Change a camera."""
        ...

    async def remove_camera(self, camera_id: str) -> None:
        """Remove a camera added through the API."""
        ...

    async def snapshot(self, camera_id: str, *, annotated: bool) -> bytes | None:
        """The camera's newest frame as JPEG."""
        ...

    async def changes_since(self, cursor: int, limit: int = 500) -> list[EventChange]:
        """Event changes after ``cursor``."""
        ...

    async def incidents_between(
        self,
        *,
        start: float | None,
        end: float | None,
        camera_id: str | None,
        rule: str | None,
        limit: int,
    ) -> list[EventRecord]:
        """Events that started in ``[start, end)``, newest first, filtered."""
        ...

    async def event(self, event_id: str) -> EventRecord:
        """One event."""
        ...

    async def report_summary(self, days: int) -> ReportSummary:
        """The after-action numbers of the last ``days`` days."""
        ...

    async def report_html(self, days: int) -> str:
        """The after-action report of the last ``days`` days as an HTML page."""
        ...

    async def event_snapshot(self, event_id: str) -> bytes | None:
        """An event's best snapshot."""
        ...

    async def event_evidence(self, event_id: str, kind: Literal["clip", "strip"]) -> bytes | None:
        """An event's clip (MP4) or keyframe strip (JPEG); None while not written."""
        ...

    async def acknowledge(self, event_id: str, by: str, note: str) -> EventChange:
        """A person saw the alert."""
        ...

    async def dismiss(self, event_id: str, by: str, reason: str) -> EventChange:
        """A person judged the alert false."""
        ...

    async def record_notified(
        self, event_id: str, recipients: Sequence[str], channel: str, by: str
    ) -> EventChange:
        """A client told people about the alert."""
        ...

    async def record_action(self, event_id: str, body: Mapping[str, Any]) -> EventChange:
        """A client took a response step (a validated ``POST /events/{id}/actions`` body)."""
        ...

    async def test_alert(self, camera_id: str, rule: str, *, seconds: float = 10.0) -> EventChange:
        """A drill alert."""
        ...

    def set_mode(self, mode: str, drill: bool) -> ModeState:
        """Set the response mode."""
        ...
