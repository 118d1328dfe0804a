"""RTSP cameras through OpenCV's FFmpeg backend, over TCP.

TCP because UDP RTP loses packets on busy school networks and a lost packet smears a
whole H.264 group of pictures. OpenCV reports only "could not open", so a plain TCP
connect is tried first: it turns the common failures (refused, unreachable, unknown host)
into a reason facilities staff can act on.
"""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit

import cv2

from detectors.pipeline.sources.base import (
    Frame,
    OfflineReason,
    SourceOfflineError,
    reason_for_os_error,
    redact_url,
)

_CAPTURE_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_DEFAULT_RTSP_PORT = 554


class RtspSource:
    """Read an RTSP stream; ``read_timeout_s`` bounds how long one read may hang.

    FFmpeg gives up on a dead server only after about three read timeouts (NOTES.md),
    which is why the reader's watchdog, not this class, decides when a camera is offline.
    """

    def __init__(
        self, url: str, *, open_timeout_s: float = 10.0, read_timeout_s: float = 10.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"rtsp", "rtsps"} or not parts.hostname:
            raise SourceOfflineError(
                OfflineReason.CANNOT_OPEN, f"not an rtsp url: {redact_url(url)}"
            )
        self._url = url
        self._host = parts.hostname
        self._port = parts.port or _DEFAULT_RTSP_PORT
        self._open_timeout_s = open_timeout_s
        self._read_timeout_s = read_timeout_s
        self._capture: cv2.VideoCapture | None = None

    @property
    def name(self) -> str:
        """Return the URL with its password redacted."""
        return redact_url(self._url)

    def __repr__(self) -> str:
        """Show the redacted URL only."""
        return f"RtspSource({self.name!r})"

    def open(self) -> None:
        """Check the TCP port, then open the stream with FFmpeg over TCP."""
        self._probe_port()
        # Process-wide by OpenCV's design; respect an operator's own setting.
        os.environ.setdefault(_CAPTURE_OPTIONS_ENV, "rtsp_transport;tcp")
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(self._open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(self._read_timeout_s * 1000),
        ]
        capture = cv2.VideoCapture(self._url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise SourceOfflineError(OfflineReason.CANNOT_OPEN, self.name)
        self._capture = capture

    def _probe_port(self) -> None:
        try:
            with socket.create_connection((self._host, self._port), timeout=self._open_timeout_s):
                pass
        except socket.gaierror as error:
            raise SourceOfflineError(OfflineReason.HOST_NOT_FOUND, self.name) from error
        except OSError as error:
            raise SourceOfflineError(reason_for_os_error(error), self.name) from error

    def read(self) -> Frame | None:
        """Return the next frame stamped with wall-clock arrival time."""
        if self._capture is None:
            raise SourceOfflineError(OfflineReason.CANNOT_OPEN, "source is not open")
        ok, image = self._capture.read()
        if not ok or image is None:
            raise SourceOfflineError(OfflineReason.CONNECTION_LOST, self.name)
        return Frame(image=image, timestamp=time.time())

    def close(self) -> None:
        """Release the capture."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None
