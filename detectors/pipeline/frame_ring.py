"""The last seconds a camera's detector analysed, kept as JPEG for an alert's clip.

An alert clip starts ``pre_roll`` seconds before the alert did, so those frames must
already be in memory when the rule fires. Raw BGR frames would cost about 1.3 MB each at
D1 resolution; a JPEG at quality 80 is 30 to 60 kB, so the ring keeps JPEG. It is bounded
twice: by time (frames older than ``seconds`` behind the newest go) and by bytes (the
oldest frames go first when the budget is full), so a camera whose frames grow (a 4K
stream, a noisy night scene) can never take more memory than the budget says.

Frames are encoded off the event loop by the caller (OpenCV releases the GIL); the ring
itself is a lock around a deque, safe to fill from one thread and read from another.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.annotate import encode_jpeg

RING_JPEG_QUALITY: Final = 80
"""Good enough to judge a hand holding an object, a third the size of quality 95."""
RING_MAX_WIDTH: Final = 1280
"""Wider frames (a camera analysed on its 4K main stream) are kept at this width, so the
byte budget still holds the whole pre-roll and the clip's encoder is not given 4K."""


@dataclass(frozen=True, slots=True)
class RingFrame:
    """One analysed frame: when it was taken (the frame's own timestamp) and its JPEG.

    ``scale`` is the JPEG's width over the analysed frame's (1.0 unless it was wider than
    :data:`RING_MAX_WIDTH`): boxes found on the analysed frame are multiplied by it.
    """

    timestamp: float
    jpeg: bytes
    scale: float = 1.0


class FrameRing:
    """A time- and byte-bounded ring of one camera's analysed frames (JPEG)."""

    def __init__(self, *, seconds: float, max_bytes: int) -> None:
        """Keep up to ``seconds`` of frames, never more than ``max_bytes`` of JPEG."""
        if seconds <= 0 or max_bytes <= 0:
            raise ValueError("a frame ring needs positive seconds and max_bytes")
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._frames: deque[RingFrame] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.dropped_for_budget = 0
        """Frames dropped before their time because the byte budget was full."""

    @property
    def bytes(self) -> int:
        """JPEG bytes held now (what ``bench --pipeline`` reports per camera)."""
        return self._bytes

    def __len__(self) -> int:
        """Frames held now."""
        return len(self._frames)

    def add_image(self, image: NDArray[np.uint8], timestamp: float) -> RingFrame:
        """Encode ``image`` (BGR) and keep it; blocking: call it from a worker thread."""
        scale = 1.0
        if image.shape[1] > RING_MAX_WIDTH:
            scale = RING_MAX_WIDTH / image.shape[1]
            size = (RING_MAX_WIDTH, max(2, round(image.shape[0] * scale)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        frame = RingFrame(timestamp, encode_jpeg(image, RING_JPEG_QUALITY), scale)
        self.add(frame)
        return frame

    def add(self, frame: RingFrame) -> None:
        """Keep an encoded frame, then drop what falls outside the time or byte bound."""
        with self._lock:
            if self._frames and frame.timestamp < self._frames[-1].timestamp:
                # Two encodes finished out of order: keep the ring sorted by time.
                ordered = sorted((*self._frames, frame), key=lambda f: f.timestamp)
                self._frames = deque(ordered)
            else:
                self._frames.append(frame)
            self._bytes += len(frame.jpeg)
            newest = self._frames[-1].timestamp
            while self._frames and self._frames[0].timestamp < newest - self.seconds:
                self._bytes -= len(self._frames.popleft().jpeg)
            while self._bytes > self.max_bytes and len(self._frames) > 1:
                self._bytes -= len(self._frames.popleft().jpeg)
                self.dropped_for_budget += 1

    def between(self, start: float, end: float) -> list[RingFrame]:
        """The frames taken in ``[start, end]``, oldest first (a copy of the list)."""
        with self._lock:
            return [f for f in self._frames if start <= f.timestamp <= end]

    def newest(self) -> RingFrame | None:
        """The newest frame, if any."""
        with self._lock:
            return self._frames[-1] if self._frames else None

    def __iter__(self) -> Iterator[RingFrame]:
        """The frames held now, oldest first (a snapshot of the ring)."""
        with self._lock:
            return iter(list(self._frames))
