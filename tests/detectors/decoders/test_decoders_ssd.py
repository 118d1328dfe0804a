"""SSD DetectionOutput rows, including the end-of-list marker."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.decoders.ssd import decode_ssd
from detectors.errors import ModelFormatError


def _ssd(*rows: tuple[float, ...]) -> NDArray[np.float32]:
    return np.array(rows, dtype=np.float32).reshape(1, 1, len(rows), 7)


def test_rows_are_scaled_to_input_pixels_and_filtered_by_score() -> None:
    output = _ssd(
        (0, 1, 0.875, 0.125, 0.25, 0.5, 0.75),
        (0, 3, 0.25, 0.0, 0.0, 1.0, 1.0),
        (0, 2, 0.5, 0.0, 0.0, 0.25, 0.5),
    )

    det = decode_ssd(output, (320, 256), score_threshold=0.5)

    assert det.boxes.tolist() == [[40, 64, 160, 192], [0, 0, 80, 128]]
    assert det.scores.tolist() == [0.875, 0.5]
    assert det.class_ids.tolist() == [1, 2]
    assert det.class_ids.dtype == np.int64


def test_nothing_after_the_end_marker_is_read() -> None:
    output = _ssd(
        (0, 1, 0.875, 0.125, 0.25, 0.5, 0.75),
        (-1, 0, 0, 0, 0, 0, 0),
        (0, 5, 0.99, 0.0, 0.0, 0.5, 0.5),
    )

    det = decode_ssd(output, (320, 256), score_threshold=0.5)

    assert det.class_ids.tolist() == [1]


def test_end_marker_first_means_no_detections() -> None:
    output = _ssd((-1, 0, 0, 0, 0, 0, 0), (0, 5, 0.99, 0.0, 0.0, 0.5, 0.5))

    det = decode_ssd(output, (320, 256), score_threshold=0.5)

    assert det.boxes.shape == (0, 4)
    assert det.scores.shape == (0,)


def test_non_finite_rows_are_dropped() -> None:
    output = _ssd((0, 1, 0.875, np.nan, 0.25, 0.5, 0.75), (0, 2, 0.75, 0.0, 0.0, 0.5, 0.5))

    assert decode_ssd(output, (320, 256), 0.5).class_ids.tolist() == [2]


@pytest.mark.parametrize("shape", [(1, 100, 7), (1, 1, 100, 6), (2, 1, 100, 7)])
def test_bad_shape_is_named(shape: tuple[int, ...]) -> None:
    pattern = r"SSD output has shape " + str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ModelFormatError, match=pattern):
        decode_ssd(np.zeros(shape, dtype=np.float32), (300, 300), 0.5)
