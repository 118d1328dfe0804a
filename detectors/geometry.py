"""Plane geometry for zones, lines and boxes.

Zones and lines are stored in normalised coordinates (0-1 of the frame's width and
height) so one configuration survives a camera switching between main and sub stream;
boxes stay in frame pixels as the detectors report them. The image y axis points down, so
"left" and "right" below are as seen on the screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from detectors.types import BoxXYXY

type Point = tuple[float, float]

_EPSILON = 1e-9
"""Tolerance for "lies exactly on an edge" so a point on a zone border counts as inside."""


def _cross(o: Point, a: Point, b: Point) -> float:
    """Return the z component of ``(a - o) x (b - o)``."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    """Tell whether ``p`` lies on the closed segment ``a``-``b`` (within tolerance)."""
    if abs(_cross(a, b, p)) > _EPSILON * max(1.0, abs(b[0] - a[0]) + abs(b[1] - a[1])):
        return False
    return (
        min(a[0], b[0]) - _EPSILON <= p[0] <= max(a[0], b[0]) + _EPSILON
        and min(a[1], b[1]) - _EPSILON <= p[1] <= max(a[1], b[1]) + _EPSILON
    )


def point_in_polygon(x: float, y: float, polygon: Sequence[Point]) -> bool:
    """Tell whether ``(x, y)`` is inside ``polygon``; points on an edge count as inside.

    Edges count as inside because a zone drawn along the frame border (``0.0`` or
    ``1.0``) must include people standing right at that border. Even-odd ray casting, so
    self-intersecting polygons behave like most drawing tools show them.
    """
    count = len(polygon)
    if count < 3:
        return False
    point = (x, y)
    inside = False
    for index in range(count):
        a = polygon[index]
        b = polygon[(index + 1) % count]
        if _on_segment(point, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            x_at_y = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < x_at_y:
                inside = not inside
    return inside


def crossing_side(point: Point, a: Point, b: Point) -> int:
    """Return on which side of the directed line ``a`` → ``b`` the ``point`` lies.

    ``+1`` is the right-hand side as seen on screen when walking from ``a`` to ``b``
    (image y axis down), ``-1`` the left-hand side and ``0`` exactly on the line. For a
    line from ``(0, 0.5)`` to ``(1, 0.5)`` the lower half of the frame is ``+1``.
    """
    value = _cross(a, b, point)
    if abs(value) <= _EPSILON:
        return 0
    return 1 if value > 0 else -1


def segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Tell whether the closed segments ``p1``-``p2`` and ``q1``-``q2`` share a point.

    Touching counts: a track whose anchor lands exactly on a line has reached it. The
    direction of a crossing is decided separately with :func:`crossing_side`.
    """
    d1 = crossing_side(p1, q1, q2)
    d2 = crossing_side(p2, q1, q2)
    d3 = crossing_side(q1, p1, p2)
    d4 = crossing_side(q2, p1, p2)
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    return (
        (d1 == 0 and _on_segment(p1, q1, q2))
        or (d2 == 0 and _on_segment(p2, q1, q2))
        or (d3 == 0 and _on_segment(q1, p1, p2))
        or (d4 == 0 and _on_segment(q2, p1, p2))
    )


def box_iou(a: BoxXYXY, b: BoxXYXY) -> float:
    """Return the intersection over union of two ``(x1, y1, x2, y2)`` boxes (0 if empty)."""
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    if inter_w <= 0.0 or inter_h <= 0.0:
        return 0.0
    intersection = inter_w * inter_h
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - intersection
    return intersection / union if union > 0.0 else 0.0


def box_center(box: BoxXYXY) -> Point:
    """Return the centre of a box, in the box's own units."""
    return ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)


def anchor_point(box: BoxXYXY, frame_size: tuple[int, int]) -> Point:
    """Return the normalised bottom-centre of ``box`` (where a person's feet are).

    ``frame_size`` is ``(width, height)`` in pixels. The feet, not the box centre, decide
    zone membership because zones are drawn on the floor: a tall person near a zone's far
    edge has their head over a different part of the floor than their feet.
    """
    width, height = frame_size
    return ((box[0] + box[2]) / 2.0 / width, box[3] / height)


def distance_point_to_box(x: float, y: float, box: BoxXYXY) -> float:
    """Return the Euclidean distance from a point to a box (0 when inside or on it)."""
    dx = max(box[0] - x, 0.0, x - box[2])
    dy = max(box[1] - y, 0.0, y - box[3])
    return float((dx * dx + dy * dy) ** 0.5)
