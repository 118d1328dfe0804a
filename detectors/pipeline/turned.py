"""Turned views: a frame (or a square of it) rotated a quarter turn, and the way back.

Detectors trained on upright people do not see a person lying on the floor, but a person
lying with their head to the left *is* an upright person once the image is turned 90°
clockwise (head to the right: 270°). The lying-person search runs the detector on such
views and maps what it finds back to frame pixels here. Rotation by quarter turns is
exact (no interpolation), so the mapping is exact too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.types import BoxXYXY, Detection

type Turn = Literal[90, 270]
"""Clockwise quarter turns applied to the view: 90 finds people whose head points left."""

TURNS: tuple[Turn, Turn] = (90, 270)

_CV2_ROTATION = {90: cv2.ROTATE_90_CLOCKWISE, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def turn_image(image: NDArray[np.uint8], turn: Turn) -> NDArray[np.uint8]:
    """Rotate ``image`` clockwise by ``turn`` degrees (a contiguous copy)."""
    turned: NDArray[np.uint8] = cv2.rotate(image, _CV2_ROTATION[turn])
    return turned


def box_from_turned(box: BoxXYXY, turn: Turn, size: tuple[int, int]) -> BoxXYXY:
    """Map a box found in the turned image back to the unturned image of ``size`` (w, h).

    Turning 90° clockwise sends pixel ``(x, y)`` of a ``w x h`` image to
    ``(h - y, x)``; 270° sends it to ``(y, w - x)`` (edge convention, so a box maps to a
    box of the same area).
    """
    width, height = size
    x1, y1, x2, y2 = box
    if turn == 90:
        return (y1, height - x2, y2, height - x1)
    return (width - y2, x1, width - y1, x2)


@dataclass(frozen=True, slots=True)
class TurnedView:
    """A region of the frame (integer pixels) and the quarter turn it is analysed at."""

    turn: Turn
    region: tuple[int, int, int, int]

    @classmethod
    def whole(cls, frame_size: tuple[int, int], turn: Turn) -> TurnedView:
        """The whole frame, turned."""
        return cls(turn, (0, 0, frame_size[0], frame_size[1]))

    def render(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The pixels of the region, turned."""
        x1, y1, x2, y2 = self.region
        return turn_image(image[y1:y2, x1:x2], self.turn)

    def box_to_frame(self, box: BoxXYXY) -> BoxXYXY:
        """Map a box in the rendered view back to frame pixels."""
        x1, y1, x2, y2 = self.region
        bx1, by1, bx2, by2 = box_from_turned(box, self.turn, (x2 - x1, y2 - y1))
        return (bx1 + x1, by1 + y1, bx2 + x1, by2 + y1)

    def box_to_view(self, box: BoxXYXY) -> BoxXYXY:
        """Map a frame box into the rendered view (the inverse of :meth:`box_to_frame`)."""
        x1, y1, x2, y2 = self.region
        local = (box[0] - x1, box[1] - y1, box[2] - x1, box[3] - y1)
        # A quarter turn one way is undone by the other, on the turned image's size.
        undo: Turn = 270 if self.turn == 90 else 90
        return box_from_turned(local, undo, (y2 - y1, x2 - x1))

    def to_frame(self, detections: list[Detection]) -> list[Detection]:
        """The detections of the rendered view, in frame pixels."""
        return [
            Detection(d.label, d.score, self.box_to_frame(d.box), d.class_id, d.evidence)
            for d in detections
        ]


def square_region(
    box: BoxXYXY, frame_size: tuple[int, int], min_side: int, *, scale: float = 3.5
) -> tuple[int, int, int, int]:
    """An integer square around ``box``: ``scale`` times its longer side, at least ``min_side``.

    The square is moved (not shrunk) to lie inside the frame; only a frame smaller than the
    square clips it. Analysed at about the model's own input size, a person 90 px long is
    seen at full resolution instead of being shrunk with the whole frame. Measured with
    NanoDet (composited lying people on vtest): a square 3.5 times the person's length
    scores them best (0.66 mean for 145 px, 0.69 for 90-110 px at the 416 minimum).
    """
    width, height = frame_size
    longer = max(box[2] - box[0], box[3] - box[1])
    side = max(float(min_side), scale * longer)
    side_x, side_y = min(side, float(width)), min(side, float(height))
    side_x = side_y = min(side_x, side_y)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1 = round(min(max(cx - side_x / 2, 0.0), width - side_x))
    y1 = round(min(max(cy - side_y / 2, 0.0), height - side_y))
    return (x1, y1, x1 + round(side_x), y1 + round(side_y))


TILE_ASPECT = 0.75
"""A tile is this much as wide as the frame is tall: turned, it is a 4:3 landscape view,
the shape NanoDet was trained on (COCO photos stretched to a square)."""
TILE_OVERLAP = 0.2
"""Neighbouring tiles share at least this share of a tile, so few people are cut by both."""


def sweep_tiles(frame_size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The regions a sweep turns, left to right: full-height strips of the frame.

    Why not the whole frame: a 4:3 frame turned is a 3:4 portrait that the detector's
    square input squashes, and a lying person is shrunk to half size. Measured on
    composited lying people (32 places and directions on vtest, f32): the whole turned frame
    finds a 145 x 68 px person in 66 %, a 110 x 52 px one in 12 % and a 90 x 40 px one in
    0 % of views; two strips find them in 100 %, 100 % and 84 %.
    """
    width, height = frame_size
    tile = min(width, max(1, round(TILE_ASPECT * height)))
    if tile >= width:
        return [(0, 0, width, height)]
    count = math.ceil(width / tile)
    if count * tile - width < TILE_OVERLAP * tile * (count - 1):
        count += 1
    starts = [round(i * (width - tile) / (count - 1)) for i in range(count)]
    return [(x, 0, x + tile, height) for x in starts]
