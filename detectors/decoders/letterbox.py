"""Fit a camera frame into a model's fixed input and map results back exactly.

``keep_ratio=True`` scales the frame by one factor so it fits, then pads it to the input
size with the image **centred** (integer padding on each side, the extra pixel of an odd
remainder going to the right/bottom). Centring matches how YOLO and MoveNet preprocess
their inputs, so those models see objects where they expect them. ``keep_ratio=False``
stretches the frame to the input size with no padding.

Because the resized size is rounded to whole pixels, the factor cv2 actually applies is
``resized / original`` per axis, which can differ slightly between x and y. The
:class:`Letterbox` records exactly those factors and the padding, so mapping a result
back is the exact inverse of what was done to the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.errors import MediaError


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Geometry of one frame -> model-input transform.

    A point ``u`` in frame pixels (edge convention: pixel ``i`` spans ``[i, i + 1)``)
    lands at ``u * scale + pad`` in model-input pixels. Sizes are ``(width, height)``.
    """

    frame_size: tuple[int, int]
    input_size: tuple[int, int]
    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def points_to_frame(self, xy: NDArray[np.floating]) -> NDArray[np.float32]:
        """Map ``[..., 2]`` (x, y) points from model-input to frame pixels, unclipped.

        Points are not clipped because a keypoint just outside the frame still tells
        which way a limb points; callers that need pixels inside the frame clip them.
        """
        points = np.asarray(xy, dtype=np.float64)
        offset = np.array([self.pad_x, self.pad_y])
        scale = np.array([self.scale_x, self.scale_y])
        result: NDArray[np.float32] = ((points - offset) / scale).astype(np.float32)
        return result

    def points_to_input(self, xy: NDArray[np.floating]) -> NDArray[np.float32]:
        """Map ``[..., 2]`` (x, y) points from frame to model-input pixels (the inverse)."""
        points = np.asarray(xy, dtype=np.float64)
        offset = np.array([self.pad_x, self.pad_y])
        scale = np.array([self.scale_x, self.scale_y])
        result: NDArray[np.float32] = (points * scale + offset).astype(np.float32)
        return result

    def boxes_to_frame(self, boxes: NDArray[np.floating]) -> NDArray[np.float32]:
        """Map ``[N, 4]`` x1, y1, x2, y2 boxes to frame pixels, clipped to the frame."""
        corners = np.asarray(boxes, dtype=np.float64).reshape(-1, 2, 2)
        offset = np.array([self.pad_x, self.pad_y])
        scale = np.array([self.scale_x, self.scale_y])
        mapped = (corners - offset) / scale
        width, height = self.frame_size
        np.clip(mapped, 0.0, np.array([width, height], dtype=np.float64), out=mapped)
        result: NDArray[np.float32] = mapped.reshape(-1, 4).astype(np.float32)
        return result

    def boxes_to_input(self, boxes: NDArray[np.floating]) -> NDArray[np.float32]:
        """Map ``[N, 4]`` boxes from frame to model-input pixels (zones, tests)."""
        return self.points_to_input(np.asarray(boxes).reshape(-1, 2, 2)).reshape(-1, 4)


def letterbox(
    frame: NDArray[np.uint8],
    input_size: tuple[int, int],
    *,
    keep_ratio: bool = True,
    pad_value: int = 114,
) -> tuple[NDArray[np.uint8], Letterbox]:
    """Resize ``frame`` (``[H, W]`` or ``[H, W, C]``) to ``input_size`` = ``(width, height)``.

    Uses ``cv2.resize`` with ``INTER_LINEAR``; padding (``keep_ratio`` only) is filled
    with ``pad_value``, the grey YOLO models were trained with. When the frame already
    has the input size it is returned as is, without a copy.
    """
    if frame.ndim not in (2, 3) or frame.shape[0] == 0 or frame.shape[1] == 0:
        shape = tuple(frame.shape)
        msg = f"cannot letterbox a frame of shape {shape}; expected [H, W] or [H, W, C]"
        raise MediaError(msg)
    input_width, input_height = input_size
    if input_width <= 0 or input_height <= 0:
        msg = f"model input size must be positive, got {input_size}"
        raise ValueError(msg)
    height, width = frame.shape[:2]
    if keep_ratio:
        scale = min(input_width / width, input_height / height)
        resized_width = min(input_width, max(1, round(width * scale)))
        resized_height = min(input_height, max(1, round(height * scale)))
    else:
        resized_width, resized_height = input_width, input_height
    pad_x = (input_width - resized_width) // 2
    pad_y = (input_height - resized_height) // 2
    geometry = Letterbox(
        frame_size=(width, height),
        input_size=(input_width, input_height),
        scale_x=resized_width / width,
        scale_y=resized_height / height,
        pad_x=float(pad_x),
        pad_y=float(pad_y),
    )
    if (resized_width, resized_height) == (width, height):
        resized = frame
    else:
        resized = cv2.resize(frame, (resized_width, resized_height), interpolation=cv2.INTER_LINEAR)
        # cv2 drops a trailing channel axis of length 1; keep the caller's layout.
        resized = resized.reshape((resized_height, resized_width, *frame.shape[2:]))
    if (resized_width, resized_height) == (input_width, input_height):
        return resized, geometry
    canvas = np.full((input_height, input_width, *frame.shape[2:]), pad_value, dtype=np.uint8)
    canvas[pad_y : pad_y + resized_height, pad_x : pad_x + resized_width] = resized
    return canvas, geometry
