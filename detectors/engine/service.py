"""The engine: its lifecycle, shared models, response mode and ``/info``.

Everything the API, MQTT and the CLI show goes through :class:`Engine`. It owns the only
incident log and composes the parts that do the work: the camera registry
(:mod:`.cameras`), the alert recorder (:mod:`.alerts`) and the outbox every message leaves
through (:mod:`.outbox`). Blocking work (model loading, SQLite, JPEG encoding) runs in
worker threads so the event loop keeps serving the API while cameras run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from detectors.config import EngineConfig, SourceConfig
from detectors.engine.alerts import AlertRecorder
from detectors.engine.cameras import CameraContext, CameraRegistry, CameraRuntime
from detectors.engine.evidence_clips import EvidenceWriter
from detectors.engine.feed import MessageFeed
from detectors.engine.identity import engine_id
from detectors.engine.model_loading import load_models
from detectors.engine.onvif_resolver import resolve_streams
from detectors.engine.outbox import Listener, Outbox
from detectors.engine.source_limits import SourceLimits
from detectors.engine.sources import StreamResolver
from detectors.engine.state import ModeState, StateFiles
from detectors.engine.stream_roles import CameraStreams
from detectors.errors import CameraConflictError, CameraNotFoundError, ConfigError
from detectors.incidents.aio import AsyncIncidentLog
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import EventChange, EventRecord, ModelInfo
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.pipeline.processor import Models
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.protocol.codes import RESPONSE_MODES
from detectors.protocol.engine import INFO
from detectors.protocol.report import ReportSummary
from detectors.report.document import Period
from detectors.report.numbers import totals
from detectors.report.source import read_incidents
from detectors.rules.confirmation import AlertTransition
from detectors.schedule import ALWAYS, ALWAYS_SCHEDULE, NEVER, NEVER_SCHEDULE
from detectors.zoo.store import ModelStore

_LOGGER = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 1.0
PURGE_EVERY_SECONDS = 3600.0

__all__ = ["CameraConflictError", "CameraNotFoundError", "CameraRuntime", "Engine"]


class Engine:
    """One school's engine (it is what :class:`detectors.engine.interface.EngineService` asks)."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        data_dir: Path,
        store: ModelStore,
        resolve_onvif: StreamResolver | None = None,
        clock: Callable[[], float] = time.time,
        keep_latencies: bool = False,
    ) -> None:
        """Prepare (nothing runs until :meth:`start`).

        ``keep_latencies`` makes every camera worker keep each analysed frame's latency
        (``bench --capacity``; memory grows with time, so not for a school's engine).
        """
        self.config = config
        self.data_dir = data_dir
        self.store = store
        self.id = engine_id(data_dir)
        self.name = config.engine.name
        self.started_at = clock()
        self.log = IncidentLog(data_dir / "incidents.db", clock=clock)
        """The incident log; code on the event loop uses :attr:`incidents`."""
        self.incidents = AsyncIncidentLog(self.log)
        self.state = StateFiles(data_dir)
        self.outbox = Outbox(MessageFeed())
        self.models: Models | None = None
        self.models_skipped: dict[str, dict[str, str]] = {}
        """Optional models configured but not loaded, with the reason (``/info``)."""
        self.runtime: InferenceRuntime | None = None
        self.mode: ModeState = {"mode": "normal", "drill": False, "changed_at": clock()}
        self.schedules = {ALWAYS: ALWAYS_SCHEDULE, NEVER: NEVER_SCHEDULE, **config.schedules}
        self.limits = SourceLimits.of(config.security)
        self._resolve_onvif = resolve_onvif or partial(
            resolve_streams, networks=self.limits.networks
        )
        self.hardware = HardwareDecoders.detect()
        """What the host offers for video decoding (shown in ``/info``)."""
        self._clock = clock
        self.cameras: dict[str, CameraRuntime] = {}
        """The running cameras by id (the registry's; read-only for everyone else)."""
        self.clips = EvidenceWriter(
            self.incidents, self.outbox.event, config.evidence, tz=config.engine.tz(), clock=clock
        )
        """Every alert's clip and keyframe strip, from each camera's frame ring."""
        self.alerts = AlertRecorder(
            self.incidents,
            self.outbox,
            self.cameras,
            model_info=self._model_info,
            clock=clock,
            hardware=self.hardware,
            clips=self.clips,
        )
        context = CameraContext(
            models=lambda: self.models,
            schedules=self.schedules,
            tz=config.engine.tz(),
            resolve_onvif=self._resolve_stream,
            clock=clock,
            hardware=self.hardware,
            keep_latencies=keep_latencies,
            limits=self.limits,
            feeder=self.clips.feeder,
        )
        self.registry = CameraRegistry(self.cameras, context, self.outbox, self.alerts, self.state)
        self._housekeeper: asyncio.Task[None] | None = None

    async def _resolve_stream(self, source: SourceConfig) -> CameraStreams:
        """The stream of an ONVIF camera (the resolver is read at each start, so it may change)."""
        return await self._resolve_onvif(source)

    @property
    def feed(self) -> MessageFeed:
        """The WebSocket fan-out."""
        return self.outbox.feed

    @property
    def on_secret(self) -> Callable[[str], None] | None:
        """Called with every camera password the API adds, so logs can redact it."""
        return self.registry.on_secret

    @on_secret.setter
    def on_secret(self, callback: Callable[[str], None] | None) -> None:
        self.registry.on_secret = callback

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Open the log, load the models, start every camera."""
        recovered = await self.incidents.open()
        self.outbox.open(await self.incidents.latest_cursor())
        for change in recovered:
            _LOGGER.info("event %s closed after an engine restart", change.event_id)
        self._load_mode()
        settings = self.config.inference
        self.runtime = InferenceRuntime(
            InferenceSettings(
                device=settings.device,
                precision=settings.precision,
                performance=settings.performance,
                requests=settings.requests,
                threads=settings.threads,
            )
        )
        self.models = await asyncio.to_thread(
            load_models, self.config.models, self.store, self.runtime, self.models_skipped
        )
        await self.registry.start(self.config.cameras)
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping())

    async def stop(self) -> None:
        """Stop every camera (ending open alerts), then close the log."""
        await self.registry.stop()
        await self.alerts.stop()
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeper
        if self.models is not None:
            self.models.close()
        self.outbox.close()
        await self.incidents.close()

    async def _housekeeping(self) -> None:
        """Every second: report motion that ended; every hour: purge old incidents.

        Motion is "a frame was analysed in the last 5 s", so it ends by time passing, not by
        a frame; without this a quiet camera would show motion until something else changed.
        """
        last_purge = float("-inf")
        days = self.config.engine.retention_days
        while True:
            self.registry.report_motion()
            now = self._clock()
            if now - last_purge >= PURGE_EVERY_SECONDS:
                last_purge = now
                purged = await self.incidents.purge(older_than_seconds=days * 86_400.0)
                if purged:
                    _LOGGER.info("retention: purged %d incidents older than %d days", purged, days)
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    def _model_info(self, transition: AlertTransition) -> ModelInfo:
        """The model that decided: the fight model for a fight it judged, else the detector."""
        assert self.models is not None
        assert self.runtime is not None
        entry = self.models.detector.entry
        judged = transition.detail.get("method") in ("both", "model")
        if transition.rule == "fight" and judged and self.models.fight is not None:
            entry = self.models.fight.entry
        settings = self.runtime.settings
        return ModelInfo(entry.name, entry.version, settings.device, settings.precision)

    # -- what the API asks (detectors.engine.interface.EngineService) --------------

    def cursor(self) -> int:
        """The newest event cursor (0 before the log is open)."""
        return self.outbox.cursor()

    def add_listener(self, listener: Listener) -> None:
        """Also hand every message to ``listener`` (the MQTT bridge)."""
        self.outbox.add_listener(listener)

    def camera(self, camera_id: str) -> CameraRuntime:
        """The running camera ``camera_id``."""
        return self.registry.camera(camera_id)

    async def add_camera(self, body: object) -> CameraRuntime:
        """Add a camera from an API body; persisted in the data directory."""
        return await self.registry.add(body)

    async def update_camera(self, camera_id: str, patch: Mapping[str, object]) -> CameraRuntime:
        """Change a camera (restarts it; configuration-file cameras: ``enabled`` only)."""
        return await self.registry.update(camera_id, patch)

    async def remove_camera(self, camera_id: str) -> None:
        """Remove a camera added through the API."""
        await self.registry.remove(camera_id)

    async def snapshot(self, camera_id: str, *, annotated: bool) -> bytes | None:
        """The camera's newest frame as JPEG (with the last detections drawn if asked)."""
        return await self.registry.snapshot(camera_id, annotated=annotated)

    async def changes_since(self, cursor: int, limit: int = 500) -> list[EventChange]:
        """Event changes after ``cursor``, oldest first (read off the event loop)."""
        return await self.incidents.changes_since(cursor, limit)

    async def incidents_between(
        self,
        *,
        start: float | None,
        end: float | None,
        camera_id: str | None,
        rule: str | None,
        limit: int,
    ) -> list[EventRecord]:
        """Events that started in ``[start, end)``, newest first (the media browser's days)."""
        return await self.incidents.events(
            start=start, end=end, camera_id=camera_id, rule=rule, limit=limit
        )

    async def event(self, event_id: str) -> EventRecord:
        """One event of the incident log."""
        return await self.incidents.get(event_id)

    def _report_period(self, days: int) -> Period:
        end = self._clock()
        zone = datetime.now().astimezone().tzinfo or UTC
        return Period(end - days * 86_400.0, end, zone)

    async def report_summary(self, days: int) -> ReportSummary:
        """The after-action numbers of the last ``days`` days, read off the event loop."""
        period = self._report_period(days)
        incidents = await asyncio.to_thread(
            read_incidents, self.log.path, start=period.start, end=period.end, snapshots=False
        )
        return ReportSummary(days, period.start, period.end, totals(incidents, period.zone))

    async def report_html(self, days: int) -> str:
        """The after-action report page of the last ``days`` days (docs/reports.md)."""
        from detectors.report.render import report_html  # matplotlib: only when asked

        period = self._report_period(days)

        def build() -> str:
            incidents = read_incidents(self.log.path, start=period.start, end=period.end)
            return report_html(incidents, period)

        return await asyncio.to_thread(build)

    async def event_snapshot(self, event_id: str) -> bytes | None:
        """The event's best snapshot (None when it has none; unknown ids raise)."""
        return await self.incidents.snapshot(event_id)

    async def event_evidence(self, event_id: str, kind: Literal["clip", "strip"]) -> bytes | None:
        """The event's clip (MP4) or keyframe strip (JPEG); None until it is written."""
        return await self.incidents.evidence(event_id, kind)

    async def acknowledge(self, event_id: str, by: str, note: str) -> EventChange:
        """A person saw the alert and is on it."""
        return await self.alerts.acknowledge(event_id, by, note)

    async def record_notified(
        self, event_id: str, recipients: Sequence[str], channel: str, by: str
    ) -> EventChange:
        """A client told people about the alert (a page, an announcement); kept for review."""
        return await self.alerts.record_notified(event_id, recipients, channel, by)

    async def dismiss(self, event_id: str, by: str, reason: str) -> EventChange:
        """A person judged the alert false; every client is told."""
        return await self.alerts.dismiss(event_id, by, reason)

    async def record_action(self, event_id: str, body: Mapping[str, Any]) -> EventChange:
        """A client took a response step; kept on the incident's timeline."""
        return await self.alerts.record_action(event_id, body)

    async def test_alert(self, camera_id: str, rule: str, *, seconds: float = 10.0) -> EventChange:
        """A drill alert through every output; always marked as a drill, ended after ``seconds``."""
        return await self.alerts.test_alert(self.camera(camera_id), rule, seconds=seconds)

    # -- mode and info -------------------------------------------------------------

    def _load_mode(self) -> None:
        saved = self.state.load_mode()
        if saved is not None:
            self.mode = saved

    def set_mode(self, mode: str, drill: bool) -> ModeState:
        """Set the response mode (Standard Response Protocol) and tell every client."""
        if mode not in RESPONSE_MODES:
            raise ConfigError(f"mode: {mode!r} is not one of {', '.join(RESPONSE_MODES)}")
        self.mode = {"mode": mode, "drill": drill, "changed_at": self._clock()}
        self.state.save_mode(self.mode)
        self.outbox.mode(self.mode)
        return self.mode

    def info(self) -> dict[str, object]:
        """``GET /info``: who this engine is and what it runs."""
        return INFO.build(self)
