"""An alert's evidence as media: the clip around its start and its keyframe strip.

A single frame of a dark phone in a hand looks like a gun; the seconds around it do not.
The clip is H.264 in MP4 (yuv420p, ``moov`` first), the one format every browser and
phone plays and can start before the whole file arrives. Frames come from the camera's
:class:`~detectors.pipeline.frame_ring.FrameRing` at the rate the detector analysed them,
so the clip has a variable frame rate: each frame is shown for as long as it was the
newest analysed one, and the clip's length is the time it covers.

The strip is the one image a phone notification can show: the frames that confirmed the
alert (its K of M), side by side, each captioned with its score and time. A drill's clip
and strip carry the DRILL banner on every picture.

Everything here is blocking (decode, draw, encode): the engine runs it in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.annotate import draw_boxes, draw_stamp, encode_jpeg
from detectors.errors import MediaError
from detectors.pipeline.frame_ring import RingFrame
from detectors.types import BoxXYXY

CLIP_CODEC: Final = "libx264"
"""The H.264 encoder PyAV's wheel carries (libopenh264 is not in it)."""
CLIP_TIME_BASE: Final = Fraction(1, 1000)
CLIP_CRF: Final = "26"
"""x264 quality: people and objects stay sharp, a 10 s D1 clip stays well under 1 MB."""
STRIP_TILE_WIDTH: Final = 480
"""Each strip frame at most this wide: three of them fit a phone notification's image."""
STRIP_MAX_FRAMES: Final = 5
STRIP_CAPTION_BGR: Final = (40, 40, 40)
_FONT: Final = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True, slots=True)
class BoxStep:
    """From ``at`` on (until the next step), the rule reported these boxes."""

    at: float
    boxes: tuple[BoxXYXY, ...]


def decode_jpeg(jpeg: bytes) -> NDArray[np.uint8]:
    """The BGR image of a ring frame; :class:`MediaError` when it is not a JPEG."""
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError("a buffered frame is not a decodable JPEG")
    return np.asarray(image, dtype=np.uint8)


def _boxes_at(steps: Sequence[BoxStep], at: float) -> tuple[BoxXYXY, ...]:
    """The boxes in force at ``at``: none before the first step (the pre-roll is as seen)."""
    current: tuple[BoxXYXY, ...] = ()
    for step in steps:
        if step.at > at:
            break
        current = step.boxes
    return current


def _scaled(boxes: Sequence[BoxXYXY], scale: float) -> list[BoxXYXY]:
    """Boxes of the analysed frame on a ring frame kept at ``scale`` of its width."""
    return [(x1 * scale, y1 * scale, x2 * scale, y2 * scale) for x1, y1, x2, y2 in boxes]


def _even_size(image: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """``image`` at ``size`` (width, height), both even: yuv420p needs even dimensions."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def encode_clip(
    frames: Sequence[RingFrame],
    *,
    rule: str,
    steps: Sequence[BoxStep] = (),
    stamp: str | None = None,
    end: float | None = None,
) -> bytes:
    """The H.264 MP4 of ``frames`` (oldest first) with the rule's boxes drawn; bytes.

    Each frame lasts until the next one; the last lasts until ``end`` (or one median
    frame interval), so the clip covers the whole time asked for. Raises
    :class:`MediaError` for no frames.
    """
    if not frames:
        raise MediaError("an alert clip needs at least one frame")
    first = decode_jpeg(frames[0].jpeg)
    size = (first.shape[1] // 2 * 2, first.shape[0] // 2 * 2)
    origin = frames[0].timestamp
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(frames)]
    step = float(np.median(gaps)) if gaps else 0.2
    last_end = max(end if end is not None else 0.0, frames[-1].timestamp + step)
    with tempfile.TemporaryDirectory(prefix="school-guard-clip-") as folder:
        # faststart rewrites the file to put the index first: that needs a real file.
        path = Path(folder) / "clip.mp4"
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream(CLIP_CODEC, rate=round(1.0 / step) if step > 0 else 5)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = CLIP_TIME_BASE
            stream.options = {"preset": "veryfast", "crf": CLIP_CRF}
            last_pts = -1
            for index, frame in enumerate(frames):
                image = first if index == 0 else decode_jpeg(frame.jpeg)
                boxes = _scaled(_boxes_at(steps, frame.timestamp), frame.scale)
                # Boxes first, on the frame they belong to; then the clip's one size.
                canvas = _even_size(draw_boxes(image, [(box, rule) for box in boxes]), size)
                if stamp:
                    draw_stamp(canvas, stamp)
                pts = max(last_pts + 1, round((frame.timestamp - origin) * 1000))
                last_pts = pts
                video = av.VideoFrame.from_ndarray(canvas, format="bgr24")
                video.pts, video.time_base = pts, CLIP_TIME_BASE
                out.mux(stream.encode(video))
            # The last frame again at the end, so players show it for its full time.
            tail = max(last_pts + 1, round((last_end - origin) * 1000))
            video = av.VideoFrame.from_ndarray(canvas, format="bgr24")
            video.pts, video.time_base = tail, CLIP_TIME_BASE
            out.mux(stream.encode(video))
            out.mux(stream.encode(None))
        return path.read_bytes()


def _clock_text(at: float, tz: dt.tzinfo) -> str:
    moment = dt.datetime.fromtimestamp(at, tz)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 100_000}"


def _tile(image: NDArray[np.uint8], caption: str, height: int) -> NDArray[np.uint8]:
    """``image`` scaled to the strip's tile size with ``caption`` in a bar under it."""
    scale = min(STRIP_TILE_WIDTH / image.shape[1], 1.0)
    width = max(2, round(image.shape[1] * scale))
    picture = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    bar_h = max(24, height // 8)
    bar = np.full((bar_h, width, 3), STRIP_CAPTION_BGR, dtype=np.uint8)
    text_scale = cv2.getFontScaleFromHeight(_FONT, int(bar_h * 0.55), 1)
    (_, text_h), _ = cv2.getTextSize(caption, _FONT, text_scale, 1)
    cv2.putText(
        bar, caption, (6, (bar_h + text_h) // 2), _FONT, text_scale, (255, 255, 255), 1, cv2.LINE_AA
    )
    return np.vstack([picture, bar])


def keyframe_strip(
    frames: Sequence[tuple[RingFrame, float]],
    *,
    rule: str,
    boxes: Sequence[BoxXYXY] = (),
    tz: dt.tzinfo = dt.UTC,
    stamp: str | None = None,
) -> bytes:
    """One JPEG: ``(frame, score)`` pairs side by side, captioned "score  HH:MM:SS.s".

    At most :data:`STRIP_MAX_FRAMES` (the newest); the alert's ``boxes`` are drawn on the
    last one, the frame that started it. Raises :class:`MediaError` for no frames.
    """
    if not frames:
        raise MediaError("a keyframe strip needs at least one frame")
    chosen = list(frames)[-STRIP_MAX_FRAMES:]
    images = [decode_jpeg(frame.jpeg) for frame, _ in chosen]
    first = images[0]
    height = round(first.shape[0] * min(STRIP_TILE_WIDTH / first.shape[1], 1.0))
    tiles = []
    for index, ((frame, score), image) in enumerate(zip(chosen, images, strict=True)):
        last = index == len(chosen) - 1
        drawn = [(box, rule) for box in _scaled(boxes, frame.scale)]
        shown = draw_boxes(image, drawn) if last and boxes else image
        caption = f"{rule} {score:.2f}  {_clock_text(frame.timestamp, tz)}"
        tiles.append(_tile(shown, caption, height))
    gap = np.full((tiles[0].shape[0], 4, 3), 255, dtype=np.uint8)
    parts: list[NDArray[np.uint8]] = []
    for tile in tiles:
        if parts:
            parts.append(gap)
        parts.append(tile)
    strip = np.ascontiguousarray(np.hstack(parts))
    if stamp:
        draw_stamp(strip, stamp)
    return encode_jpeg(strip, 85)
