"""RawDetections helpers, COCO labels and the mapping of candidates to Detections."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.decoders import COCO80_LABELS, labels_coco80
from detectors.decoders.letterbox import letterbox
from detectors.decoders.raw import RawDetections, to_detections
from detectors.types import Detection


def test_empty_has_canonical_shapes_and_dtypes() -> None:
    empty = RawDetections.empty()

    assert (empty.boxes.shape, empty.scores.shape, empty.class_ids.shape) == ((0, 4), (0,), (0,))
    assert (empty.boxes.dtype.name, empty.scores.dtype.name, empty.class_ids.dtype.name) == (
        "float32",
        "float32",
        "int64",
    )


def test_select_by_indices_and_by_mask() -> None:
    det = RawDetections.from_arrays(
        np.arange(12, dtype=np.float64).reshape(3, 4),
        np.array([0.1, 0.2, 0.3]),
        np.array([7, 8, 9]),
    )

    by_index = det.select(np.array([2, 0]))
    by_mask = det.select(np.array([False, True, False]))

    assert by_index.class_ids.tolist() == [9, 7]
    assert by_index.boxes.tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    assert by_mask.class_ids.tolist() == [8]
    assert by_mask.scores.dtype == np.float32


def test_from_arrays_refuses_misaligned_arrays() -> None:
    with pytest.raises(ValueError, match="2 boxes, 1 scores, 2 class ids"):
        RawDetections.from_arrays(np.zeros((2, 4)), np.zeros(1), np.zeros(2, dtype=np.int64))


def test_coco80_labels_are_in_standard_order() -> None:
    labels = labels_coco80()

    assert labels is COCO80_LABELS
    assert len(labels) == 80
    assert len(set(labels)) == 80
    assert (labels[0], labels[1], labels[16], labels[34], labels[43], labels[79]) == (
        "person",
        "bicycle",
        "dog",
        "baseball bat",
        "knife",
        "toothbrush",
    )


def test_to_detections_maps_clips_names_and_drops_padding_boxes() -> None:
    _, geometry = letterbox(np.zeros((100, 200, 3), dtype=np.uint8), (400, 400))
    det = RawDetections.from_arrays(
        np.array(
            [
                [40, 120, 80, 160],  # inside the picture
                [-10, 90, 60, 110],  # sticks out into the padding and the left edge
                [0, 0, 400, 90],  # entirely in the top padding
                [100, 200, 140, 260],  # unknown class id
            ]
        ),
        np.array([0.875, 0.5, 0.99, 0.25]),
        np.array([0, 43, 0, 99]),
    )

    detections = to_detections(det, geometry, COCO80_LABELS)

    assert detections == [
        Detection(label="person", score=0.875, box=(20.0, 10.0, 40.0, 30.0), class_id=0),
        Detection(label="knife", score=0.5, box=(0.0, 0.0, 30.0, 5.0), class_id=43),
        Detection(label="class_99", score=0.25, box=(50.0, 50.0, 70.0, 80.0), class_id=99),
    ]
    assert all(type(value) is float for d in detections for value in (*d.box, d.score))
