"""IoU and greedy NMS, class-agnostic and class-aware, on hand-computed boxes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.decoders.nms import box_iou, class_aware_nms, nms
from detectors.decoders.raw import RawDetections


def _boxes(*rows: list[float]) -> NDArray[np.float32]:
    return np.array(rows, dtype=np.float32)


def test_box_iou_matches_hand_computed_values() -> None:
    a = _boxes([0, 0, 10, 10], [0, 0, 0, 10])
    b = _boxes([5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30])

    iou = box_iou(a, b)

    assert iou.dtype == np.float32
    assert iou.shape == (2, 3)
    np.testing.assert_array_equal(
        iou, np.array([[50 / 150, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    )


def test_nms_keeps_best_of_each_cluster_best_first() -> None:
    boxes = _boxes([1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 10])
    scores = np.array([0.8, 0.7, 0.9], dtype=np.float32)

    keep = nms(boxes, scores, 0.5)

    assert keep.dtype == np.int64
    assert keep.tolist() == [2, 1]


def test_nms_suppresses_only_strictly_above_threshold() -> None:
    boxes = _boxes([0, 0, 10, 10], [0, 0, 10, 20])  # IoU exactly 0.5
    scores = np.array([0.9, 0.8], dtype=np.float32)

    assert nms(boxes, scores, 0.5).tolist() == [0, 1]
    assert nms(boxes, scores, 0.49).tolist() == [0]


def test_nms_breaks_score_ties_by_index_and_honours_the_limit() -> None:
    boxes = _boxes([0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10])
    scores = np.array([0.5, 0.5, 0.5], dtype=np.float32)

    assert nms(boxes, scores, 0.5).tolist() == [0, 1, 2]
    assert nms(boxes, scores, 0.5, max_detections=2).tolist() == [0, 1]


def test_nms_of_nothing_is_an_empty_index_array() -> None:
    keep = nms(np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32), 0.5)

    assert keep.dtype == np.int64
    assert keep.shape == (0,)


def test_nms_refuses_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match=r"\(2, 4\) and \(3,\)"):
        nms(np.zeros((2, 4)), np.zeros(3), 0.5)


def test_class_aware_nms_suppresses_within_a_class_only() -> None:
    det = RawDetections.from_arrays(
        _boxes([0, 0, 10, 10], [1, 0, 11, 10], [0, 1, 10, 11], [40, 40, 50, 50]),
        np.array([0.6, 0.9, 0.8, 0.3]),
        np.array([0, 0, 1, 1]),
    )

    kept = class_aware_nms(det, 0.5)

    assert kept.boxes.tolist() == [[1, 0, 11, 10], [0, 1, 10, 11], [40, 40, 50, 50]]
    assert kept.scores.tolist() == pytest.approx([0.9, 0.8, 0.3])
    assert kept.class_ids.tolist() == [0, 1, 1]
    assert class_aware_nms(det, 0.5, max_detections=1).class_ids.tolist() == [0]
