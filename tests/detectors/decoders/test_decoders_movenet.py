"""MoveNet MultiPose decoding, mapped back through a letterboxed non-square frame."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.decoders.letterbox import letterbox
from detectors.decoders.movenet import decode_movenet
from detectors.errors import ModelFormatError
from detectors.types import COCO_KEYPOINTS

# A 640x480 frame in a 256x256 input: scale 0.4, picture rows 32..224 (pad_y 32).
_, GEOMETRY = letterbox(np.zeros((480, 640, 3), dtype=np.uint8), (256, 256))


def _normalised(frame_x: float, frame_y: float) -> tuple[float, float]:
    """Return (y, x) normalised to the model input for a frame pixel."""
    return (frame_y * 0.4 + 32) / 256, (frame_x * 0.4) / 256


def _person(score: float, origin_x: float, origin_y: float) -> NDArray[np.float32]:
    """One output row: keypoint k at frame (origin_x + 5k, origin_y + 10k), score k/16."""
    row = np.zeros(56, dtype=np.float32)
    for k in range(17):
        y, x = _normalised(origin_x + 5 * k, origin_y + 10 * k)
        row[3 * k : 3 * k + 3] = (y, x, k / 16)
    ymin, xmin = _normalised(origin_x - 10, origin_y - 20)
    ymax, xmax = _normalised(origin_x + 100, origin_y + 180)
    row[51:56] = (ymin, xmin, ymax, xmax, score)
    return row


def _output(*rows: NDArray[np.float32]) -> NDArray[np.float32]:
    output = np.zeros((1, 6, 56), dtype=np.float32)
    for index, row in enumerate(rows):
        output[0, index] = row
    return output


def test_geometry_of_the_fixture() -> None:
    assert (GEOMETRY.scale_x, GEOMETRY.scale_y, GEOMETRY.pad_x, GEOMETRY.pad_y) == (
        0.4,
        0.4,
        0.0,
        32.0,
    )


def test_people_are_mapped_to_frame_pixels_best_first() -> None:
    output = _output(_person(0.375, 100, 50), _person(0.875, 400, 200), _person(0.125, 10, 10))

    poses = decode_movenet(output, GEOMETRY, score_threshold=0.2)

    assert [pose.score for pose in poses] == [0.875, 0.375]
    best = poses[0]
    assert len(best.keypoints) == len(COCO_KEYPOINTS)
    for k, (x, y, s) in enumerate(best.keypoints):
        assert (x, y) == pytest.approx((400 + 5 * k, 200 + 10 * k), abs=1e-3)
        assert s == k / 16
    assert best.box == pytest.approx((390, 180, 500, 380), abs=1e-3)
    assert best.keypoint("left_wrist") == pytest.approx((445, 290, 9 / 16), abs=1e-3)  # k = 9
    assert poses[1].box == pytest.approx((90, 30, 200, 230), abs=1e-3)
    assert all(type(value) is float for value in (*best.box, best.score, *best.keypoints[3]))


def test_keypoints_below_their_threshold_keep_position_and_lose_score() -> None:
    poses = decode_movenet(_output(_person(0.875, 100, 50)), GEOMETRY, keypoint_threshold=0.5)

    scores = [s for _, _, s in poses[0].keypoints]
    assert scores == [0.0] * 8 + [k / 16 for k in range(8, 17)]
    assert poses[0].keypoints[0][:2] == pytest.approx((100, 50), abs=1e-3)


def test_points_and_boxes_in_the_padding_are_clipped_to_the_frame() -> None:
    row = _person(0.875, 100, 50)
    row[0:2] = (16 / 256, 1.25)  # nose in the top padding and right of the input
    row[51:55] = (0.0, -0.25, 1.0, 0.5)
    poses = decode_movenet(_output(row), GEOMETRY)

    assert poses[0].keypoints[0][:2] == (640.0, 0.0)
    assert poses[0].box == pytest.approx((0, 0, 320, 480), abs=1e-3)


def test_nobody_above_threshold_gives_no_poses() -> None:
    assert decode_movenet(_output(_person(0.125, 100, 50)), GEOMETRY) == []
    assert decode_movenet(np.zeros((1, 6, 56), dtype=np.float32), GEOMETRY, 0.0001) == []


def test_nan_person_scores_are_dropped() -> None:
    row = _person(0.875, 100, 50)
    row[55] = np.nan

    assert decode_movenet(_output(row, _person(0.5, 10, 10)), GEOMETRY)[0].score == 0.5


@pytest.mark.parametrize("shape", [(1, 6, 51), (6, 56), (2, 6, 56)])
def test_bad_shape_is_named(shape: tuple[int, ...]) -> None:
    pattern = r"MoveNet MultiPose output has shape " + str(shape).replace("(", r"\(").replace(
        ")", r"\)"
    )
    with pytest.raises(ModelFormatError, match=pattern):
        decode_movenet(np.zeros(shape, dtype=np.float32), GEOMETRY)
