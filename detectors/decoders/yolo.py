"""Decoders for YOLO detection heads exported with their post-processing removed.

Two layouts exist in the wild. YOLOv5 (and v7) emit ``[1, N, 5 + C]`` rows of centre x,
centre y, width, height (model-input pixels), objectness and C class probabilities; the
score of a class is objectness * class probability. YOLOv8 and YOLO11 dropped
objectness and transposed the tensor to ``[1, 4 + C, N]``. Both return candidates
before NMS.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.raw import RawDetections
from detectors.decoders.shapes import finite_rows, require_shape
from detectors.errors import ModelFormatError


def decode_yolov5(output: NDArray[np.float32], score_threshold: float) -> RawDetections:
    """Decode ``[1, N, 5 + C]``; a row's score is objectness * its best class probability.

    Rows whose objectness is below the threshold are skipped before the class scores are
    touched (class probabilities are at most 1, so they cannot pass), which avoids
    multiplying all 25200 * C values on every frame.
    """
    require_shape(
        output.ndim == 3 and output.shape[0] == 1 and output.shape[2] >= 6,
        "YOLOv5",
        output,
        "[1, N, 5 + C] with C >= 1",
    )
    rows = output[0]
    candidates = rows[rows[:, 4] >= score_threshold]
    class_scores = candidates[:, 5:] * candidates[:, 4:5]
    return _select(candidates[:, :4], class_scores, score_threshold)


def decode_yolov8(output: NDArray[np.float32], score_threshold: float) -> RawDetections:
    """Decode ``[1, 4 + C, N]`` (YOLOv8/YOLO11); a box's score is its best class score."""
    require_shape(
        output.ndim == 3 and output.shape[0] == 1 and output.shape[1] >= 5,
        "YOLOv8",
        output,
        "[1, 4 + C, N] with C >= 1",
    )
    channels = output[0]
    class_scores = channels[4:]
    best_class = np.argmax(class_scores, axis=0)
    best_score = np.take_along_axis(class_scores, best_class[None, :], axis=0)[0]
    keep = np.flatnonzero(best_score >= score_threshold)
    return _finish(channels[:4, keep].T, best_score[keep], best_class[keep])


def decode_yolo(
    output: NDArray[np.float32], score_threshold: float, *, num_classes: int | None = None
) -> RawDetections:
    """Decode either YOLO layout, telling them apart by the output shape.

    With ``num_classes`` only a layout whose class axis has that many entries fits.
    When both fit, the box axis is taken to be the longer one (thousands of anchors or
    cells against 5 + C channels), so ``[1, 84, 8400]`` is YOLOv8 and ``[1, 25200, 85]``
    YOLOv5; a square output is ambiguous and refused.
    """
    shape = tuple(output.shape)
    if output.ndim == 3 and shape[0] == 1:
        fits_v8 = shape[1] >= 5 and (num_classes is None or shape[1] == 4 + num_classes)
        fits_v5 = shape[2] >= 6 and (num_classes is None or shape[2] == 5 + num_classes)
        if num_classes is None or (fits_v8 and fits_v5):
            fits_v8 = fits_v8 and shape[1] < shape[2]
            fits_v5 = fits_v5 and shape[1] > shape[2]
        if fits_v8:
            return decode_yolov8(output, score_threshold)
        if fits_v5:
            return decode_yolov5(output, score_threshold)
    classes = "C" if num_classes is None else str(num_classes)
    msg = (
        f"YOLO output has shape {shape}, which fits neither YOLOv5 [1, N, 5 + {classes}] "
        f"nor YOLOv8/YOLO11 [1, 4 + {classes}, N]"
    )
    raise ModelFormatError(msg)


def _select(
    centre_boxes: NDArray[np.float32], class_scores: NDArray[np.float32], score_threshold: float
) -> RawDetections:
    best_class = np.argmax(class_scores, axis=1)
    best_score = np.take_along_axis(class_scores, best_class[:, None], axis=1)[:, 0]
    keep = np.flatnonzero(best_score >= score_threshold)
    return _finish(centre_boxes[keep], best_score[keep], best_class[keep])


def _finish(
    centre_boxes: NDArray[np.float32], scores: NDArray[np.float32], class_ids: NDArray[np.intp]
) -> RawDetections:
    """Convert centre/size boxes to corners and drop rows holding NaN or infinity."""
    centres = centre_boxes[:, :2].astype(np.float64)
    half_sizes = centre_boxes[:, 2:4].astype(np.float64) / 2.0
    boxes = np.concatenate([centres - half_sizes, centres + half_sizes], axis=1)
    valid = finite_rows(boxes)
    return RawDetections.from_arrays(boxes[valid], scores[valid], class_ids[valid])
