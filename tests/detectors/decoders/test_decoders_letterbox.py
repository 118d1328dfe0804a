"""Letterbox geometry: exact pixel placement and exact mapping back to the frame."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.decoders.letterbox import Letterbox, letterbox
from detectors.errors import MediaError


def _frame(width: int, height: int, channels: int | None = 3) -> NDArray[np.uint8]:
    shape = (height, width) if channels is None else (height, width, channels)
    return np.zeros(shape, dtype=np.uint8)


def _bright_bounds(image: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """Return x1, y1, x2, y2 (exclusive) of the pixels brighter than mid-grey."""
    mask = image.reshape(image.shape[0], image.shape[1], -1)[..., 0] > 128
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_wide_frame_is_centred_vertically_with_exact_geometry() -> None:
    image, geometry = letterbox(_frame(200, 100), (400, 400))

    assert geometry == Letterbox(
        frame_size=(200, 100),
        input_size=(400, 400),
        scale_x=2.0,
        scale_y=2.0,
        pad_x=0.0,
        pad_y=100.0,
    )
    assert image.shape == (400, 400, 3)
    assert image.dtype == np.uint8
    assert np.all(image[:100] == 114)
    assert np.all(image[300:] == 114)
    assert np.all(image[100:300] == 0)


def test_upscaled_content_lands_where_the_geometry_says_and_maps_back() -> None:
    frame = _frame(200, 100)
    frame[10:30, 20:40] = 255

    image, geometry = letterbox(frame, (400, 400))

    assert _bright_bounds(image) == (40, 120, 80, 160)
    assert geometry.boxes_to_input(np.array([[20, 10, 40, 30]], dtype=np.float32)).tolist() == [
        [40.0, 120.0, 80.0, 160.0]
    ]
    found = np.array([_bright_bounds(image)], dtype=np.float32)
    assert geometry.boxes_to_frame(found).tolist() == [[20.0, 10.0, 40.0, 30.0]]


def test_downscaled_content_maps_back_exactly() -> None:
    frame = _frame(640, 480)
    frame[50:150, 100:200] = 255

    image, geometry = letterbox(frame, (320, 320))

    assert (geometry.scale_x, geometry.scale_y, geometry.pad_x, geometry.pad_y) == (
        0.5,
        0.5,
        0.0,
        40.0,
    )
    assert _bright_bounds(image) == (50, 65, 100, 115)
    found = np.array([_bright_bounds(image)], dtype=np.float32)
    assert geometry.boxes_to_frame(found).tolist() == [[100.0, 50.0, 200.0, 150.0]]


def test_tall_frame_is_centred_horizontally_and_round_trips() -> None:
    image, geometry = letterbox(_frame(100, 300), (320, 320))

    # 100 * 320/300 = 106.67 rounds to 107 columns; (320 - 107) // 2 = 106 on the left.
    assert geometry.pad_x == 106.0
    assert geometry.pad_y == 0.0
    assert geometry.scale_x == 107 / 100
    assert geometry.scale_y == 320 / 300
    assert np.all(image[:, :106] == 114)
    assert np.all(image[:, 106:213] == 0)
    assert np.all(image[:, 213:] == 114)

    boxes = np.array([[0, 0, 100, 300], [12.5, 40, 60, 250]], dtype=np.float32)
    back = geometry.boxes_to_frame(geometry.boxes_to_input(boxes))
    np.testing.assert_allclose(back, boxes, atol=1e-4)
    assert geometry.boxes_to_input(boxes)[0].tolist() == pytest.approx([106, 0, 213, 320])


def test_odd_padding_puts_the_extra_pixel_right() -> None:
    image, geometry = letterbox(_frame(100, 100), (101, 50))

    assert (geometry.pad_x, geometry.pad_y) == (25.0, 0.0)
    assert np.all(image[:, :25] == 114)
    assert np.all(image[:, 25:75] == 0)
    assert np.all(image[:, 75:] == 114)


def test_stretch_mode_has_no_padding_and_round_trips_non_square() -> None:
    frame = _frame(640, 480)
    frame[120:240, 160:320] = 255

    image, geometry = letterbox(frame, (320, 320), keep_ratio=False)

    assert image.shape == (320, 320, 3)
    assert (geometry.scale_x, geometry.scale_y) == (0.5, 320 / 480)
    assert (geometry.pad_x, geometry.pad_y) == (0.0, 0.0)
    assert _bright_bounds(image) == (80, 80, 160, 160)
    found = np.array([_bright_bounds(image)], dtype=np.float32)
    np.testing.assert_allclose(geometry.boxes_to_frame(found), [[160, 120, 320, 240]], atol=1e-4)
    points = np.array([[[0.0, 0.0], [639.0, 479.0]]], dtype=np.float32)
    np.testing.assert_allclose(
        geometry.points_to_frame(geometry.points_to_input(points)), points, atol=1e-3
    )


def test_frame_of_input_size_is_returned_without_copy() -> None:
    frame = _frame(64, 32)

    image, geometry = letterbox(frame, (64, 32))

    assert image is frame
    assert (geometry.scale_x, geometry.scale_y, geometry.pad_x, geometry.pad_y) == (
        1.0,
        1.0,
        0.0,
        0.0,
    )


def test_grey_and_single_channel_frames_keep_their_layout() -> None:
    grey, _ = letterbox(_frame(200, 100, channels=None), (100, 100), pad_value=7)
    single, _ = letterbox(_frame(200, 100, channels=1), (100, 100))

    assert grey.shape == (100, 100)
    assert grey[0, 0] == 7
    assert grey[50, 50] == 0
    assert single.shape == (100, 100, 1)


def test_boxes_are_clipped_to_the_frame_and_points_are_not() -> None:
    _, geometry = letterbox(_frame(200, 100), (400, 400))

    boxes = np.array([[-20, 40, 440, 330], [10, 0, 50, 90]], dtype=np.float32)
    assert geometry.boxes_to_frame(boxes).tolist() == [[0, 0, 200, 100], [5, 0, 25, 0]]
    points = np.array([[10, 0]], dtype=np.float32)
    assert geometry.points_to_frame(points).tolist() == [[5.0, -50.0]]


def test_empty_frame_and_bad_input_size_are_refused() -> None:
    with pytest.raises(MediaError, match=r"\(0, 10, 3\)"):
        letterbox(np.zeros((0, 10, 3), dtype=np.uint8), (32, 32))
    with pytest.raises(ValueError, match=r"\(0, 32\)"):
        letterbox(_frame(10, 10), (0, 32))
