"""Second stage of the fight rule: clip the people the pose gate suspects and ask the model.

One :class:`FightStage` per camera, owned by its :class:`~detectors.pipeline.processor.
FrameProcessor`. Per analysed frame the processor (1) hands the rules the stage's latest
verdict (:meth:`FightStage.extra`) and (2) after the rules ran, tells the stage what the
fight rule's pose gate saw (:meth:`FightStage.after_rules`). While the gate is open the
stage keeps a :class:`~detectors.pipeline.fight_clips.ClipBuffer` around the group and,
each time the clip has ``stride`` new frames, has it classified:

* in the engine through the model's shared ``AsyncInferQueue`` as a task of its own, so
  neither the event loop nor the camera's detection loop waits the ~0.5 s a clip costs on
  two CPU cores; at most one clip per camera is in flight;
* in ``analyze`` and other synchronous callers at once, on the calling thread.

Analysed frames arrive at ``detect_fps`` (5 by default), fewer than the model's 8 fps, so
while the gate is open a sampler task also takes the camera's newest frame (the reader's
slot, without consuming it) at twice the model's rate; the buffer keeps those on its 8 fps
grid. When the gate has been shut for :data:`~detectors.rules.fight.GATE_HOLD_SECONDS`
the buffer, the sampler and the verdict are dropped: nothing is kept while nobody is
suspected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.pipeline.fight_clips import MAX_GAP_PERIODS, ClipBuffer, crop_window, window_holds
from detectors.rules.engine import RuleEngine
from detectors.rules.fight import (
    FIGHT_CLIP_KEY,
    GATE_HOLD_SECONDS,
    FightClipScore,
    FightGate,
    FightRule,
)
from detectors.vision.fight import ClipVerdict, FightClassifier

_LOGGER = logging.getLogger(__name__)

type FramePeek = Callable[[], tuple[NDArray[np.uint8], float] | None]
"""Returns the camera's newest frame and its timestamp without taking it, or ``None``."""

VERDICT_STRIDES = 2
"""A verdict may be used for this many strides after its clip's last frame: the next clip's
verdict is due one stride later, plus the time the model takes."""


@dataclass(slots=True)
class FightStageStats:
    """What the stage did and cost.

    ``gate_frames``: analysed frames seen while the gate was open; ``windows``: clips
    started (a new window around a group); ``sampled_frames``:
    frames the sampler added between them; ``clips``: clips judged; ``model_ms_total``:
    their wall time (queue wait included); ``broken_clips``: clips restarted by a gap.
    """

    gate_frames: int = 0
    windows: int = 0
    sampled_frames: int = 0
    clips: int = 0
    model_ms_total: float = 0.0
    broken_clips: int = 0


def fight_rule(rules: RuleEngine) -> FightRule | None:
    """The camera's enabled fight rule, if it has one."""
    return next((rule for rule in rules.rules if isinstance(rule, FightRule)), None)


def fight_stage_for(
    classifier: FightClassifier | None, rules: RuleEngine, camera_id: str
) -> FightStage | None:
    """A stage when a fight model is loaded and the camera's fight rule wants one."""
    rule = fight_rule(rules)
    if classifier is None or rule is None or rule.method == "pose":
        return None
    return FightStage(classifier, rule, camera_id)


class FightStage:
    """The fight model's clip buffer, sampler and latest verdict for one camera."""

    def __init__(self, classifier: FightClassifier, rule: FightRule, camera_id: str) -> None:
        """Start with the gate shut, no buffer and no verdict."""
        self.classifier = classifier
        self.rule = rule
        self.camera_id = camera_id
        self.stride = max(1, classifier.clip_length // 2)
        self.stats = FightStageStats()
        self._buffer: ClipBuffer | None = None
        self._verdict: FightClipScore | None = None
        self._last_open_at = float("-inf")
        self._frame_size = (0, 0)
        self._source: FramePeek | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._judging: asyncio.Task[None] | None = None
        self._warned_slow = False

    @property
    def buffering(self) -> bool:
        """Whether a clip is being gathered (the gate is open or held)."""
        return self._buffer is not None

    @property
    def verdict(self) -> FightClipScore | None:
        """The model's latest verdict while the gate is open (``None`` before the first)."""
        return self._verdict

    def extra(self) -> dict[str, object]:
        """The ``FrameAnalysis.extra`` entry the fight rule reads."""
        return {FIGHT_CLIP_KEY: self._verdict}

    def attach_source(self, peek: FramePeek | None) -> None:
        """Where the sampler reads the camera's newest frame (``None``: analysed frames only)."""
        self._source = peek
        if peek is None:
            self._stop_sampler()

    def after_rules(self, image: NDArray[np.uint8], timestamp: float, *, blocking: bool) -> None:
        """Follow the gate the fight rule just computed, and feed this frame to the clip."""
        self._frame_size = (int(image.shape[1]), int(image.shape[0]))
        gate = self.rule.gate
        if gate is not None and gate.timestamp == timestamp:
            self._last_open_at = timestamp
            self._follow(gate, blocking)
        elif timestamp - self._last_open_at > GATE_HOLD_SECONDS:
            self._shut()
            return
        if self._buffer is not None:
            self.stats.gate_frames += 1
            self._offer(image, timestamp, blocking)

    def _follow(self, gate: FightGate, blocking: bool) -> None:
        """Keep the clip's window while it still holds the group; else start a new clip."""
        if self._buffer is not None and window_holds(self._buffer.window, gate.boxes):
            return
        self.stats.windows += 1
        self._buffer = ClipBuffer(
            crop_window(gate.boxes, self._frame_size),
            length=self.classifier.clip_length,
            fps=self.classifier.clip_fps,
            stride=self.stride,
            prepare=self.classifier.prepare_frame,
        )
        if not blocking and self._source is not None and self._sampler is None:
            self._sampler = asyncio.get_running_loop().create_task(
                self._sample(), name=f"fight-clip-{self.camera_id}"
            )

    def _offer(self, image: NDArray[np.uint8], timestamp: float, blocking: bool) -> bool:
        """Offer a frame to the clip; judge the clip when ready. Whether it was kept."""
        buffer = self._buffer
        if buffer is None or not buffer.offer(image, timestamp):
            return False
        if buffer.breaks > self.stats.broken_clips:
            self.stats.broken_clips = buffer.breaks
            if not self._warned_slow:
                self._warned_slow = True
                _LOGGER.warning(
                    "camera %s: frames for the fight model arrived more than %.2f s apart; "
                    "it needs about %.0f per second, so clips restart",
                    self.camera_id,
                    MAX_GAP_PERIODS / self.classifier.clip_fps,
                    self.classifier.clip_fps,
                )
        if not buffer.ready or self._judging is not None:
            return True
        frames, first, last = buffer.take()
        if blocking:
            started = time.perf_counter()
            verdict = self.classifier.classify(frames)
            self._record(verdict, buffer, first, last, started)
        else:
            self._judging = asyncio.get_running_loop().create_task(
                self._judge(frames, buffer, first, last), name=f"fight-model-{self.camera_id}"
            )
        return True

    async def _judge(
        self, frames: list[NDArray[np.uint8]], buffer: ClipBuffer, first: float, last: float
    ) -> None:
        started = time.perf_counter()
        try:
            verdict = await self.classifier.classify_async(frames)
        except Exception:
            _LOGGER.exception("camera %s: the fight model failed on a clip", self.camera_id)
            return
        finally:
            if self._judging is asyncio.current_task():
                self._judging = None
        if buffer is self._buffer:  # the gate may have shut or moved meanwhile
            self._record(verdict, buffer, first, last, started)

    def _record(
        self, verdict: ClipVerdict, buffer: ClipBuffer, first: float, last: float, started: float
    ) -> None:
        self.stats.clips += 1
        self.stats.model_ms_total += (time.perf_counter() - started) * 1000.0
        self._verdict = FightClipScore(
            fight=verdict.fight,
            window=buffer.window,
            started_at=first,
            ended_at=last,
            valid_until=last + VERDICT_STRIDES * self.stride / self.classifier.clip_fps,
        )

    async def _sample(self) -> None:
        """While a clip is gathered, take the newest camera frame at twice the model rate."""
        pause = 0.5 / self.classifier.clip_fps
        try:
            while self._buffer is not None and self._source is not None:
                newest = self._source()
                if newest is not None and self._offer(newest[0], newest[1], blocking=False):
                    self.stats.sampled_frames += 1
                await asyncio.sleep(pause)
        finally:
            if self._sampler is asyncio.current_task():
                self._sampler = None

    def _stop_sampler(self) -> None:
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.cancel()

    def _shut(self) -> None:
        """The gate is shut: drop the clip, the sampler and the verdict."""
        self._buffer = None
        self._verdict = None
        self._stop_sampler()

    def close(self) -> None:
        """Stop everything (camera stopped): cancel the sampler and any clip in flight."""
        self._shut()
        if self._judging is not None:
            self._judging.cancel()
            self._judging = None
        self._last_open_at = float("-inf")
