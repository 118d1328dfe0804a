"""The engine: cameras, shared models, rules, the incident log and the message feed.

Everything the API, MQTT and the CLI show goes through :class:`Engine`; it owns the only
:class:`IncidentLog` and turns every alert transition into a stored change and a message.
Blocking work (model loading, SQLite, JPEG encoding) runs in worker threads so the event
loop keeps serving the API while cameras run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from detectors.annotate import annotate_jpeg, encode_jpeg
from detectors.config import CameraConfig, EngineConfig, camera_document, camera_from_json
from detectors.engine.evidence import fetch_evidence, scale_boxes
from detectors.engine.feed import MessageFeed
from detectors.engine.identity import engine_id
from detectors.engine.onvif_resolver import resolve_streams
from detectors.engine.sources import StreamResolver, build_source
from detectors.engine.state import ModeState, StateFiles
from detectors.engine.stream_roles import CameraStreams
from detectors.errors import (
    CameraConflictError,
    CameraNotFoundError,
    ConfigError,
    SchoolGuardError,
)
from detectors.incidents.aio import AsyncIncidentLog
from detectors.incidents.log import IncidentLog
from detectors.incidents.records import EventChange, ModelInfo
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.pipeline.motion import MotionGate
from detectors.pipeline.processor import FrameProcessor, Models, ProcessedFrame
from detectors.pipeline.reader import CameraReader, CameraStatus
from detectors.pipeline.sources import FrameSource, SourceOfflineError
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.pipeline.worker import CameraWorker
from detectors.protocol.codes import RESPONSE_MODES, RULE_NAMES, OfflineCode, ReasonCode
from detectors.protocol.engine import INFO
from detectors.protocol.errors import source_failure
from detectors.protocol.messages import (
    camera_message,
    camera_removed_message,
    event_message,
    mode_message,
)
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.schedule import ALWAYS, ALWAYS_SCHEDULE, NEVER, NEVER_SCHEDULE
from detectors.vision import load_detector, load_optional_fight_classifier, load_pose_estimator
from detectors.zoo.store import ModelStore

_LOGGER = logging.getLogger(__name__)

MOTION_HOLD_SECONDS = 5.0
HOUSEKEEPING_SECONDS = 1.0
PURGE_EVERY_SECONDS = 3600.0
type Origin = Literal["config", "api"]

__all__ = ["CameraConflictError", "CameraNotFoundError", "CameraRuntime", "Engine"]


@dataclass(slots=True)
class CameraRuntime:
    """One camera's running parts and what it currently shows.

    ``status_code`` is set when the engine itself decides the status (detection switched
    off, a source that cannot be built); a status from the camera's reader carries its
    own reason.
    """

    config: CameraConfig
    origin: Origin
    worker: CameraWorker | None = None
    starter: asyncio.Task[None] | None = None
    status: CameraStatus = field(init=False)
    status_code: ReasonCode | None = OfflineCode.STARTING
    person_count: int = 0
    open_alerts: dict[str, AlertTransition] = field(default_factory=dict)
    last_result: ProcessedFrame | None = None
    motion_at: float = 0.0
    motion_reported: bool = False
    streams: CameraStreams | None = None
    source: FrameSource | None = None

    def __post_init__(self) -> None:
        """A camera is "starting" until its reader or the engine says otherwise."""
        self.status = CameraStatus(self.config.id, False, "starting", 0.0, None)

    def set_status(self, status: CameraStatus, code: ReasonCode | None = None) -> None:
        """Record a new status; ``code`` when the engine (not the reader) decided it."""
        self.status = status
        self.status_code = code

    def current_status(self) -> CameraStatus:
        """The status now: live from the reader (its rates move), else the last one set."""
        if self.worker is None:
            return self.status
        return replace(self.worker.reader.status(), analysed_fps=self.worker.analysed_rate.rate())

    def rule_states(self) -> dict[str, bool]:
        """Whether each rule has an open alert on this camera."""
        active = {t.rule for t in self.open_alerts.values()}
        return {rule: rule in active for rule in RULE_NAMES}

    def motion_now(self, now: float | None = None) -> bool:
        """Whether a frame was analysed (the motion gate let one through) in the last 5 s."""
        return (now if now is not None else time.time()) - self.motion_at < MOTION_HOLD_SECONDS


class Engine:
    """One school's engine."""

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
        self._keep_latencies = keep_latencies
        self.config = config
        self.data_dir = data_dir
        self.store = store
        self.id = engine_id(data_dir)
        self.name = config.engine.name
        self.feed = MessageFeed()
        self.log = IncidentLog(data_dir / "incidents.db", clock=clock)
        """The incident log; code on the event loop uses :attr:`incidents`."""
        self.incidents = AsyncIncidentLog(self.log)
        self.state = StateFiles(data_dir)
        self._cursor = 0
        self.cameras: dict[str, CameraRuntime] = {}
        self.models: Models | None = None
        self.models_skipped: dict[str, dict[str, str]] = {}
        """Optional models configured but not loaded, with the reason (``/info``)."""
        self.runtime: InferenceRuntime | None = None
        self.mode: ModeState = {"mode": "normal", "drill": False, "changed_at": clock()}
        self.schedules = {ALWAYS: ALWAYS_SCHEDULE, NEVER: NEVER_SCHEDULE, **config.schedules}
        self._resolve_onvif = resolve_onvif or resolve_streams
        self.hardware = HardwareDecoders.detect()
        """What the host offers for video decoding (shown in ``/info``)."""
        self._clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listeners: list[Callable[[Mapping[str, object]], None]] = []
        self.on_secret: Callable[[str], None] | None = None
        """Called with every camera password the API adds, so logs can redact it."""
        self.started_at = clock()
        self._log_open = False

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Open the log, load the models, start every camera."""
        recovered = await self.incidents.open()
        self._cursor = await self.incidents.latest_cursor()
        self._log_open = True
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
        self.models = await asyncio.to_thread(self._load_models, self.runtime)
        switched = self.state.load_switches()
        for configured in self.config.cameras:
            enabled = switched.get(configured.id, configured.enabled)
            await self._start_camera(CameraRuntime(replace(configured, enabled=enabled), "config"))
        self._spawn(self._housekeeping())
        for camera in self.state.load_cameras(set(self.schedules)):
            if camera.id in self.cameras:
                _LOGGER.warning("camera %s from the API store shadows the config file", camera.id)
                continue
            await self._start_camera(CameraRuntime(camera, "api"))

    async def stop(self) -> None:
        """Stop every camera (ending open alerts), then close the log."""
        # All at once: each reader waits for its thread to leave a read (one frame time,
        # or the read timeout of a hung camera), and those waits need not add up.
        await asyncio.gather(
            *(self._stop_camera(camera_id, removed=False) for camera_id in list(self.cameras))
        )
        _LOGGER.info("every camera reader has stopped")
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.models is not None:
            self.models.close()
        self.feed.close()
        self._log_open = False
        await self.incidents.close()

    async def _housekeeping(self) -> None:
        """Every second: report motion that ended; every hour: purge old incidents.

        Motion is "a frame was analysed in the last 5 s", so it ends by time passing, not by
        a frame; without this a quiet camera would show motion until something else changed.
        """
        last_purge = float("-inf")
        retention = self.config.engine.retention_days * 86_400.0
        while True:
            now = self._clock()
            for runtime in list(self.cameras.values()):
                if runtime.motion_now(now) != runtime.motion_reported:
                    self._publish_camera(runtime)
            if now - last_purge >= PURGE_EVERY_SECONDS:
                last_purge = now
                purged = await self.incidents.purge(older_than_seconds=retention)
                if purged:
                    _LOGGER.info(
                        "retention: purged %d incidents older than %d days",
                        purged,
                        self.config.engine.retention_days,
                    )
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    def _load_models(self, runtime: InferenceRuntime) -> Models:
        names = self.config.models
        detector = load_detector(self.store.entry(names.detector), runtime, self.store)
        pose = None
        if names.pose is not None:
            pose = load_pose_estimator(self.store.entry(names.pose), runtime, self.store)
        weapon = None
        if names.weapon is not None:
            weapon = load_detector(self.store.entry(names.weapon), runtime, self.store)
        fight, skipped = load_optional_fight_classifier(
            names.fight, runtime, self.store, with_pose=pose is not None
        )
        if skipped is not None and names.fight is not None:
            _LOGGER.warning(
                "fight model %s %s: the fight rule judges by pose alone", names.fight, skipped
            )
            self.models_skipped["fight"] = {"name": names.fight, "reason": skipped}
        return Models(detector, pose, weapon, fight)

    # -- cameras -----------------------------------------------------------------

    def _rule_engine(self, camera: CameraConfig) -> RuleEngine:
        return RuleEngine(
            camera.id,
            camera.rules,
            camera.rule_zones(),
            camera.rule_lines(),
            self.schedules,
            masks=camera.masks,
            tz=self.config.engine.tz(),
        )

    async def _start_camera(self, runtime: CameraRuntime) -> None:
        camera = runtime.config
        self.cameras[camera.id] = runtime
        if not camera.enabled:
            runtime.set_status(
                CameraStatus(camera.id, False, "detection disabled", 0.0, None),
                OfflineCode.DISABLED,
            )
            self._publish_camera(runtime)
            return
        runtime.starter = asyncio.get_running_loop().create_task(self._run_camera(runtime))

    async def _run_camera(self, runtime: CameraRuntime) -> None:
        """Build the source (probing ONVIF cameras, retrying with back-off) and start."""
        camera = runtime.config
        delay = 5.0
        while True:
            try:
                source, runtime.streams = await build_source(
                    camera, self._resolve_onvif, self.hardware
                )
                runtime.source = source
                runtime.status_code = None  # the reader reports from here on
                break
            except Exception as err:  # any failure: offline with its reason, retried
                # A source library may refuse a URL the configuration accepted (a host name
                # that is not valid IDNA): the camera is offline with the reason, not stuck.
                reason = str(err) if isinstance(err, SchoolGuardError) else f"{camera.id}: {err}"
                runtime.set_status(
                    CameraStatus(camera.id, False, reason, 0.0, None), source_failure(err)
                )
                self._publish_camera(runtime)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 120.0)
        assert self.models is not None
        processor = FrameProcessor(camera.id, self.models, self._rule_engine(camera))

        def on_status(status: CameraStatus) -> None:
            runtime.set_status(status)
            self._publish_camera(runtime)

        reader = CameraReader(
            camera.id, source, timeout_s=camera.timeout_seconds, on_status=on_status
        )
        runtime.worker = CameraWorker(
            reader,
            processor,
            detect_fps=camera.detect_fps,
            motion=MotionGate(),
            on_result=lambda result: self._on_result(runtime, result),
            keep_latencies=self._keep_latencies,
        )
        await runtime.worker.start()

    async def _stop_camera(self, camera_id: str, *, removed: bool) -> None:
        """Stop a camera's worker, ending its open alerts.

        Only a real removal tells clients ``camera_removed``: a restart for a changed
        configuration must not make Home Assistant delete the camera's device.
        """
        runtime = self.cameras.pop(camera_id)
        if runtime.starter is not None:
            runtime.starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runtime.starter
        if runtime.worker is not None:
            await runtime.worker.stop()
            now = self._clock()
            for transition in runtime.worker.processor.close(now):
                await self._record(runtime, transition, None)
        if removed:
            self._broadcast(camera_removed_message(camera_id, self.cursor()))

    async def add_camera(self, body: object) -> CameraRuntime:
        """Add a camera from an API body; persisted in the data directory."""
        camera = camera_from_json(body, schedules=set(self.schedules))
        if self.on_secret is not None and camera.source.password:
            self.on_secret(camera.source.password)
        if camera.id in self.cameras:
            raise CameraConflictError(f"camera {camera.id!r} exists already")
        runtime = CameraRuntime(camera, "api")
        await self._start_camera(runtime)
        self._save_api_cameras()
        return runtime

    async def update_camera(self, camera_id: str, patch: Mapping[str, object]) -> CameraRuntime:
        """Change a camera (restarts it).

        Cameras from the configuration file accept only ``enabled``: switching detection
        off from Home Assistant must work for every camera, but the file stays the one
        place their settings live. The switch is kept in the data directory so it survives
        an engine restart.
        """
        current = self.camera(camera_id)
        if "id" in patch and patch["id"] != camera_id:
            raise ConfigError("id: a camera's id cannot change")
        if current.origin == "config" and set(patch) - {"enabled"}:
            raise CameraConflictError(
                f"camera {camera_id!r} is defined in the configuration file; edit it there "
                "(only 'enabled' can be changed through the API)"
            )
        merged = camera_document(current.config, include_secrets=True) | dict(patch)
        camera = camera_from_json(merged, schedules=set(self.schedules))
        if current.origin == "config":
            camera = replace(current.config, enabled=camera.enabled)
        await self._stop_camera(camera_id, removed=False)
        runtime = CameraRuntime(camera, current.origin)
        await self._start_camera(runtime)
        if current.origin == "config":
            self.state.save_switch(camera_id, camera.enabled)
        else:
            self._save_api_cameras()
        return runtime

    async def remove_camera(self, camera_id: str) -> None:
        """Remove a camera added through the API."""
        if self.camera(camera_id).origin == "config":
            raise CameraConflictError(
                f"camera {camera_id!r} is defined in the configuration file; remove it there"
            )
        await self._stop_camera(camera_id, removed=True)
        self._save_api_cameras()

    def camera(self, camera_id: str) -> CameraRuntime:
        """The running camera ``camera_id``."""
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise CameraNotFoundError(f"no camera {camera_id!r}") from None

    def _save_api_cameras(self) -> None:
        self.state.save_cameras(c.config for c in self.cameras.values() if c.origin == "api")

    async def snapshot(self, camera_id: str, *, annotated: bool) -> bytes | None:
        """The camera's newest frame as JPEG (with the last detections drawn if asked)."""
        runtime = self.camera(camera_id)
        if runtime.worker is None:
            return None
        item = runtime.worker.reader.slot.peek()
        image = item.frame.image if item is not None else None
        result = runtime.last_result
        if image is None and result is not None:
            image = result.image
        if image is None:
            return None
        if not annotated or result is None:
            return await asyncio.to_thread(encode_jpeg, image)
        boxes = [(d.box, f"{d.label} {d.score:.2f}") for d in result.analysis.detections]
        return await asyncio.to_thread(annotate_jpeg, image, boxes)

    # -- results and alerts ------------------------------------------------------

    def _on_result(self, runtime: CameraRuntime, result: ProcessedFrame) -> None:
        if result.image is not None:
            runtime.last_result = result
            runtime.motion_at = self._clock()
        changed = result.person_count != runtime.person_count or not runtime.motion_reported
        runtime.person_count = result.person_count
        for transition in result.transitions:
            self._spawn(self._record(runtime, transition, result))
        if changed:
            self._publish_camera(runtime)

    def _model_info(self, transition: AlertTransition) -> ModelInfo:
        """The model that decided: the fight model for a fight it judged, else the detector."""
        assert self.models is not None
        assert self.runtime is not None
        entry = self.models.detector.entry
        judged = transition.detail.get("method") in ("both", "model")
        if transition.rule == "fight" and judged and self.models.fight is not None:
            entry = self.models.fight.entry
        return ModelInfo(
            entry.name, entry.version, self.runtime.settings.device, self.runtime.settings.precision
        )

    async def _record(
        self, runtime: CameraRuntime, transition: AlertTransition, result: ProcessedFrame | None
    ) -> EventChange | None:
        """Store one alert step (with an annotated snapshot) and tell every client.

        Returns the stored change, or None when the log refused the step.
        """
        camera = runtime.config
        snapshot = None
        if result is not None and result.image is not None and transition.state != "ended":
            boxes = [(box, transition.rule) for box in transition.boxes]
            snapshot = await asyncio.to_thread(annotate_jpeg, result.image, boxes)
        try:
            if transition.state == "started":
                runtime.open_alerts[transition.alert_id] = transition
                thresholds = self._thresholds(runtime).get(transition.rule, {})
                change = await self.incidents.record_start(
                    event_id=transition.alert_id,
                    camera_id=camera.id,
                    camera_name=camera.name,
                    location=camera.location,
                    rule=transition.rule,
                    zone=transition.zone,
                    at=transition.timestamp,
                    confidence=transition.confidence,
                    scores=transition.scores,
                    boxes=transition.boxes,
                    drill=transition.drill,
                    model=self._model_info(transition),
                    thresholds=thresholds,
                    snapshot_jpeg=snapshot,
                    detail=transition.detail,
                )
            elif transition.state == "updated":
                change = await self.incidents.record_update(
                    transition.alert_id,
                    at=transition.timestamp,
                    confidence=transition.confidence,
                    scores=transition.scores,
                    boxes=transition.boxes,
                    snapshot_jpeg=snapshot,
                )
            else:
                runtime.open_alerts.pop(transition.alert_id, None)
                change = await self.incidents.record_end(
                    transition.alert_id, at=transition.timestamp
                )
        except SchoolGuardError as err:
            # A person dismissed the alert while the rule still saw it: the log refuses
            # further steps of a dismissed alert, and that is right.
            runtime.open_alerts.pop(transition.alert_id, None)
            _LOGGER.info("alert %s: %s", transition.alert_id, err)
            self._publish_camera(runtime)
            return None
        self._publish_change(change)
        self._publish_camera(runtime)
        if transition.state == "started" and result is not None:
            self._spawn(self._attach_evidence(runtime, transition, result))
        return change

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run ``work`` in the background; :meth:`stop` cancels what is left."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attach_evidence(
        self, runtime: CameraRuntime, transition: AlertTransition, result: ProcessedFrame
    ) -> None:
        """Fetch the sharp picture of a starting alert and make it the event's snapshot."""
        streams = runtime.streams
        if streams is None or streams.snapshot_from == "frame" or result.image is None:
            return
        try:
            image = await fetch_evidence(runtime.config, streams, hardware=self.hardware)
        except (SourceOfflineError, OSError) as err:
            _LOGGER.warning("camera %s: no evidence snapshot (%s)", runtime.config.id, err)
            return
        if image is None:
            return
        analysed = (int(result.image.shape[1]), int(result.image.shape[0]))
        evidence = (int(image.shape[1]), int(image.shape[0]))
        boxes = [
            (box, transition.rule) for box in scale_boxes(transition.boxes, analysed, evidence)
        ]
        jpeg = await asyncio.to_thread(annotate_jpeg, image, boxes)
        change = await self.incidents.attach_evidence(transition.alert_id, jpeg, at=self._clock())
        if change is not None:
            self._publish_change(change)

    def _thresholds(self, runtime: CameraRuntime) -> dict[str, dict[str, object]]:
        if runtime.worker is None:
            return {}
        return runtime.worker.processor.rules.thresholds()

    def _broadcast(self, message: Mapping[str, object]) -> None:
        """Every engine message goes to WebSocket clients and to the listeners (MQTT)."""
        self.feed.publish(message)
        for listener in self._listeners:
            listener(message)

    def _publish_change(self, change: EventChange) -> None:
        self._cursor = max(self._cursor, change.cursor)
        self._broadcast(event_message(change))

    def _publish_camera(self, runtime: CameraRuntime) -> None:
        runtime.motion_reported = runtime.motion_now(self._clock())
        self._broadcast(camera_message(runtime, self.cursor()))

    def cursor(self) -> int:
        """The newest event cursor (0 before the log is open).

        Kept in memory from every change the engine publishes, so stamping a message never
        reads SQLite on the event loop; a change being written may not count yet, so a
        client starting from it at worst sees that change once more.
        """
        return self._cursor if self._log_open else 0

    def add_listener(self, listener: Callable[[Mapping[str, object]], None]) -> None:
        """Also hand every message to ``listener`` (the MQTT publisher)."""
        self._listeners.append(listener)

    async def acknowledge(self, event_id: str, by: str, note: str) -> EventChange:
        """A person saw the alert and is on it."""
        change = await self.incidents.acknowledge(event_id, by=by, note=note)
        self._publish_change(change)
        return change

    async def record_notified(
        self, event_id: str, recipients: Sequence[str], channel: str, by: str
    ) -> EventChange:
        """A client told people about the alert (a page, an announcement); kept for review."""
        change = await self.incidents.record_notified(
            event_id, recipients=recipients, channel=channel, by=by
        )
        self._publish_change(change)
        return change

    async def dismiss(self, event_id: str, by: str, reason: str) -> EventChange:
        """A person judged the alert false; every client is told."""
        change = await self.incidents.dismiss(event_id, by=by, reason=reason)
        for runtime in self.cameras.values():
            if runtime.open_alerts.pop(event_id, None) is not None:
                self._publish_camera(runtime)
        self._publish_change(change)
        return change

    async def test_alert(self, camera_id: str, rule: str, *, seconds: float = 10.0) -> EventChange:
        """A drill alert through every output; always marked as a drill, ended after ``seconds``."""
        runtime = self.camera(camera_id)
        if rule not in RULE_NAMES:
            raise ConfigError(f"rule: unknown rule {rule!r} (known: {', '.join(RULE_NAMES)})")
        now = self._clock()
        transition = AlertTransition(
            alert_id=uuid.uuid4().hex,
            camera_id=camera_id,
            rule=rule,
            zone=None,
            state="started",
            timestamp=now,
            started_at=now,
            confidence=1.0,
            scores=(1.0,),
            drill=True,
            detail={"test_alert": True},
        )
        change = await self._record(runtime, transition, runtime.last_result)
        assert change is not None, "a new drill id is never refused by the log"

        async def end_later() -> None:
            await asyncio.sleep(seconds)
            ended = replace(transition, state="ended", timestamp=self._clock())
            if (await self.incidents.get(transition.alert_id)).active:
                await self._record(runtime, ended, None)

        self._spawn(end_later())
        return change

    # -- mode --------------------------------------------------------------------

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
        self._broadcast(mode_message(self.mode, self.cursor()))
        return self.mode

    # -- info --------------------------------------------------------------------

    def info(self) -> dict[str, object]:
        """``GET /info``: who this engine is and what it runs."""
        return INFO.build(self)
