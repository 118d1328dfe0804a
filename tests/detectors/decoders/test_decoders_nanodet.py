"""NanoDet GFL decoding with distributions whose expectations are known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.decoders.nanodet import decode_nanodet
from detectors.errors import ModelFormatError

INPUT = (64, 32)  # width, height: 8x4, 4x2 and 2x1 cells at strides 8, 16, 32
STRIDES = (8, 16, 32)
CLASSES = 3
BINS = 11
OFF = -1000.0  # exp(OFF - 0) underflows to exactly 0 in float64: a one-hot softmax


def _levels() -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    levels: list[tuple[NDArray[np.float32], NDArray[np.float32]]] = []
    for stride in STRIDES:
        cells = (INPUT[0] // stride) * (INPUT[1] // stride)
        cls = np.zeros((1, cells, CLASSES), dtype=np.float32)
        cls[0, :, 0] = 0.25  # every cell scores a little, below the threshold
        reg = np.full((1, cells, 4 * BINS), OFF, dtype=np.float32)
        levels.append((cls, reg))
    return levels


def _set_cell(
    level: tuple[NDArray[np.float32], NDArray[np.float32]],
    cell: int,
    class_id: int,
    score: float,
    bins: list[int],
) -> None:
    cls, reg = level
    cls[0, cell, class_id] = score
    reg[0, cell] = OFF
    for side, bin_index in enumerate(bins):
        reg[0, cell, side * BINS + bin_index] = 0.0


def test_one_hot_distributions_give_integer_distances() -> None:
    levels = _levels()
    # stride 16, cell x=2, y=1 (4 columns): index 6, centre (40, 24);
    # left, top, right, bottom bins 1, 2, 3, 4 -> 16, 32, 48, 64 pixels.
    _set_cell(levels[1], 6, class_id=2, score=0.875, bins=[1, 2, 3, 4])
    # stride 8, cell x=7, y=3 (8 columns): index 31, centre (60, 28); bin 0 on every side.
    _set_cell(levels[0], 31, class_id=1, score=0.5, bins=[0, 0, 0, 10])

    det = decode_nanodet(levels, INPUT, STRIDES, score_threshold=0.35)

    assert det.boxes.tolist() == [[60, 28, 60, 108], [24, -8, 88, 88]]
    assert det.scores.tolist() == [0.5, 0.875]
    assert det.class_ids.tolist() == [1, 2]
    assert (det.boxes.dtype.name, det.scores.dtype.name, det.class_ids.dtype.name) == (
        "float32",
        "float32",
        "int64",
    )


def test_distance_is_the_softmax_expectation_over_bins() -> None:
    levels = _levels()
    cls, reg = levels[2]  # stride 32, 2 columns: cell 1 is x=1, y=0, centre (48, 16)
    cls[0, 1, 0] = 0.75
    sides = reg[0, 1].reshape(4, BINS)
    sides[0, 2:4] = 0.0  # two equal bins 2 and 3 -> 2.5 bins
    sides[1, :] = 0.0  # uniform -> 5 bins
    sides[2, 0:2] = (0.0, np.log(3.0))  # weights 1/4, 3/4 -> 0.75 bins
    sides[3, 10] = 0.0

    det = decode_nanodet(levels, INPUT, STRIDES, score_threshold=0.5)

    np.testing.assert_allclose(
        det.boxes, [[48 - 2.5 * 32, 16 - 5 * 32, 48 + 0.75 * 32, 16 + 10 * 32]], rtol=1e-6
    )


def test_center_offset_moves_every_box_by_that_fraction_of_the_stride() -> None:
    levels = _levels()
    _set_cell(levels[1], 6, class_id=2, score=0.875, bins=[1, 2, 3, 4])

    det = decode_nanodet(levels, INPUT, STRIDES, score_threshold=0.35, center_offset=0.0)

    assert det.boxes.tolist() == [[16, -16, 80, 80]]


def test_cells_with_non_finite_distributions_are_dropped() -> None:
    levels = _levels()
    _set_cell(levels[0], 0, class_id=0, score=0.875, bins=[1, 1, 1, 1])
    _set_cell(levels[0], 1, class_id=0, score=0.875, bins=[1, 1, 1, 1])
    levels[0][1][0, 1, 0] = np.nan

    det = decode_nanodet(levels, INPUT, STRIDES, score_threshold=0.35)

    assert det.boxes.tolist() == [[-4, -4, 12, 12]]


def test_default_geometry_accepts_the_real_nanodet_m_shapes() -> None:
    levels = [
        (np.zeros((1, cells, 80), dtype=np.float32), np.zeros((1, cells, 44), dtype=np.float32))
        for cells in (52 * 52, 26 * 26, 13 * 13)
    ]
    levels[2][0][0, 13 * 12 + 12, 16] = 0.5  # last cell, "dog"

    det = decode_nanodet(levels)

    # centre (400, 400); uniform distribution -> 5 bins * 32 = 160 on every side
    np.testing.assert_allclose(det.boxes, [[240, 240, 560, 560]], rtol=1e-6)
    assert det.class_ids.tolist() == [16]


def test_wrong_cell_count_is_named() -> None:
    levels = _levels()
    levels[1] = (np.zeros((1, 9, CLASSES), dtype=np.float32), levels[1][1])

    with pytest.raises(ModelFormatError, match=r"stride 16 class output has shape \(1, 9, 3\)"):
        decode_nanodet(levels, INPUT, STRIDES)


def test_wrong_bin_count_is_named() -> None:
    levels = _levels()
    levels[0] = (levels[0][0], np.zeros((1, 32, 40), dtype=np.float32))

    with pytest.raises(ModelFormatError, match=r"stride 8 box output has shape \(1, 32, 40\)"):
        decode_nanodet(levels, INPUT, STRIDES)


def test_class_count_must_agree_between_levels() -> None:
    levels = _levels()
    levels[2] = (np.zeros((1, 2, 4), dtype=np.float32), levels[2][1])

    with pytest.raises(ModelFormatError, match=r"\(1, 2, 4\)"):
        decode_nanodet(levels, INPUT, STRIDES)


def test_level_count_must_match_strides() -> None:
    with pytest.raises(ModelFormatError, match="2 output levels but 3 strides"):
        decode_nanodet(_levels()[:2], INPUT, STRIDES)


def test_partial_cells_count_when_the_input_is_not_a_stride_multiple() -> None:
    levels = _levels()
    _set_cell(levels[2], 1, class_id=0, score=0.875, bins=[0, 0, 0, 0])

    det = decode_nanodet(levels, (60, 30), STRIDES, score_threshold=0.35)

    assert det.boxes.tolist() == [[48, 16, 48, 16]]


def test_a_cell_reports_its_best_class_when_several_pass_the_threshold() -> None:
    levels = _levels()
    # Two classes over the threshold in one cell: one candidate, the better class.
    _set_cell(levels[0], 5, class_id=0, score=0.6, bins=[1, 1, 1, 1])
    levels[0][0][0, 5, 2] = 0.9

    det = decode_nanodet(levels, INPUT, STRIDES, score_threshold=0.35)

    assert det.class_ids.tolist() == [2]
    assert det.scores.tolist() == [pytest.approx(0.9)]


def test_a_cell_with_a_non_finite_class_score_is_dropped() -> None:
    levels = _levels()
    _set_cell(levels[0], 5, class_id=1, score=0.9, bins=[1, 1, 1, 1])
    levels[0][0][0, 5, 2] = np.nan  # a damaged graph: the argmax would pick the NaN
    _set_cell(levels[1], 2, class_id=1, score=0.7, bins=[1, 1, 1, 1])

    det = decode_nanodet(levels, INPUT, STRIDES, score_threshold=0.35)

    assert det.scores.tolist() == [pytest.approx(0.7)]
