"""Alert snapshots: draw what the detector saw onto the frame and encode it as JPEG.

The person who receives an alert decides from this image whether to lock doors, so the
boxes must be easy to see on any footage: a thick bright outline, and a caption on a filled
background so it stays readable over busy scenes. Only boxes and captions are drawn; the
image is never altered otherwise (no face blurring, no recognition: see the privacy rules).
A drill's snapshot also carries a "DRILL" banner across its top, so a picture forwarded to a
phone or shown on a dashboard can never be mistaken for a real alert.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.errors import MediaError
from detectors.types import BoxXYXY

BOX_COLOUR_BGR = (0, 0, 255)
"""Red: alert boxes read as alarms on every camera's colour balance."""
CAPTION_TEXT_BGR = (255, 255, 255)
STAMP_COLOUR_BGR = (0, 200, 255)
"""Amber: a drill banner must not read as the red of an alarm."""
STAMP_TEXT_BGR = (0, 0, 0)
DRILL_STAMP = "DRILL"
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _check_frame(frame: NDArray[np.uint8]) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or frame.size == 0:
        raise MediaError(
            f"expected a BGR uint8 frame of shape (height, width, 3), got {frame.dtype} "
            f"{frame.shape}"
        )


def _check_quality(quality: int) -> None:
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be an integer from 1 to 100, got {quality!r}")


def encode_jpeg(frame: NDArray[np.uint8], quality: int = 85) -> bytes:
    """Encode a BGR frame as JPEG; :class:`MediaError` if OpenCV cannot."""
    _check_frame(frame)
    _check_quality(quality)
    ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MediaError(f"OpenCV could not encode a {frame.shape} frame as JPEG")
    return bytes(np.asarray(buffer, dtype=np.uint8).tobytes())


def _printable(caption: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only; anything else would come out as '?'-soup."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in caption)


def draw_boxes(frame: NDArray[np.uint8], boxes: Sequence[tuple[BoxXYXY, str]]) -> NDArray[np.uint8]:
    """Return a copy of ``frame`` with each box outlined and its caption above it.

    Line width and text size follow the frame size so a 4K snapshot and a 640x360 one
    both stay legible. Boxes are clipped to the frame; a caption that would leave the
    top edge goes inside the box instead.
    """
    _check_frame(frame)
    canvas = frame.copy()
    height, width = canvas.shape[:2]
    thickness = max(2, round(min(height, width) / 240))
    scale = max(0.4, min(height, width) / 900)
    for (x1, y1, x2, y2), caption in boxes:
        left = int(np.clip(round(min(x1, x2)), 0, width - 1))
        right = int(np.clip(round(max(x1, x2)), 0, width - 1))
        top = int(np.clip(round(min(y1, y2)), 0, height - 1))
        bottom = int(np.clip(round(max(y1, y2)), 0, height - 1))
        cv2.rectangle(canvas, (left, top), (right, bottom), BOX_COLOUR_BGR, thickness)
        text = _printable(caption)
        if not text:
            continue
        (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, 1)
        pad = 3
        label_h = text_h + baseline + 2 * pad
        label_top = top - label_h if top - label_h >= 0 else top
        cv2.rectangle(
            canvas,
            (left, label_top),
            (min(width - 1, left + text_w + 2 * pad), label_top + label_h),
            BOX_COLOUR_BGR,
            cv2.FILLED,
        )
        cv2.putText(
            canvas,
            text,
            (left + pad, label_top + pad + text_h),
            _FONT,
            scale,
            CAPTION_TEXT_BGR,
            1,
            cv2.LINE_AA,
        )
    return canvas


def draw_stamp(canvas: NDArray[np.uint8], text: str) -> NDArray[np.uint8]:
    """Draw ``text`` on a filled banner across the top of ``canvas`` (in place, returned).

    The banner is a tenth of the frame high (at least 24 px) and as wide as the frame, so
    it is seen at thumbnail size too.
    """
    _check_frame(canvas)
    height, width = canvas.shape[:2]
    banner_h = min(height, max(24, height // 10))
    cv2.rectangle(canvas, (0, 0), (width - 1, banner_h - 1), STAMP_COLOUR_BGR, cv2.FILLED)
    label = _printable(text)
    thickness = max(1, banner_h // 12)
    scale = cv2.getFontScaleFromHeight(_FONT, int(banner_h * 0.6), thickness)
    (text_w, text_h), _ = cv2.getTextSize(label, _FONT, scale, thickness)
    origin = (max(0, (width - text_w) // 2), (banner_h + text_h) // 2)
    cv2.putText(canvas, label, origin, _FONT, scale, STAMP_TEXT_BGR, thickness, cv2.LINE_AA)
    return canvas


def annotate_jpeg(
    frame: NDArray[np.uint8],
    boxes: Sequence[tuple[BoxXYXY, str]],
    quality: int = 85,
    *,
    stamp: str | None = None,
) -> bytes:
    """Draw ``(box, caption)`` pairs (and a ``stamp`` banner) on a copy of ``frame``; JPEG."""
    _check_quality(quality)
    canvas = draw_boxes(frame, boxes)
    if stamp:
        draw_stamp(canvas, stamp)
    return encode_jpeg(canvas, quality)
