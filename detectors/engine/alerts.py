"""Alerts: every transition a rule raises becomes a stored change and a message.

The incident log is the record (it refuses steps that make no sense, such as updating a
dismissed alert); the camera's open alerts follow it, and every client is told through the
outbox. People's actions (acknowledge, dismiss, who was told) and drills come here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.annotate import DRILL_STAMP, annotate_jpeg
from detectors.engine.cameras import CameraRuntime, publish_camera
from detectors.engine.evidence import fetch_evidence, scale_boxes
from detectors.engine.evidence_clips import EvidenceWriter
from detectors.engine.outbox import Outbox
from detectors.errors import ConfigError, SchoolGuardError
from detectors.incidents.aio import AsyncIncidentLog
from detectors.incidents.records import EventChange, ModelInfo
from detectors.pipeline.processor import ProcessedFrame
from detectors.pipeline.sources import SourceOfflineError
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.protocol.codes import RULE_NAMES
from detectors.rules.confirmation import AlertTransition
from detectors.types import BoxXYXY

_LOGGER = logging.getLogger(__name__)


async def _snapshot(
    image: NDArray[np.uint8], transition: AlertTransition, boxes: Sequence[BoxXYXY]
) -> bytes:
    """The alert's picture: its boxes captioned with the rule, a DRILL banner on a drill."""
    captioned = [(box, transition.rule) for box in boxes]
    stamp = DRILL_STAMP if transition.drill else None
    return await asyncio.to_thread(partial(annotate_jpeg, stamp=stamp), image, captioned)


class AlertRecorder:
    """Store alert steps and people's actions in the incident log, and tell every client."""

    def __init__(
        self,
        incidents: AsyncIncidentLog,
        outbox: Outbox,
        cameras: Mapping[str, CameraRuntime],
        *,
        model_info: Callable[[AlertTransition], ModelInfo],
        clock: Callable[[], float],
        hardware: HardwareDecoders,
        clips: EvidenceWriter | None = None,
    ) -> None:
        """Record into ``incidents``; ``cameras`` are the running cameras (shared).

        ``clips`` writes each starting alert's clip and keyframe strip (None: no clips).
        """
        self._incidents = incidents
        self._outbox = outbox
        self._cameras = cameras
        self._model_info = model_info
        self._clock = clock
        self._hardware = hardware
        self._clips = clips
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run ``work`` in the background; :meth:`stop` cancels what is left."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel drill endings and evidence work (the log ends open drills at next start)."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._clips is not None:
            await asyncio.to_thread(self._clips.close)

    async def record(
        self, runtime: CameraRuntime, transition: AlertTransition, result: ProcessedFrame | None
    ) -> EventChange | None:
        """Store one alert step (with an annotated snapshot) and tell every client.

        Returns the stored change, or None when the log refused the step.
        """
        snapshot = None
        if result is not None and result.image is not None and transition.state != "ended":
            snapshot = await _snapshot(result.image, transition, transition.boxes)
        try:
            change = await self._store(runtime, transition, snapshot)
        except SchoolGuardError as err:
            # A person dismissed the alert while the rule still saw it: the log refuses
            # further steps of a dismissed alert, and that is right.
            runtime.open_alerts.pop(transition.alert_id, None)
            _LOGGER.info("alert %s: %s", transition.alert_id, err)
            self._publish(runtime)
            return None
        self._outbox.event(change)
        self._publish(runtime)
        if transition.state == "started" and result is not None:
            self._spawn(self._attach_evidence(runtime, transition, result))
        if self._clips is not None:
            if transition.state == "started" and runtime.feeder is not None:
                self._spawn(self._clips.write(runtime.feeder.ring, transition))
            elif transition.state == "updated":
                self._clips.boxes(transition)
        return change

    async def _attach_evidence(
        self, runtime: CameraRuntime, transition: AlertTransition, result: ProcessedFrame
    ) -> None:
        """Fetch the sharp picture of a starting alert and make it the event's snapshot."""
        streams = runtime.streams
        if streams is None or streams.snapshot_from == "frame" or result.image is None:
            return
        try:
            image = await fetch_evidence(runtime.config, streams, hardware=self._hardware)
        except (SourceOfflineError, OSError) as err:
            _LOGGER.warning("camera %s: no evidence snapshot (%s)", runtime.config.id, err)
            return
        if image is None:
            return
        analysed = (int(result.image.shape[1]), int(result.image.shape[0]))
        evidence = (int(image.shape[1]), int(image.shape[0]))
        boxes = scale_boxes(transition.boxes, analysed, evidence)
        jpeg = await _snapshot(image, transition, boxes)
        change = await self._incidents.attach_evidence(transition.alert_id, jpeg, at=self._clock())
        if change is not None:
            self._outbox.event(change)

    def _publish(self, runtime: CameraRuntime) -> None:
        publish_camera(self._outbox, runtime, self._clock())

    async def _store(
        self, runtime: CameraRuntime, transition: AlertTransition, snapshot: bytes | None
    ) -> EventChange:
        if transition.state == "started":
            camera = runtime.config
            runtime.open_alerts[transition.alert_id] = transition
            return await self._incidents.record_start(
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
                thresholds=runtime.thresholds().get(transition.rule, {}),
                snapshot_jpeg=snapshot,
                detail=transition.detail,
            )
        if transition.state == "updated":
            return await self._incidents.record_update(
                transition.alert_id,
                at=transition.timestamp,
                confidence=transition.confidence,
                scores=transition.scores,
                boxes=transition.boxes,
                snapshot_jpeg=snapshot,
                detail=transition.detail,
            )
        runtime.open_alerts.pop(transition.alert_id, None)
        return await self._incidents.record_end(transition.alert_id, at=transition.timestamp)

    # -- people ----------------------------------------------------------------------------

    async def acknowledge(self, event_id: str, by: str, note: str) -> EventChange:
        """A person saw the alert and is on it."""
        change = await self._incidents.acknowledge(event_id, by=by, note=note)
        self._outbox.event(change)
        return change

    async def record_notified(
        self, event_id: str, recipients: Sequence[str], channel: str, by: str
    ) -> EventChange:
        """A client told people about the alert (a page, an announcement); kept for review."""
        change = await self._incidents.record_notified(
            event_id, recipients=recipients, channel=channel, by=by
        )
        self._outbox.event(change)
        return change

    async def record_action(self, event_id: str, body: Mapping[str, Any]) -> EventChange:
        """A client took a response step; a retried step (same ``step_id``) is told once."""
        change, new = await self._incidents.record_action(
            event_id,
            step_id=body["step_id"],
            step=body["step"],
            targets=body.get("targets", ()),
            confirmed=body.get("confirmed", {}),
            by=body["by"],
            note=body.get("note", ""),
        )
        if new:
            self._outbox.event(change)
        return change

    async def dismiss(self, event_id: str, by: str, reason: str) -> EventChange:
        """A person judged the alert false; every client is told."""
        change = await self._incidents.dismiss(event_id, by=by, reason=reason)
        for runtime in self._cameras.values():
            if runtime.open_alerts.pop(event_id, None) is not None:
                self._publish(runtime)
        self._outbox.event(change)
        return change

    # -- drills ----------------------------------------------------------------------------

    async def test_alert(
        self, runtime: CameraRuntime, rule: str, *, seconds: float = 10.0
    ) -> EventChange:
        """A drill alert through every output; always marked as a drill, ended after ``seconds``."""
        if rule not in RULE_NAMES:
            raise ConfigError(f"rule: unknown rule {rule!r} (known: {', '.join(RULE_NAMES)})")
        now = self._clock()
        transition = AlertTransition(
            alert_id=uuid.uuid4().hex,
            camera_id=runtime.config.id,
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
        change = await self.record(runtime, transition, runtime.last_result)
        assert change is not None, "a new drill id is never refused by the log"

        async def end_later() -> None:
            await asyncio.sleep(seconds)
            ended = replace(transition, state="ended", timestamp=self._clock())
            if (await self._incidents.get(transition.alert_id)).active:
                await self.record(runtime, ended, None)

        self._spawn(end_later())
        return change
