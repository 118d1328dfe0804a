"""The per-camera clip buffer of the fight model: 16 small crops, sampled at the model's rate.

While the fight rule's pose gate is open, frames are cut to a fixed window around the
people involved and kept as the model's 112x112 uint8 input (37 kB each, so a full clip is
0.6 MB per camera however large the camera's frames are). Frames are taken on a grid at
the model's frame rate (8 fps for the default model: it was trained on 16 frames spread
over two-second clips), whatever rate they are offered at, so a 25 fps camera and a 10 fps
file give the model clips of the same duration.

Why a crop and not the whole frame: the model was fine-tuned on clips cut around fights,
where the people fill most of the picture. A whole 768x576 CCTV frame shrunk to 112x112
makes two people 15 px tall and fills the clip with everybody else; on vtest.avi's
pedestrians the whole-frame clips score up to 0.92 "fight" while crops around people
score near 0 (docs/models.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from detectors.types import BoxXYXY

type PrepareFrame = Callable[[NDArray[np.uint8], BoxXYXY], NDArray[np.uint8]]

WINDOW_ASPECT = 171 / 128
"""Width / height of a crop window: the model's resize (171x128) then sees no distortion."""

WINDOW_MARGIN = 0.5
"""Margin added on every side of the group's box, in person heights: fighters move, and a
window fitted tightly to the first frame would cut them off two frames later."""

WINDOW_MIN_SIDE = 112.0
"""Windows are never smaller than the model input (no point cutting a 40 px window)."""

EARLY_TOLERANCE = 0.25
"""A frame this fraction of a period before its slot on the grid still takes the slot."""

MAX_GAP_PERIODS = 4.0
"""Two kept frames further apart than this many periods (0.5 s at 8 fps: three frames
missing) break the clip: the camera stalled, or delivers too few frames for the model,
and the clip starts over. A busy two-core box delays the sampler by a few hundred ms at
times; that much is tolerated."""


def union_box(boxes: Sequence[BoxXYXY]) -> BoxXYXY:
    """The smallest box holding every box in ``boxes`` (not empty)."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def crop_window(boxes: Sequence[BoxXYXY], frame_size: tuple[int, int]) -> BoxXYXY:
    """A window around ``boxes``: margin, the model's aspect ratio, inside the frame.

    The window is widened (never narrowed) to 171:128 and shifted, not shrunk, to stay
    inside the frame; only a frame smaller than the window clips it.
    """
    width, height = frame_size
    x1, y1, x2, y2 = union_box(boxes)
    person = max(1.0, sum(b[3] - b[1] for b in boxes) / len(boxes))
    margin = WINDOW_MARGIN * person
    w = max(x2 - x1 + 2 * margin, WINDOW_MIN_SIDE)
    h = max(y2 - y1 + 2 * margin, WINDOW_MIN_SIDE)
    if w / h < WINDOW_ASPECT:
        w = h * WINDOW_ASPECT
    else:
        h = w / WINDOW_ASPECT
    w, h = min(w, float(width)), min(h, float(height))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left = min(max(0.0, cx - w / 2), width - w)
    top = min(max(0.0, cy - h / 2), height - h)
    return (round(left, 1), round(top, 1), round(left + w, 1), round(top + h, 1))


def window_holds(window: BoxXYXY, boxes: Sequence[BoxXYXY], share: float = 0.8) -> bool:
    """Whether at least ``share`` of the group's box lies inside ``window``."""
    gx1, gy1, gx2, gy2 = union_box(boxes)
    area = max(1e-6, (gx2 - gx1) * (gy2 - gy1))
    ix = max(0.0, min(gx2, window[2]) - max(gx1, window[0]))
    iy = max(0.0, min(gy2, window[3]) - max(gy1, window[1]))
    return ix * iy / area >= share


class ClipBuffer:
    """The last ``length`` frames of one window, taken on a grid at ``fps``.

    ``stride`` new frames must arrive after a clip was taken before the next is ready, so
    a 16-frame clip with stride 8 is judged once a second with half its frames new.
    """

    def __init__(
        self,
        window: BoxXYXY,
        *,
        length: int,
        fps: float,
        stride: int,
        prepare: PrepareFrame,
    ) -> None:
        """Start empty; ``prepare`` cuts a frame to the model's input for ``window``."""
        if length < 1 or not 1 <= stride <= length or fps <= 0:
            raise ValueError(f"bad clip geometry: length {length}, stride {stride}, fps {fps}")
        self.window = window
        self.length = length
        self.period = 1.0 / fps
        self.stride = stride
        self._prepare = prepare
        self._frames: deque[tuple[float, NDArray[np.uint8]]] = deque(maxlen=length)
        self._next_due = float("-inf")
        self._fresh = 0
        self.breaks = 0
        """How often a gap broke the clip (frames lost or too slow a camera)."""

    def __len__(self) -> int:
        """Frames held now."""
        return len(self._frames)

    def offer(self, image: NDArray[np.uint8], timestamp: float) -> bool:
        """Keep ``image`` if it takes the next slot of the grid; return whether it did."""
        if self._frames and timestamp <= self._frames[-1][0]:
            return False
        if timestamp < self._next_due - EARLY_TOLERANCE * self.period:
            return False
        if self._frames and timestamp - self._frames[-1][0] > MAX_GAP_PERIODS * self.period:
            self._frames.clear()
            self._fresh = 0
            self.breaks += 1
        self._frames.append((timestamp, self._prepare(image, self.window)))
        self._fresh += 1
        due = self._next_due + self.period
        self._next_due = due if due > timestamp - self.period else timestamp + self.period
        return True

    @property
    def ready(self) -> bool:
        """A full clip with at least ``stride`` frames the last clip did not have."""
        return len(self._frames) == self.length and self._fresh >= self.stride

    def take(self) -> tuple[list[NDArray[np.uint8]], float, float]:
        """The clip (oldest first) and its first and last frame times; marks it judged."""
        if not self.ready:
            raise RuntimeError("the clip is not ready")
        self._fresh = 0
        frames = [frame for _t, frame in self._frames]
        return frames, self._frames[0][0], self._frames[-1][0]
