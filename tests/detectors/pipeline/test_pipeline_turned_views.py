"""Turned views: quarter turns of a frame or a square of it, and the exact way back."""

import itertools

import numpy as np
import pytest

from detectors.pipeline.turned import (
    TURNS,
    Turn,
    TurnedView,
    box_from_turned,
    square_region,
    sweep_tiles,
    turn_image,
)
from detectors.types import Detection


def _marked(size: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    width, height = size
    image = np.zeros((height, width, 3), np.uint8)
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 255
    return image


def _white_box(image: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(image[..., 0])
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


@pytest.mark.parametrize("turn", TURNS)
def test_a_box_found_in_the_turned_image_maps_back_exactly(turn: Turn) -> None:
    image = _marked((768, 576), (250, 400, 395, 468))  # a lying person's box
    turned = turn_image(image, turn)
    assert turned.shape == (768, 576, 3)
    found = _white_box(turned)
    assert found[3] - found[1] == 145, "lying 145 px wide, the turned view shows them 145 tall"
    assert box_from_turned(found, turn, (768, 576)) == (250.0, 400.0, 395.0, 468.0)


def test_turn_90_puts_a_head_on_the_left_on_top_and_270_a_head_on_the_right() -> None:
    image = np.zeros((10, 20, 3), np.uint8)
    image[5, 0] = 255  # far left
    assert _white_box(turn_image(image, 90))[1] == 0.0  # top row
    image = np.zeros((10, 20, 3), np.uint8)
    image[5, 19] = 255  # far right
    assert _white_box(turn_image(image, 270))[1] == 0.0


@pytest.mark.parametrize("turn", TURNS)
def test_a_region_view_renders_its_pixels_and_maps_detections_back(turn: Turn) -> None:
    image = _marked((768, 576), (300, 420, 400, 460))
    view = TurnedView(turn, (200, 150, 616, 566))
    rendered = view.render(image)
    assert rendered.shape == (416, 416, 3)
    found = _white_box(rendered)
    detection = Detection("person", 0.7, found, 0, ("rotated_sweep",))
    assert view.to_frame([detection]) == [
        Detection("person", 0.7, (300.0, 420.0, 400.0, 460.0), 0, ("rotated_sweep",))
    ]


def test_whole_frame_view() -> None:
    assert TurnedView.whole((640, 480), 270) == TurnedView(270, (0, 0, 640, 480))


@pytest.mark.parametrize(
    ("size", "count"),
    [((768, 576), 2), ((640, 480), 2), ((1920, 1080), 3), ((1280, 720), 3), ((480, 640), 1)],
)
def test_sweep_tiles_cover_the_frame_in_overlapping_4_3_strips(
    size: tuple[int, int], count: int
) -> None:
    width, height = size
    tiles = sweep_tiles(size)
    assert len(tiles) == count
    assert tiles[0][0] == 0 and tiles[-1][2] == width
    for x1, y1, x2, y2 in tiles:
        assert (y1, y2) == (0, height)
        assert x2 - x1 == min(width, round(0.75 * height))
    for left, right in itertools.pairwise(tiles):
        assert left[2] - right[0] >= 0.2 * (left[2] - left[0]), "neighbours overlap"


def test_square_region_is_three_and_a_half_lengths_inside_the_frame() -> None:
    assert square_region((250, 400, 395, 468), (768, 576), 416) == (69, 68, 577, 576)
    small = square_region((10, 10, 40, 30), (768, 576), 416)
    assert small == (0, 0, 416, 416), "at least the model side, moved into the frame"
    tiny_frame = square_region((10, 10, 40, 30), (300, 200), 416)
    assert tiny_frame == (0, 0, 200, 200), "a frame smaller than the square clips it"
