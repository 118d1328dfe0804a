"""Each alert's clip and keyframe strip: collected from the camera's ring, written off the loop.

When an alert (or a drill) starts, the pre-roll is already in the camera's
:class:`~detectors.pipeline.frame_ring.FrameRing`; the writer takes it at once (the ring
keeps only a few seconds), waits until the ring holds frames up to ``post_roll`` after the
start, or ``post_roll + 2`` seconds have passed, and then encodes the clip and the strip in
its own thread. The detection loops never wait for it: they only hand each analysed frame
to the ring's encoder, and a camera whose encodes fall behind skips frames for the ring
instead of queueing them.

Boxes: the clip shows the rule's boxes from the alert's start on, as the rule last
reported them (its start, then each update); the pre-roll is shown as the camera saw it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray

from detectors.annotate import DRILL_STAMP
from detectors.background import background_executor
from detectors.config import EvidenceSection
from detectors.errors import MediaError, SchoolGuardError
from detectors.evidence_media import BoxStep, encode_clip, keyframe_strip
from detectors.incidents.aio import AsyncIncidentLog
from detectors.incidents.records import EventChange
from detectors.pipeline.frame_ring import FrameRing, RingFrame
from detectors.rules.confirmation import AlertTransition

_LOGGER = logging.getLogger(__name__)

READY_GRACE_SECONDS: Final = 2.0
"""Evidence is written at most this long after the post-roll ends, frames or not."""
POLL_SECONDS: Final = 0.1
MAX_PENDING_ENCODES: Final = 2
"""Frames of one camera waiting for the ring's encoder; more are skipped, never queued."""


class RingFeeder:
    """Hands a camera's analysed frames to its ring, encoded on the ring thread."""

    def __init__(self, ring: FrameRing, executor: ThreadPoolExecutor, max_fps: float = 5.0) -> None:
        """Feed ``ring`` through ``executor`` (the engine's ring encoder thread).

        At most ``max_fps`` frames a second are encoded (``evidence.clip_fps``).
        """
        self.ring = ring
        self._executor = executor
        self._pending = 0
        self._lock = threading.Lock()
        # 20 % slack: frames analysed at exactly clip_fps arrive with jitter and must stay.
        self._interval = 0.8 / max_fps
        self._last_kept = float("-inf")
        self.skipped = 0
        """Frames not kept because the encoder was behind (the ring has a gap there)."""
        self.thinned = 0
        """Frames left out to hold ``max_fps`` (by design, not a gap)."""

    def offer(self, image: NDArray[np.uint8], timestamp: float) -> None:
        """Encode ``image`` into the ring soon; skipped when two are already waiting."""
        if timestamp < self._last_kept:  # the clock went back (a file looped): start over
            self._last_kept = float("-inf")
        if timestamp - self._last_kept < self._interval:
            self.thinned += 1
            return
        self._last_kept = timestamp
        with self._lock:
            if self._pending >= MAX_PENDING_ENCODES:
                self.skipped += 1
                return
            self._pending += 1
        future = self._executor.submit(self.ring.add_image, image, timestamp)
        future.add_done_callback(self._done)

    def _done(self, _: object) -> None:
        with self._lock:
            self._pending -= 1


@dataclass(slots=True)
class _Job:
    """One alert's evidence being gathered."""

    transition: AlertTransition
    steps: list[BoxStep] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one alert got: its clip and strip, the frames in the clip and its span."""

    clip: bytes
    strip: bytes
    frames: int
    seconds: float


def build_evidence(
    frames: list[RingFrame],
    transition: AlertTransition,
    steps: list[BoxStep],
    *,
    end: float,
    tz: dt.tzinfo,
) -> Evidence:
    """Encode the clip and the strip (blocking; the writer's thread runs it)."""
    stamp = DRILL_STAMP if transition.drill else None
    clip = encode_clip(frames, rule=transition.rule, steps=steps, stamp=stamp, end=end)
    by_time = {frame.timestamp: frame for frame in frames}
    confirming = [
        (by_time[at], score)
        for at, score in zip(transition.score_times, transition.scores, strict=False)
        if at in by_time
    ]
    if not confirming:
        # A drill (or frames the encoder skipped): the frame nearest the start.
        nearest = min(frames, key=lambda f: abs(f.timestamp - transition.started_at))
        confirming = [(nearest, transition.confidence)]
    strip = keyframe_strip(
        confirming, rule=transition.rule, boxes=transition.boxes, tz=tz, stamp=stamp
    )
    return Evidence(clip, strip, len(frames), end - frames[0].timestamp)


class EvidenceWriter:
    """Gathers and writes every alert's clip and strip; one encoder thread per engine."""

    def __init__(
        self,
        incidents: AsyncIncidentLog,
        on_change: Callable[[EventChange], None],
        settings: EvidenceSection,
        *,
        tz: dt.tzinfo,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Store through ``incidents``; tell clients through ``on_change``."""
        self._incidents = incidents
        self._on_change = on_change
        self.settings = settings
        self._tz = tz
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self.ring_encoder = background_executor("evidence-ring")
        """Encodes every camera's analysed frames into its ring (JPEG)."""
        self._clip_encoder = background_executor("evidence-clip")
        self.last_ready_seconds: float | None = None
        """Seconds from the last alert's start to its evidence being stored."""

    def ring(self) -> FrameRing:
        """A new camera's ring, sized by the ``evidence`` settings."""
        return FrameRing(seconds=self.settings.buffer_seconds, max_bytes=self.settings.buffer_bytes)

    def feeder(self) -> RingFeeder:
        """A new camera's ring and the feeder that fills it."""
        return RingFeeder(self.ring(), self.ring_encoder, self.settings.clip_fps)

    def boxes(self, transition: AlertTransition) -> None:
        """An open alert reported new boxes: the clip shows them from now on."""
        job = self._jobs.get(transition.alert_id)
        if job is not None and transition.boxes:
            job.steps.append(BoxStep(transition.timestamp, transition.boxes))

    async def write(self, ring: FrameRing, transition: AlertTransition) -> EventChange | None:
        """Gather and store one starting alert's evidence; None when no frame was analysed."""
        start = transition.started_at
        pre, post = self.settings.pre_roll_seconds, self.settings.post_roll_seconds
        job = _Job(transition, [BoxStep(start, transition.boxes)] if transition.boxes else [])
        self._jobs[transition.alert_id] = job
        try:
            before = ring.between(start - pre, start)
            deadline = time.monotonic() + post + READY_GRACE_SECONDS
            while time.monotonic() < deadline:
                newest = ring.newest()
                if newest is not None and newest.timestamp >= start + post:
                    break
                await asyncio.sleep(POLL_SECONDS)
            seen = {frame.timestamp for frame in before}
            after = [f for f in ring.between(start - pre, start + post) if f.timestamp not in seen]
            frames = sorted([*before, *after], key=lambda f: f.timestamp)
        finally:
            self._jobs.pop(transition.alert_id, None)
        if not frames:
            _LOGGER.warning(
                "alert %s: no analysed frames around its start, so no clip", transition.alert_id
            )
            return None
        end = min(start + post, max(frames[-1].timestamp, start))
        loop = asyncio.get_running_loop()
        try:
            evidence = await loop.run_in_executor(
                self._clip_encoder,
                lambda: build_evidence(frames, transition, job.steps, end=end, tz=self._tz),
            )
            change = await self._incidents.attach_clip(
                transition.alert_id, evidence.clip, evidence.strip, at=self._clock()
            )
        except (MediaError, SchoolGuardError, OSError) as err:
            _LOGGER.warning("alert %s: evidence not written (%s)", transition.alert_id, err)
            return None
        except Exception:  # an encoder failure costs the alert its clip, never the engine
            _LOGGER.exception("alert %s: encoding its evidence failed", transition.alert_id)
            return None
        self.last_ready_seconds = self._clock() - start
        _LOGGER.info(
            "alert %s: clip of %d frames (%.1f s, %d bytes) and strip ready %.1f s after start",
            transition.alert_id,
            evidence.frames,
            evidence.seconds,
            len(evidence.clip),
            self.last_ready_seconds,
        )
        self._on_change(change)
        return change

    def close(self) -> None:
        """Stop the encoder threads (a clip being encoded finishes first)."""
        self.ring_encoder.shutdown(wait=True, cancel_futures=True)
        self._clip_encoder.shutdown(wait=True, cancel_futures=True)
