"""RTSP cameras (H.264, H.265) through PyAV: FFmpeg's demuxer and decoders, one thread each.

Why PyAV and not OpenCV's ``VideoCapture``: OpenCV's FFmpeg backend opens one capture at a
time across the process, and an RTSP open waits for a key frame, so twelve cameras came
online one by one and the last ones hit the watchdog (docs/pipeline.md has the
measurements, and the comparison with one ``ffmpeg`` process per camera). PyAV releases
the GIL in every FFmpeg call, so each camera's reader thread opens, reads and decodes
independently of the others.

* TCP, because UDP RTP loses packets on busy school networks and a lost packet smears a
  whole group of pictures.
* Bounded probing and no demuxer buffering, so a stream opens within about one group of
  pictures and frames are not held back.
* ``timeout=(open, read)`` is PyAV's interrupt callback, which FFmpeg polls while it
  waits on the socket: a dead or hung server ends a read within the read timeout.
* Every packet is decoded (each frame depends on the ones before); the BGR conversion is
  left to :class:`Frame`, so only the frames the pipeline analyses are converted.

A plain TCP connect is tried first because it turns the common failures (refused,
unreachable, unknown host) into a reason facilities staff can act on.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from detectors.pipeline.sources.base import (
    Frame,
    Image,
    OfflineReason,
    SourceOfflineError,
    reason_for_os_error,
    redact_url,
)
from detectors.pipeline.sources.hwdecode import (
    DecodeChoice,
    DecodeMode,
    HardwareDecoders,
    choose_decoder,
)

if TYPE_CHECKING:
    import av.container
    import av.video.frame

_LOGGER = logging.getLogger(__name__)
_DEFAULT_RTSP_PORT = 554
RTSP_PROTOCOLS = "rtsp,rtsps,tcp,udp,tls,rtp,srtp"
"""FFmpeg's ``protocol_whitelist`` for camera streams: what RTSP (over TCP, UDP or TLS)
needs and nothing else, so a URL cannot smuggle ``concat:``, ``subfile:``, ``file:`` or
``http:`` past the configuration's scheme check (FFmpeg hands the whitelist down to every
nested open). Tested with real PyAV against a file on disk."""
RTSP_OPTIONS: dict[str, str] = {
    "rtsp_transport": "tcp",
    "fflags": "nobuffer",
    "flags": "low_delay",
    "probesize": "100000",
    "analyzeduration": "200000",
    "protocol_whitelist": RTSP_PROTOCOLS,
}
"""FFmpeg options for every camera: TCP, no buffering, probing bounded to 100 kB / 0.2 s,
only the protocols RTSP needs.

Cameras describe their stream in the SDP (sprop parameter sets), so long probing only
delays the open: 1 MB / 1 s took 1.1 s to open, these bounds 0.2 s (docs/pipeline.md).
A stream that carries its parameters only in band still decodes; its size is then known
from the first frame."""
DECODER_THREADS = "SLICE"
"""PyAV ``thread_type``: frame threads cost as much CPU here and add a frame of delay each."""


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What the camera sends, as its decoder sees it (shown by the engine API)."""

    codec: str
    width: int
    height: int
    decoder: str

    def to_json(self) -> dict[str, object]:
        """The stream's description for the API."""
        return {
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "decoder": self.decoder,
        }


def _to_bgr(picture: av.video.frame.VideoFrame) -> Image:
    """Convert a decoded picture to a contiguous BGR array (swscale, GIL released)."""
    array = picture.to_ndarray(format="bgr24")
    image: Image = np.ascontiguousarray(array)
    return image


def _reason_for_av_error(error: Exception) -> OfflineReason:
    """Map PyAV's exceptions (FFmpeg error codes) to the reasons people see."""
    import av.error

    if isinstance(error, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return OfflineReason.AUTH_FAILED
    if isinstance(error, av.error.HTTPNotFoundError):
        return OfflineReason.NOT_FOUND
    if isinstance(error, av.error.ExitError):  # the interrupt callback: a timeout
        return OfflineReason.CONNECTION_TIMEOUT
    if isinstance(error, OSError) and error.errno is not None and error.errno > 0:
        return reason_for_os_error(error)
    return OfflineReason.CANNOT_OPEN


class RtspSource:
    """Read an RTSP stream; ``read_timeout_s`` bounds how long one read may hang.

    ``decode`` picks the decoder (``auto``, ``cpu``, ``vaapi``, ``qsv``); a hardware
    decoder that this host cannot give, or that fails to start, falls back to the CPU and
    is logged once for the camera, not at every reconnect.
    """

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        decode: DecodeMode = "auto",
        hardware: HardwareDecoders | None = None,
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
        self.decode_choice: DecodeChoice = choose_decoder(
            decode, hardware or HardwareDecoders.detect()
        )
        self._fallback_logged = False
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.video.frame.VideoFrame | None] | None = None
        self.info: StreamInfo | None = None

    @property
    def name(self) -> str:
        """Return the URL with its password redacted."""
        return redact_url(self._url)

    def __repr__(self) -> str:
        """Show the redacted URL only."""
        return f"RtspSource({self.name!r})"

    # -- open ----------------------------------------------------------------------

    def open(self) -> None:
        """Check the TCP port, then open the stream over TCP and pick its video."""
        self._probe_port()
        self._log_fallback_once()
        try:
            container = self._open_timed(self.decode_choice)
        except SourceOfflineError as error:
            if error.reason is not OfflineReason.CANNOT_OPEN or self.decode_choice.decoder == "cpu":
                raise
            # The device exists but would not start (driver, permissions): use the CPU.
            self.decode_choice = DecodeChoice(
                self.decode_choice.requested,
                "cpu",
                None,
                f"{self.decode_choice.decoder} failed to start",
            )
            self._log_fallback_once()
            container = self._open_timed(self.decode_choice)
        self._container = container
        stream = container.streams.video[0]
        context = stream.codec_context
        self.info = StreamInfo(
            codec=str(context.name),
            width=int(context.width),
            height=int(context.height),
            decoder=self.decode_choice.decoder,
        )
        self._frames = self._decode(container)

    def _open_timed(self, choice: DecodeChoice) -> av.container.InputContainer:
        """Open, telling a timeout from other failures.

        FFmpeg's RTSP demuxer reports an open cut short by the interrupt callback as
        "invalid data", so the time it took is what shows that the server never answered.
        """
        started = time.monotonic()
        try:
            return self._open_container(choice)
        except SourceOfflineError:
            raise
        except Exception as error:
            reason = _reason_for_av_error(error)
            if time.monotonic() - started >= self._open_timeout_s * 0.95:
                reason = OfflineReason.CONNECTION_TIMEOUT
            raise SourceOfflineError(reason, self.name) from None

    def _open_container(self, choice: DecodeChoice) -> av.container.InputContainer:
        import av
        from av.codec.hwaccel import HWAccel

        hwaccel = None
        if choice.decoder != "cpu":
            device = str(choice.device) if choice.device is not None else None
            hwaccel = HWAccel(choice.decoder, device=device, allow_software_fallback=True)
        container = av.open(
            self._url,
            options=RTSP_OPTIONS,
            timeout=(self._open_timeout_s, self._read_timeout_s),
            hwaccel=hwaccel,
        )
        try:
            if not container.streams.video:
                raise SourceOfflineError(OfflineReason.CANNOT_OPEN, f"{self.name}: no video")
            stream = container.streams.video[0]
            stream.thread_type = DECODER_THREADS
        except BaseException:
            container.close()
            raise
        return container

    def _log_fallback_once(self) -> None:
        reason = self.decode_choice.fallback_reason
        if reason is not None and not self._fallback_logged:
            self._fallback_logged = True
            _LOGGER.warning(
                "%s: decode %s is not possible (%s); decoding on the CPU",
                self.name,
                self.decode_choice.requested,
                reason,
            )

    def _probe_port(self) -> None:
        try:
            with socket.create_connection((self._host, self._port), timeout=self._open_timeout_s):
                pass
        except socket.gaierror as error:
            raise SourceOfflineError(OfflineReason.HOST_NOT_FOUND, self.name) from error
        except OSError as error:
            raise SourceOfflineError(reason_for_os_error(error), self.name) from error

    # -- read ----------------------------------------------------------------------

    def _decode(
        self, container: av.container.InputContainer
    ) -> Iterator[av.video.frame.VideoFrame | None]:
        """Decode every packet of the video stream; None for a packet that fails."""
        import av.error

        stream = container.streams.video[0]
        for packet in container.demux(stream):
            try:
                decoded: Any = packet.decode()
            except av.error.InvalidDataError:
                yield None
                continue
            yield from decoded

    def read(self) -> Frame | None:
        """Return the next frame stamped with wall-clock arrival time (not yet BGR)."""
        if self._frames is None:
            raise SourceOfflineError(OfflineReason.CANNOT_OPEN, "source is not open")
        try:
            picture = next(self._frames)
        except StopIteration:
            raise SourceOfflineError(
                OfflineReason.CONNECTION_LOST, f"{self.name}: stream ended"
            ) from None
        except SourceOfflineError:
            raise
        except Exception as error:
            reason = _reason_for_av_error(error)
            if reason is OfflineReason.CONNECTION_TIMEOUT:
                reason = OfflineReason.STREAM_STALLED
            elif reason is OfflineReason.CANNOT_OPEN:
                reason = OfflineReason.CONNECTION_LOST
            raise SourceOfflineError(reason, self.name) from None
        if picture is None:
            return None
        size = (int(picture.width), int(picture.height))
        info = self.info
        if info is not None and (info.width, info.height) != size:
            # The camera's resolution was changed while we were connected.
            self.info = StreamInfo(info.codec, size[0], size[1], info.decoder)
        return Frame(timestamp=time.time(), convert=lambda: _to_bgr(picture), size=size)

    def close(self) -> None:
        """Close the connection and the decoder; safe to call more than once."""
        frames, self._frames = self._frames, None
        if frames is not None and hasattr(frames, "close"):
            frames.close()
        container, self._container = self._container, None
        if container is not None:
            container.close()
