"""Per-camera detection loop: newest frame → motion gate → shared inference → rules.

Each camera has at most one frame in inference at a time and always takes the newest frame
its reader holds, so no backlog can grow however slow inference gets: frames the detector
could not keep up with are counted as dropped, never queued. All cameras share the models'
async infer queues, which serve submissions in order, so a busy camera cannot starve the
others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.pipeline.motion import MotionGate
from detectors.pipeline.processor import FrameProcessor, ProcessedFrame
from detectors.pipeline.reader import CameraReader, RateMeter
from detectors.pipeline.sources import Frame
from detectors.types import BoxXYXY

_LOGGER = logging.getLogger(__name__)

type ResultCallback = Callable[[ProcessedFrame], None]


@dataclass(slots=True)
class CameraStats:
    """Counters per camera, reported by the engine API and the benchmarks.

    A *slot* is one ``1 / detect_fps`` period. Each slot is analysed, skipped by the
    motion gate (the scene was still: nothing to miss), or missed: no new frame had
    arrived, or inference was still busy with an earlier frame when the slot passed.
    """

    analysed: int = 0
    skipped_motion: int = 0
    no_new_frame: int = 0
    slots: int = 0
    missed_slots: int = 0
    inference_ms_total: float = 0.0
    latency_ms: list[float] | None = None

    @property
    def inference_ms(self) -> float:
        """Mean wall time of one frame's inference and post-processing."""
        return self.inference_ms_total / self.analysed if self.analysed else 0.0


class CameraWorker:
    """Drive one camera's :class:`FrameProcessor` from its :class:`CameraReader`.

    ``detect_fps`` caps how often a frame is analysed (0 means as often as inference
    allows). While the reader is offline the rules get a stream-lost analysis once per
    second so the tamper rule can raise "camera lost".
    """

    def __init__(
        self,
        reader: CameraReader,
        processor: FrameProcessor,
        *,
        detect_fps: float = 5.0,
        motion: MotionGate | None = None,
        on_result: ResultCallback | None = None,
        keep_latencies: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Wire the pieces; nothing runs until :meth:`start`."""
        self.reader = reader
        self.processor = processor
        self.detect_fps = detect_fps
        self.motion = motion
        self.on_result = on_result
        self.stats = CameraStats(latency_ms=[] if keep_latencies else None)
        self.analysed_rate = RateMeter(clock=clock)
        """Frames analysed per second over the last ten seconds."""
        self._clock = clock
        self._wall_clock = wall_clock
        self._task: asyncio.Task[None] | None = None
        self._frame_size = (0, 0)
        self._last_lost_at = 0.0

    @property
    def camera_id(self) -> str:
        """The camera this worker analyses."""
        return self.processor.camera_id

    async def start(self) -> None:
        """Start the reader and the detection loop."""
        self.processor.attach_frame_source(self._newest_frame)
        await self.reader.start()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"detect-{self.camera_id}"
        )

    async def stop(self) -> None:
        """Stop detecting and reading; open alerts are closed by the caller."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.processor.attach_frame_source(None)
        await self.reader.stop()

    def _newest_frame(self) -> tuple[NDArray[np.uint8], float] | None:
        """The reader's newest frame, left in its slot (the fight clip sampler reads it)."""
        item = self.reader.slot.peek()
        return None if item is None else (item.frame.image, item.frame.timestamp)

    async def _run(self) -> None:
        period = 1.0 / self.detect_fps if self.detect_fps > 0 else 0.0
        idle_wait = 0.005
        stats = self.stats
        slot = self.reader.slot
        next_due = self._clock()
        while True:
            now = self._clock()
            # Convert (in the reader's thread) the frame that arrives just before the slot
            # is due, or the next one when the slot is due already.
            slot.want_from(next_due - self._frame_interval())
            if now < next_due:
                await asyncio.sleep(next_due - now)
                now = self._clock()
            if period:
                passed = int((now - next_due) / period)  # slots that went by while busy
                stats.slots += 1 + passed
                stats.missed_slots += passed
                next_due += (passed + 1) * period
            else:
                next_due = now
            item = slot.take()
            if item is None:
                stats.no_new_frame += 1
                if period:
                    stats.missed_slots += 1
                self._maybe_signal_lost()
                if not period:
                    await asyncio.sleep(idle_wait)
                continue
            frame = item.frame
            if not frame.converted:
                # The frame came before the slot was wanted: convert it off the loop.
                await asyncio.to_thread(_convert, frame)
            await self._analyse(frame)

    def _frame_interval(self) -> float:
        """Expected time between two arriving frames (0.1 s until the rate is known)."""
        fps = self.reader.status().fps
        return 1.0 / fps if fps > 1.0 else 0.1

    async def _analyse(self, frame: Frame) -> None:
        image = frame.image
        self._frame_size = frame.size
        regions: tuple[BoxXYXY, ...] = ()
        if self.motion is not None:
            motion = self.motion.check(image, frame.timestamp)
            if not motion.needs_inference:
                self.stats.skipped_motion += 1
                return
            regions = motion.regions
        started = time.perf_counter()
        try:
            result = await self.processor.process_async(image, frame.timestamp, regions)
        except Exception:
            _LOGGER.exception("camera %s: analysing a frame failed", self.camera_id)
            return
        self.stats.analysed += 1
        self.analysed_rate.tick(self._clock())
        self.stats.inference_ms_total += (time.perf_counter() - started) * 1000.0
        if self.stats.latency_ms is not None:
            self.stats.latency_ms.append((self._wall_clock() - frame.timestamp) * 1000.0)
        if self.on_result is not None:
            self.on_result(result)

    def _maybe_signal_lost(self) -> None:
        if self.reader.status().online or self._frame_size == (0, 0):
            return
        now = self._wall_clock()
        if now - self._last_lost_at < 1.0:
            return
        self._last_lost_at = now
        result = self.processor.signal_lost(now, self._frame_size)
        if self.on_result is not None:
            self.on_result(result)


def _convert(frame: Frame) -> None:
    """Convert a frame to BGR (in a worker thread: swscale releases the GIL)."""
    _ = frame.image
