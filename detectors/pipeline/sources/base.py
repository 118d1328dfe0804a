"""What every frame source shares: the frame value, offline reasons and URL redaction.

Sources come in two shapes because their libraries do: OpenCV blocks, so cv2 sources are
*blocking* (``open``/``read``/``close``, run in a thread by the reader), while aiohttp
sources are *async* (an async iterator of frames, run as a task). Both report failure the
same way, by raising :class:`SourceOfflineError` with a reason a person can act on.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.errors import MediaError
from detectors.redaction import redact_url

__all__ = ["redact_url"]  # sources name themselves with the engine's one URL redaction

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

type Image = NDArray[np.uint8]
"""A BGR frame, ``height x width x 3``."""


class OfflineReason(StrEnum):
    """Why a camera has no fresh frames: shown to people, so plain words."""

    STARTING = "starting"
    STOPPED = "stopped"
    CONNECTION_REFUSED = "connection refused"
    CONNECTION_TIMEOUT = "connection timed out"
    CONNECTION_LOST = "connection lost"
    HOST_NOT_FOUND = "host not found"
    STREAM_STALLED = "stream stalled"
    AUTH_FAILED = "authentication failed"
    NOT_FOUND = "not found"
    HTTP_ERROR = "http error"
    NOT_A_STREAM = "not an mjpeg stream"
    CANNOT_OPEN = "cannot open stream"
    END_OF_FILE = "end of file"


class SourceOfflineError(MediaError):
    """A source cannot deliver frames now.

    ``retry`` is False when trying again cannot help (a file that has ended), so the
    reader stops instead of replaying it.
    """

    def __init__(self, reason: OfflineReason, detail: str = "", *, retry: bool = True) -> None:
        self.reason = reason
        self.detail = detail
        self.retry = retry
        super().__init__(f"{reason}: {detail}" if detail else str(reason))


class Frame:
    """One decoded frame, converted to BGR only when someone looks at it.

    ``timestamp`` is the frame clock the rest of the pipeline uses: wall-clock arrival
    time (seconds since the epoch) for cameras, media time for files that are not paced in
    real time. ``media_time`` is the position in a file (None for live sources).

    A camera decodes every frame (H.264 and H.265 frames depend on the ones before), but
    the pipeline analyses only ``detect_fps`` of them, so an RTSP frame carries the
    decoder's YUV picture and a ``convert`` function; :attr:`image` converts once, in
    whichever thread asks first (the camera's reader thread when it knows the frame is
    wanted, see :meth:`LatestFrame.want_from`), and keeps the result.
    """

    __slots__ = ("_convert", "_image", "_lock", "media_time", "size", "timestamp")

    def __init__(
        self,
        image: Image | None = None,
        timestamp: float = 0.0,
        media_time: float | None = None,
        *,
        convert: Callable[[], Image] | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        if image is not None:
            size = (int(image.shape[1]), int(image.shape[0]))
        elif convert is None or size is None:
            raise ValueError("a frame needs an image, or a convert function and its size")
        self._image = image
        self._convert = convert
        self._lock = threading.Lock() if image is None else None
        self.timestamp = timestamp
        self.media_time = media_time
        self.size: tuple[int, int] = size
        """Width and height, known without converting."""

    @property
    def image(self) -> Image:
        """Return the BGR picture, converting it first if nobody has yet."""
        image = self._image
        if image is not None:
            return image
        assert self._lock is not None
        with self._lock:
            if self._image is None:
                assert self._convert is not None
                self._image = self._convert()
                self._convert = None  # let the decoder's picture go
            return self._image

    @property
    def converted(self) -> bool:
        """Return whether the BGR picture exists already."""
        return self._image is not None

    def __repr__(self) -> str:
        """Show size and time, never pixels."""
        width, height = self.size
        return f"Frame({width}x{height}, timestamp={self.timestamp:.3f})"


@runtime_checkable
class BlockingSource(Protocol):
    """A source whose reads block (OpenCV); the reader runs it in its own thread."""

    @property
    def name(self) -> str:
        """Return a description safe to log (credentials redacted)."""
        ...

    def open(self) -> None:
        """Connect or open; raise :class:`SourceOfflineError` on failure."""
        ...

    def read(self) -> Frame | None:
        """Return the next frame, None for a frame that failed to decode.

        Raise :class:`SourceOfflineError` when the stream is over or broken.
        """
        ...

    def close(self) -> None:
        """Release the capture; safe to call more than once."""
        ...


@runtime_checkable
class AsyncSource(Protocol):
    """A source driven by asyncio (aiohttp); the reader runs it as a task."""

    @property
    def name(self) -> str:
        """Return a description safe to log (credentials redacted)."""
        ...

    def frames(self) -> AsyncGenerator[Frame | None]:
        """Connect and yield frames (None for an undecodable one) until failure.

        Raise :class:`SourceOfflineError` when the stream cannot start or breaks.
        """
        ...


type FrameSource = BlockingSource | AsyncSource


def reason_for_os_error(error: OSError) -> OfflineReason:
    """Map a socket error to the reason shown for an offline camera."""
    if isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED:
        return OfflineReason.CONNECTION_REFUSED
    if isinstance(error, TimeoutError) or error.errno == errno.ETIMEDOUT:
        return OfflineReason.CONNECTION_TIMEOUT
    if error.errno in {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return OfflineReason.CONNECTION_TIMEOUT
    if isinstance(error, ConnectionError) or error.errno in {errno.ECONNRESET, errno.EPIPE}:
        return OfflineReason.CONNECTION_LOST
    return OfflineReason.CANNOT_OPEN


_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"


def decode_jpeg(data: bytes) -> Image | None:
    """Decode a JPEG, or return None for one that is truncated or unreadable.

    A JPEG cut short usually still "decodes" with a grey lower half, so the end-of-image
    marker is checked first (allowing a little trailing padding, which some cameras add).
    """
    if not data.startswith(_JPEG_START) or _JPEG_END not in data[-16:]:
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        return None
    decoded: Image = image
    return decoded
