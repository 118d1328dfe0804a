"""The engine's cameras: what each one shows now, and starting, changing and stopping them.

A camera comes from the configuration file (``origin`` ``config``: only its detection
switch can change, kept in ``camera_switches.json``) or from the API (``api``: kept with
its credentials in ``cameras.json``). Each running camera has a reader and a detection
loop; its results go to the alert recorder, its state changes to the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from detectors.annotate import annotate_jpeg, encode_jpeg
from detectors.config import (
    CameraConfig,
    camera_from_json,
    patched_camera_document,
)
from detectors.engine.evidence_clips import RingFeeder
from detectors.engine.outbox import Outbox
from detectors.engine.source_limits import SourceLimits
from detectors.engine.sources import StreamResolver, build_source
from detectors.engine.state import StateFiles
from detectors.engine.stream_roles import CameraStreams
from detectors.errors import CameraConflictError, CameraNotFoundError, ConfigError, SchoolGuardError
from detectors.pipeline.motion import MotionGate
from detectors.pipeline.processor import FrameProcessor, Models, ProcessedFrame
from detectors.pipeline.reader import CameraReader, CameraStatus
from detectors.pipeline.sources import FrameSource
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.pipeline.worker import CameraWorker
from detectors.protocol.codes import RULE_NAMES, OfflineCode, ReasonCode
from detectors.protocol.errors import source_failure
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.schedule import Schedule

_LOGGER = logging.getLogger(__name__)

MOTION_HOLD_SECONDS = 5.0
COUNT_PUBLISH_SECONDS = 1.0
"""A camera's changed person count goes out at most this often; the newest count is sent
when the interval ends. In a busy hallway the count changes on most analysed frames: five
messages a second per camera would become five Home Assistant state writes (recorder rows,
frontend updates) a second per camera, for a number people read at a glance."""
SOURCE_RETRY_SECONDS = (5.0, 120.0)
"""First and longest wait before building a failed source again (doubling in between)."""

type Origin = Literal["config", "api"]


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
    published_at: float = float("-inf")
    count_pending: bool = False
    """The person count changed since clients were last told."""
    streams: CameraStreams | None = None
    source: FrameSource | None = None
    feeder: RingFeeder | None = None
    """The camera's last analysed seconds (JPEG) for alert clips; None before it runs."""

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

    def thresholds(self) -> dict[str, dict[str, object]]:
        """Each rule's settings in force (empty until the detection loop runs)."""
        return {} if self.worker is None else self.worker.processor.rules.thresholds()


class Recorder(Protocol):
    """Where a camera's alert transitions go (the engine's alert recorder)."""

    def record(
        self, runtime: CameraRuntime, transition: AlertTransition, result: ProcessedFrame | None
    ) -> Awaitable[object]:
        """Store one alert step and tell every client."""
        ...


@dataclass(frozen=True, slots=True)
class CameraContext:
    """What every camera needs from the engine: its models, schedules and clock."""

    models: Callable[[], Models | None]
    schedules: Mapping[str, Schedule]
    tz: Any
    resolve_onvif: StreamResolver
    clock: Callable[[], float]
    hardware: HardwareDecoders
    """What the host offers for video decoding."""
    keep_latencies: bool = False
    """Keep each analysed frame's latency (``bench --capacity``; memory grows)."""
    limits: SourceLimits = field(default_factory=SourceLimits)
    """What a camera's source may open (``security`` in the configuration)."""
    feeder: Callable[[], RingFeeder] | None = None
    """A new camera's frame ring for alert clips (None: no clips, as in some tools)."""


class CameraRegistry:
    """The running cameras: add, change, remove, and each one's detection loop."""

    def __init__(
        self,
        cameras: dict[str, CameraRuntime],
        context: CameraContext,
        outbox: Outbox,
        recorder: Recorder,
        state: StateFiles,
    ) -> None:
        """Run cameras into ``cameras`` (the engine's dict, shared with the recorder)."""
        self.cameras = cameras
        self._context = context
        self._outbox = outbox
        self._recorder = recorder
        self._state = state
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_secret: Callable[[str], None] | None = None
        """Called with every camera password the API adds, so logs can redact it."""

    # -- the whole set ---------------------------------------------------------------------

    async def start(self, configured: tuple[CameraConfig, ...]) -> None:
        """Start the configuration file's cameras (switches applied), then the API's."""
        switched = self._state.load_switches()
        for camera in configured:
            enabled = switched.get(camera.id, camera.enabled)
            await self._start(CameraRuntime(replace(camera, enabled=enabled), "config"))
        for camera in self._state.load_cameras(set(self._context.schedules)):
            if camera.id in self.cameras:
                _LOGGER.warning("camera %s from the API store shadows the config file", camera.id)
                continue
            await self._start(CameraRuntime(camera, "api"))

    async def stop(self) -> None:
        """Stop every camera (ending its open alerts) and the recording tasks."""
        # All at once: each reader waits for its thread to leave a read (one frame time,
        # or the read timeout of a hung camera), and those waits need not add up.
        await asyncio.gather(
            *(self._stop(camera_id, removed=False) for camera_id in list(self.cameras))
        )
        _LOGGER.info("every camera reader has stopped")
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def camera(self, camera_id: str) -> CameraRuntime:
        """The running camera ``camera_id``."""
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise CameraNotFoundError(f"no camera {camera_id!r}") from None

    # -- changes through the API -----------------------------------------------------------

    async def add(self, body: object) -> CameraRuntime:
        """Add a camera from an API body; persisted in the data directory."""
        camera = camera_from_json(body, schedules=set(self._context.schedules))
        if self.on_secret is not None and camera.source.password:
            self.on_secret(camera.source.password)
        if camera.id in self.cameras:
            raise CameraConflictError(f"camera {camera.id!r} exists already")
        await self._context.limits.admit(camera)
        runtime = CameraRuntime(camera, "api")
        await self._start(runtime)
        self._save_api_cameras()
        return runtime

    async def update(self, camera_id: str, patch: Mapping[str, object]) -> CameraRuntime:
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
        merged = patched_camera_document(current.config, patch)
        camera = camera_from_json(merged, schedules=set(self._context.schedules))
        if current.origin == "config":
            camera = replace(current.config, enabled=camera.enabled)
        else:
            await self._context.limits.admit(camera)
        await self._stop(camera_id, removed=False)
        runtime = CameraRuntime(camera, current.origin)
        await self._start(runtime)
        if current.origin == "config":
            self._state.save_switch(camera_id, camera.enabled)
        else:
            self._save_api_cameras()
        return runtime

    async def remove(self, camera_id: str) -> None:
        """Remove a camera added through the API."""
        if self.camera(camera_id).origin == "config":
            raise CameraConflictError(
                f"camera {camera_id!r} is defined in the configuration file; remove it there"
            )
        await self._stop(camera_id, removed=True)
        self._save_api_cameras()

    def _save_api_cameras(self) -> None:
        self._state.save_cameras(c.config for c in self.cameras.values() if c.origin == "api")

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

    # -- one camera's life -----------------------------------------------------------------

    async def _start(self, runtime: CameraRuntime) -> None:
        camera = runtime.config
        self.cameras[camera.id] = runtime
        if not camera.enabled:
            runtime.set_status(
                CameraStatus(camera.id, False, "detection disabled", 0.0, None),
                OfflineCode.DISABLED,
            )
            self.publish(runtime)
            return
        runtime.starter = asyncio.get_running_loop().create_task(self._run(runtime))

    async def _run(self, runtime: CameraRuntime) -> None:
        """Build the source (probing ONVIF cameras, retrying with back-off) and start."""
        camera = runtime.config
        delay, longest = SOURCE_RETRY_SECONDS
        while True:
            try:
                limits = self._context.limits
                await limits.before_connect(camera, from_api=runtime.origin == "api")
                source, runtime.streams = await build_source(
                    camera, self._context.resolve_onvif, self._context.hardware
                )
                await limits.check_streams(camera, runtime.streams)
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
                self.publish(runtime)
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
        models = self._context.models()
        assert models is not None, "cameras start after the models are loaded"
        processor = FrameProcessor(camera.id, models, self._rule_engine(camera))

        def on_status(status: CameraStatus) -> None:
            runtime.set_status(status)
            self.publish(runtime)

        reader = CameraReader(
            camera.id, source, timeout_s=camera.timeout_seconds, on_status=on_status
        )
        if self._context.feeder is not None:
            runtime.feeder = self._context.feeder()
        runtime.worker = CameraWorker(
            reader,
            processor,
            detect_fps=camera.detect_fps,
            motion=MotionGate(keep_watching=processor.watching),
            on_result=lambda result: self._on_result(runtime, result),
            keep_latencies=self._context.keep_latencies,
        )
        await runtime.worker.start()

    def _rule_engine(self, camera: CameraConfig) -> RuleEngine:
        return RuleEngine(
            camera.id,
            camera.rules,
            camera.zones,
            camera.lines,
            self._context.schedules,
            masks=camera.masks,
            tz=self._context.tz,
        )

    async def _stop(self, camera_id: str, *, removed: bool) -> None:
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
            now = self._context.clock()
            for transition in runtime.worker.processor.close(now):
                await self._recorder.record(runtime, transition, None)
        if removed:
            self._outbox.camera_removed(camera_id)

    def _on_result(self, runtime: CameraRuntime, result: ProcessedFrame) -> None:
        if result.image is not None:
            runtime.last_result = result
            runtime.motion_at = self._context.clock()
            if runtime.feeder is not None:
                runtime.feeder.offer(result.image, result.analysis.timestamp)
        if result.person_count != runtime.person_count:
            runtime.person_count = result.person_count
            runtime.count_pending = True
        now = self._context.clock()
        due = runtime.count_pending and now - runtime.published_at >= COUNT_PUBLISH_SECONDS
        for transition in result.transitions:
            step = self._recorder.record(runtime, transition, result)
            task = asyncio.get_running_loop().create_task(_awaited(step))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if due or not runtime.motion_reported:
            self.publish(runtime)

    def publish(self, runtime: CameraRuntime) -> None:
        """Tell every client the camera's state."""
        publish_camera(self._outbox, runtime, self._context.clock())

    def report_motion(self) -> None:
        """Publish the cameras whose motion ended (or began) or whose count waits to go out."""
        now = self._context.clock()
        for runtime in list(self.cameras.values()):
            if runtime.motion_now(now) != runtime.motion_reported or runtime.count_pending:
                self.publish(runtime)


def publish_camera(outbox: Outbox, runtime: CameraRuntime, now: float) -> None:
    """Tell every client the camera's state, and remember the motion they were told."""
    runtime.motion_reported = runtime.motion_now(now)
    runtime.published_at = now
    runtime.count_pending = False
    outbox.camera(runtime)


async def _awaited(step: Awaitable[object]) -> None:
    await step
