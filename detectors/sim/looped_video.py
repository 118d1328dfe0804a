"""A video file played in a loop at its own frame rate, as the simulated camera's sensor.

A cheap downscaled frame difference decides whether the scene moves, which drives the
simulator's ``MotionAlarm`` events. A frame becomes a JPEG (main or sub profile size) only
when someone asks for it (a snapshot, an MJPEG client), once per frame and size: with
RTSP serving the video, the simulator must not spend a core encoding pictures nobody
fetches. Decoding runs in a worker thread so the event loop keeps answering SOAP calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.errors import MediaError
from detectors.pipeline.sources import FileSource, Image

MOTION_WIDTH = 96
"""Frames are compared at this width: enough for people, cheap for two cores."""
MOTION_PIXEL_DELTA = 25
MOTION_AREA_FRACTION = 0.002
"""A frame moves when this fraction of its downscaled pixels changed noticeably."""


class EncodedFrame:
    """One frame of the loop; its JPEGs are encoded on first use and kept."""

    def __init__(
        self,
        index: int,
        image: Image,
        sizes: tuple[tuple[int, int], tuple[int, int]],
        moving: bool,
        quality: int,
    ) -> None:
        self.index = index
        self.moving = moving
        self._image = image
        self._sizes = sizes
        self._quality = quality
        self._jpegs: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def jpeg(self, sub: bool) -> bytes:
        """The frame as a JPEG of the main (False) or sub (True) profile's size."""
        which = int(sub)
        with self._lock:
            cached = self._jpegs.get(which)
            if cached is None:
                width, height = self._sizes[which]
                image = self._image
                if (image.shape[1], image.shape[0]) != (width, height):
                    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
                cached = self._jpegs[which] = _jpeg(image, self._quality)
            return cached

    @property
    def main_jpeg(self) -> bytes:
        """The main profile's JPEG."""
        return self.jpeg(False)

    @property
    def sub_jpeg(self) -> bytes:
        """The sub profile's JPEG."""
        return self.jpeg(True)


def _grey_small(image: Image) -> NDArray[np.uint8]:
    height, width = image.shape[:2]
    small_height = max(1, round(height * MOTION_WIDTH / width))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small: NDArray[np.uint8] = cv2.resize(
        grey, (MOTION_WIDTH, small_height), interpolation=cv2.INTER_AREA
    )
    return small


def _jpeg(image: Image, quality: int) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MediaError("cannot encode a frame as JPEG")
    return bytes(data.tobytes())


class LoopedVideo:
    """Play ``path`` forever; wait for frames with :meth:`next_frame`.

    ``on_motion`` is called (in the event loop) with the new state whenever motion starts
    or stops; motion stops after ``motion_hold_s`` seconds of still frames so one still
    frame between two steps does not flap the alarm.
    """

    def __init__(
        self,
        path: Path,
        *,
        motion_hold_s: float = 1.0,
        jpeg_quality: int = 80,
        on_motion: Callable[[bool], None] | None = None,
        sizes: tuple[tuple[int, int], tuple[int, int]] | None = None,
    ) -> None:
        """``sizes``: the main and sub pictures (default: the file's size and half of it)."""
        self._source = FileSource(path, loop=True)
        self._wanted_sizes = sizes
        # Cancelling the playing task does not stop a read already running in a worker
        # thread; the lock keeps close() from freeing the capture under that read.
        self._source_lock = threading.Lock()
        self._closed = False
        self._motion_hold_s = motion_hold_s
        self._quality = jpeg_quality
        self._on_motion = on_motion
        self._previous: NDArray[np.uint8] | None = None
        self._last_motion_at: float | None = None
        self._latest: EncodedFrame | None = None
        self._new_frame = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._index = 0
        self.moving = False
        self.size = (0, 0)
        self.sub_size = (0, 0)
        self.fps = 0.0

    async def start(self) -> None:
        """Open the file and encode the first frame (so sizes are known), then play."""
        self._closed = False
        await asyncio.to_thread(self._source.open)
        self.fps = self._source.fps
        first = await asyncio.to_thread(self._produce)
        self._latest = first
        self._task = asyncio.create_task(self._play(), name="camera-sim-video")

    async def stop(self) -> None:
        """Stop playing and release the file."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self._close_source)

    def _close_source(self) -> None:
        with self._source_lock:
            self._closed = True
            self._source.close()

    @property
    def latest(self) -> EncodedFrame:
        """Return the newest frame (the simulator is started, so there is one)."""
        if self._latest is None:
            raise RuntimeError("video not started")
        return self._latest

    async def next_frame(self, after_index: int) -> EncodedFrame:
        """Return the first frame newer than ``after_index``, waiting for it if needed."""
        async with self._new_frame:
            await self._new_frame.wait_for(lambda: self.latest.index > after_index)
            return self.latest

    async def _play(self) -> None:
        period = 1.0 / self.fps
        next_at = time.monotonic() + period
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at + period, time.monotonic())
            frame = await asyncio.to_thread(self._produce)
            self._latest = frame
            if frame.moving != self.moving:
                self.moving = frame.moving
                if self._on_motion is not None:
                    self._on_motion(frame.moving)
            async with self._new_frame:
                self._new_frame.notify_all()

    def _produce(self) -> EncodedFrame:
        """Read and motion-check one frame (runs in a worker thread)."""
        with self._source_lock:
            if self._closed:
                raise MediaError(f"{self._source.name} is closed")
            frame = self._source.read()
            while frame is None:
                frame = self._source.read()
        image = frame.image
        if self.size == (0, 0):
            width, height = image.shape[1], image.shape[0]
            self.size, self.sub_size = self._wanted_sizes or (
                (width, height),
                (width // 2, height // 2),
            )
        grey = _grey_small(image)
        moved = False
        if self._previous is not None and self._previous.shape == grey.shape:
            changed = cv2.absdiff(grey, self._previous) > MOTION_PIXEL_DELTA
            moved = float(np.count_nonzero(changed)) >= MOTION_AREA_FRACTION * changed.size
        self._previous = grey
        media_time = frame.media_time or 0.0
        if moved:
            self._last_motion_at = media_time
        moving = (
            self._last_motion_at is not None
            and media_time - self._last_motion_at < self._motion_hold_s
        )
        self._index += 1
        return EncodedFrame(self._index, image, (self.size, self.sub_size), moving, self._quality)
