"""Zones, lines and boxes: edges inside, crossings, IoU and anchors."""

from __future__ import annotations

import pytest

from detectors.geometry import (
    anchor_point,
    box_iou,
    crossing_side,
    distance_point_to_box,
    point_in_polygon,
    segments_cross,
)

SQUARE = ((0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6))
# An L shape: the square (0,0)-(1,1) minus its top-right quarter.
ELL = ((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0))


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [
        (0.4, 0.4, True),
        (0.1, 0.4, False),
        (0.7, 0.4, False),
        (0.4, 0.19999, False),
        (0.2, 0.4, True),  # left edge
        (0.6, 0.6, True),  # corner
        (0.4, 0.6, True),  # bottom edge
        (0.6000001, 0.4, False),
    ],
)
def test_point_in_square_counts_edges_as_inside(x: float, y: float, inside: bool) -> None:
    assert point_in_polygon(x, y, SQUARE) is inside


def test_point_in_concave_polygon() -> None:
    assert point_in_polygon(0.75, 0.25, ELL) is False
    assert point_in_polygon(0.75, 0.75, ELL) is True
    assert point_in_polygon(0.25, 0.25, ELL) is True
    assert point_in_polygon(0.75, 0.5, ELL) is True  # on the inner edge


def test_zone_along_frame_border_includes_border() -> None:
    full = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    assert point_in_polygon(0.5, 1.0, full) is True
    assert point_in_polygon(1.0, 1.0, full) is True


def test_degenerate_polygon_contains_nothing() -> None:
    assert point_in_polygon(0.5, 0.5, ((0.0, 0.0), (1.0, 1.0))) is False


def test_crossing_side_right_hand_is_positive_on_screen() -> None:
    a, b = (0.0, 0.5), (1.0, 0.5)
    assert crossing_side((0.5, 0.8), a, b) == 1
    assert crossing_side((0.5, 0.2), a, b) == -1
    assert crossing_side((0.3, 0.5), a, b) == 0
    # Reversing the line swaps the sides.
    assert crossing_side((0.5, 0.8), b, a) == -1


@pytest.mark.parametrize(
    ("p1", "p2", "q1", "q2", "expected"),
    [
        ((0.5, 0.4), (0.5, 0.6), (0.0, 0.5), (1.0, 0.5), True),
        ((0.5, 0.4), (0.5, 0.45), (0.0, 0.5), (1.0, 0.5), False),
        ((1.5, 0.4), (1.5, 0.6), (0.0, 0.5), (1.0, 0.5), False),  # past the line's end
        ((0.5, 0.4), (0.5, 0.5), (0.0, 0.5), (1.0, 0.5), True),  # touching
        ((0.0, 0.2), (1.0, 0.2), (0.0, 0.5), (1.0, 0.5), False),  # parallel
        ((0.2, 0.5), (0.6, 0.5), (0.5, 0.5), (1.0, 0.5), True),  # collinear overlap
        ((0.0, 0.5), (0.4, 0.5), (0.5, 0.5), (1.0, 0.5), False),  # collinear apart
    ],
)
def test_segments_cross(
    p1: tuple[float, float],
    p2: tuple[float, float],
    q1: tuple[float, float],
    q2: tuple[float, float],
    expected: bool,
) -> None:
    assert segments_cross(p1, p2, q1, q2) is expected
    assert segments_cross(q1, q2, p1, p2) is expected


def test_box_iou_exact_values() -> None:
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0
    assert box_iou((0, 0, 10, 10), (2, 2, 4, 4)) == pytest.approx(4 / 100)
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_anchor_point_is_normalised_bottom_centre() -> None:
    assert anchor_point((100.0, 200.0, 300.0, 600.0), (1000, 800)) == (0.2, 0.75)


def test_distance_point_to_box() -> None:
    box = (10.0, 10.0, 20.0, 20.0)
    assert distance_point_to_box(15.0, 15.0, box) == 0.0
    assert distance_point_to_box(23.0, 24.0, box) == pytest.approx(5.0)
    assert distance_point_to_box(5.0, 15.0, box) == pytest.approx(5.0)
