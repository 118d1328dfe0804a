"""Non-maximum suppression: keep the best box of each cluster of overlapping boxes.

Suppression is greedy and exact: boxes are visited best score first (ties keep the
lower index first), and a box is dropped when its IoU with an already kept box is
strictly greater than the threshold. The loop runs once per *kept* box; each step is
one vectorised IoU against all remaining candidates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.raw import RawDetections


def box_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float32]:
    """Return the ``[N, M]`` intersection-over-union of boxes ``a`` [N,4] and ``b`` [M,4].

    Degenerate boxes (zero or negative area) have IoU 0 with everything, instead of a
    division by zero.
    """
    boxes_a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    boxes_b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    intersection = np.clip(bottom_right - top_left, 0.0, None).prod(axis=-1)
    union = _area(boxes_a)[:, None] + _area(boxes_b)[None, :] - intersection
    iou = np.zeros_like(intersection)
    np.divide(intersection, union, out=iou, where=union > 0)
    result: NDArray[np.float32] = iou.astype(np.float32)
    return result


def nms(
    boxes: NDArray[np.floating],
    scores: NDArray[np.floating],
    iou_threshold: float,
    max_detections: int | None = None,
) -> NDArray[np.int64]:
    """Return the indices of the boxes kept, best score first (class-agnostic)."""
    box_array, score_array = _check_inputs(boxes, scores)
    return _greedy_suppression(box_array, score_array, iou_threshold, None, max_detections)


def class_aware_nms(
    det: RawDetections, iou_threshold: float, max_detections: int = 100
) -> RawDetections:
    """Suppress overlaps only between boxes of the same class; keep at most ``max_detections``.

    A person holding a knife gives two overlapping boxes of different classes; both must
    survive, which class-agnostic NMS would not allow.
    """
    box_array, score_array = _check_inputs(det.boxes, det.scores)
    keep = _greedy_suppression(
        box_array, score_array, iou_threshold, np.asarray(det.class_ids), max_detections
    )
    return det.select(keep)


def _area(boxes: NDArray[np.float64]) -> NDArray[np.float64]:
    widths = np.clip(boxes[:, 2] - boxes[:, 0], 0.0, None)
    heights = np.clip(boxes[:, 3] - boxes[:, 1], 0.0, None)
    result: NDArray[np.float64] = widths * heights
    return result


def _check_inputs(
    boxes: NDArray[np.floating], scores: NDArray[np.floating]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    box_array = np.asarray(boxes, dtype=np.float64)
    score_array = np.asarray(scores, dtype=np.float64)
    if box_array.ndim != 2 or box_array.shape[1] != 4 or score_array.shape != box_array.shape[:1]:
        msg = (
            f"NMS needs boxes [N, 4] and scores [N], got {tuple(box_array.shape)} "
            f"and {tuple(score_array.shape)}"
        )
        raise ValueError(msg)
    return box_array, score_array


def _greedy_suppression(
    boxes: NDArray[np.float64],
    scores: NDArray[np.float64],
    iou_threshold: float,
    class_ids: NDArray[np.integer] | None,
    max_detections: int | None,
) -> NDArray[np.int64]:
    limit = len(boxes) if max_detections is None else max(0, max_detections)
    areas = _area(boxes)
    order = np.argsort(-scores, kind="stable")
    if len(order) <= _MATRIX_MAX:
        return _suppress_with_matrix(
            boxes, areas, order, iou_threshold, class_ids=class_ids, limit=limit
        )
    kept: list[int] = []
    while order.size and len(kept) < limit:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        top_left = np.maximum(boxes[best, :2], boxes[rest, :2])
        bottom_right = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        intersection = np.clip(bottom_right - top_left, 0.0, None).prod(axis=1)
        union = areas[best] + areas[rest] - intersection
        suppress = intersection > iou_threshold * union
        suppress &= union > 0
        if class_ids is not None:
            suppress &= class_ids[rest] == class_ids[best]
        order = rest[~suppress]
    return np.asarray(kept, dtype=np.int64)


_MATRIX_MAX = 256
"""Up to this many candidates (a frame has a few dozen), all overlaps are computed at once."""


def _suppress_with_matrix(
    boxes: NDArray[np.float64],
    areas: NDArray[np.float64],
    order: NDArray[np.intp],
    iou_threshold: float,
    *,
    class_ids: NDArray[np.integer] | None,
    limit: int,
) -> NDArray[np.int64]:
    """Greedy NMS with every pairwise overlap computed in one go, then a plain-Python walk.

    Same result as the loop above (a box suppressed by a kept box never suppresses
    others); it runs on the event loop for every analysed frame, and a dozen small numpy
    calls per kept box cost more than one [N, N] computation for the N seen in practice.
    """
    ranked = boxes[order]
    ranked_areas = areas[order]
    top_left = np.maximum(ranked[:, None, :2], ranked[None, :, :2])
    bottom_right = np.minimum(ranked[:, None, 2:], ranked[None, :, 2:])
    intersection = np.clip(bottom_right - top_left, 0.0, None).prod(axis=2)
    union = ranked_areas[:, None] + ranked_areas[None, :] - intersection
    overlaps = (intersection > iou_threshold * union) & (union > 0)
    if class_ids is not None:
        ranked_ids = class_ids[order]
        overlaps &= ranked_ids[:, None] == ranked_ids[None, :]
    rows = overlaps.tolist()
    count = len(rows)
    suppressed = [False] * count
    kept: list[int] = []
    for index in range(count):
        if suppressed[index]:
            continue
        if len(kept) >= limit:
            break
        kept.append(int(order[index]))
        row = rows[index]
        for later in range(index + 1, count):
            if row[later]:
                suppressed[later] = True
    return np.asarray(kept, dtype=np.int64)
