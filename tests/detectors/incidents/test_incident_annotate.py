"""Alert snapshots: boxes and captions drawn where they belong, JPEG encoding, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.annotate import annotate_jpeg, draw_boxes, encode_jpeg
from detectors.errors import MediaError

GREY = 128


def grey_frame(height: int = 240, width: int = 320) -> NDArray[np.uint8]:
    return np.full((height, width, 3), GREY, dtype=np.uint8)


def decode(jpeg: bytes) -> NDArray[np.uint8]:
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, dtype=np.uint8)


def is_red(pixel: NDArray[np.uint8]) -> bool:
    blue, green, red = (int(v) for v in pixel)
    return red > 200 and blue < 60 and green < 60


def test_encode_jpeg_round_trips_within_jpeg_error() -> None:
    frame = np.zeros((48, 64, 3), dtype=np.uint8)
    frame[:, 32:] = (10, 200, 90)

    jpeg = encode_jpeg(frame, 100)

    assert jpeg[:2] == b"\xff\xd8"
    assert jpeg[-2:] == b"\xff\xd9"
    image = decode(jpeg)
    assert image.shape == (48, 64, 3)
    assert int(np.abs(image[4:44, 4:28].astype(int) - frame[4:44, 4:28]).max()) <= 3
    assert int(np.abs(image[4:44, 36:60].astype(int) - frame[4:44, 36:60]).max()) <= 3


def test_lower_quality_gives_a_smaller_file() -> None:
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8)
    assert len(encode_jpeg(frame, 30)) < len(encode_jpeg(frame, 95))


def test_box_outline_and_caption_are_drawn_and_input_untouched() -> None:
    frame = grey_frame()
    original = frame.copy()

    image = decode(annotate_jpeg(frame, [((50.0, 80.0, 150.0, 200.0), "weapon 0.91")], quality=100))

    assert np.array_equal(frame, original)
    assert image.shape == (240, 320, 3)
    for x, y in ((50, 140), (150, 140), (100, 80), (100, 200)):
        assert is_red(image[y, x]), (x, y, image[y, x])
    # Inside and far outside the box the frame is unchanged.
    assert int(np.abs(image[140, 100].astype(int) - GREY).max()) <= 4
    assert int(np.abs(image[20, 300].astype(int) - GREY).max()) <= 4
    # The caption sits on a red band just above the box, with white text in it.
    band = image[60:78, 52:120]
    assert sum(is_red(p) for p in band.reshape(-1, 3)) > band.shape[0] * band.shape[1] // 2
    assert int(band.min(axis=2).max()) > 200


def test_caption_moves_inside_a_box_that_touches_the_top() -> None:
    image = draw_boxes(grey_frame(), [((10.0, 0.0, 200.0, 150.0), "fight")])

    assert is_red(image[3, 12])
    assert is_red(image[17, 40])
    assert int(image[5:14, 12:40].min(axis=2).max()) > 200
    assert int(np.abs(image[100, 100].astype(int) - GREY).max()) == 0


def test_boxes_outside_the_frame_are_clipped() -> None:
    image = draw_boxes(grey_frame(), [((-50.0, -20.0, 1000.0, 900.0), "")])

    assert is_red(image[0, 100])
    assert is_red(image[239, 100])
    assert is_red(image[120, 0])
    assert is_red(image[120, 319])
    assert int(np.abs(image[120, 160].astype(int) - GREY).max()) == 0


def test_non_ascii_caption_is_drawn_without_error() -> None:
    image = draw_boxes(grey_frame(), [((40.0, 60.0, 100.0, 120.0), "persona caída 0.8")])
    assert is_red(image[90, 40])


def test_no_boxes_leaves_the_frame_as_it_was() -> None:
    frame = grey_frame()
    assert np.array_equal(draw_boxes(frame, []), frame)


def test_wrong_frame_shapes_and_types_are_refused() -> None:
    with pytest.raises(MediaError) as err:
        annotate_jpeg(np.zeros((10, 10), dtype=np.uint8), [])
    assert (
        str(err.value)
        == "expected a BGR uint8 frame of shape (height, width, 3), got uint8 (10, 10)"
    )
    with pytest.raises(MediaError) as err:
        encode_jpeg(np.zeros((10, 10, 3), dtype=np.float32), 90)
    assert (
        str(err.value)
        == "expected a BGR uint8 frame of shape (height, width, 3), got float32 (10, 10, 3)"
    )


@pytest.mark.parametrize("quality", [0, 101, True])
def test_quality_out_of_range_is_refused(quality: int) -> None:
    with pytest.raises(ValueError) as err:
        encode_jpeg(grey_frame(), quality)
    assert str(err.value) == f"JPEG quality must be an integer from 1 to 100, got {quality!r}"


def is_amber(pixel: NDArray[np.uint8]) -> bool:
    blue, green, red = (int(v) for v in pixel)
    return red > 200 and 150 < green < 240 and blue < 60


def test_a_drill_stamp_is_a_banner_across_the_top_with_dark_text() -> None:
    frame = grey_frame()

    plain = decode(annotate_jpeg(frame, [], quality=100))
    stamped = decode(annotate_jpeg(frame, [], quality=100, stamp="DRILL"))

    assert not is_amber(plain[2, 2])
    banner = stamped[:24]
    assert is_amber(banner[2, 2]) and is_amber(banner[2, 317]), "the banner spans the width"
    assert int((banner.sum(axis=2) < 150).sum()) > 40, "the word is written on the banner"
    assert np.array_equal(stamped[40:], plain[40:]), "the rest of the picture is untouched"
