"""Video files as a camera: for tests, demos and ``analyze``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2

from detectors.pipeline.sources.base import Frame, OfflineReason, SourceOfflineError

_FALLBACK_FPS = 25.0


class FileSource:
    """Read a video file with OpenCV.

    ``realtime`` paces frames by the file's frame rate times ``speed`` (a demo looks like a
    live camera; a benchmark offers more frames than inference can take) and stamps them
    with wall-clock capture times, as a camera would, so schedules and latencies work.
    Otherwise frames come as fast as they decode (``analyze``) stamped with media time.
    Media time keeps growing across loops so the tracker never sees time go backwards.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        loop: bool = False,
        realtime: bool = False,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._path = Path(path)
        self._loop = loop
        self._realtime = realtime
        self._speed = speed
        self._wall_clock = wall_clock
        self._wall_started_at = 0.0
        self._clock = clock
        self._sleep = sleep
        self._capture: cv2.VideoCapture | None = None
        self._fps = _FALLBACK_FPS
        self._index = 0
        self._loop_offset = 0.0
        self._started_at = 0.0

    @property
    def name(self) -> str:
        """Return the file path (files carry no credentials)."""
        return str(self._path)

    @property
    def fps(self) -> float:
        """Return the file's frame rate (25 when the container does not say)."""
        return self._fps

    def open(self) -> None:
        """Open the file; a missing or unreadable file is not worth retrying."""
        if not self._path.is_file():
            raise SourceOfflineError(OfflineReason.NOT_FOUND, str(self._path), retry=False)
        capture = cv2.VideoCapture(str(self._path))
        if not capture.isOpened():
            capture.release()
            raise SourceOfflineError(OfflineReason.CANNOT_OPEN, str(self._path), retry=False)
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        self._fps = fps if 0.0 < fps < 1000.0 else _FALLBACK_FPS
        self._capture = capture
        self._index = 0
        self._loop_offset = 0.0
        self._started_at = self._clock()
        self._wall_started_at = self._wall_clock()

    def read(self) -> Frame | None:
        """Return the next frame; at the end rewind (``loop``) or raise end of file."""
        if self._capture is None:
            raise SourceOfflineError(OfflineReason.CANNOT_OPEN, "source is not open")
        ok, image = self._capture.read()
        if not ok:
            if not self._loop or self._index == 0:
                raise SourceOfflineError(OfflineReason.END_OF_FILE, str(self._path), retry=False)
            self._loop_offset += self._index / self._fps
            self._index = 0
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._capture.read()
            if not ok:
                raise SourceOfflineError(OfflineReason.END_OF_FILE, str(self._path), retry=False)
        media_time = self._loop_offset + self._index / self._fps
        self._index += 1
        if not self._realtime:
            return Frame(image=image, timestamp=media_time, media_time=media_time)
        offset = media_time / self._speed
        delay = self._started_at + offset - self._clock()
        if delay > 0:
            self._sleep(delay)
        return Frame(image=image, timestamp=self._wall_started_at + offset, media_time=media_time)

    def close(self) -> None:
        """Release the capture."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None
