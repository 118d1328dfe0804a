"""Decoder for MoveNet MultiPose Lightning (up to six people, 17 COCO keypoints each)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.letterbox import Letterbox
from detectors.decoders.shapes import float_rows, require_shape
from detectors.types import COCO_KEYPOINTS, Keypoint, Pose

_KEYPOINT_VALUES = 3 * len(COCO_KEYPOINTS)
_ROW_LENGTH = _KEYPOINT_VALUES + 5


def decode_movenet(
    output: NDArray[np.float32],
    letterbox: Letterbox,
    score_threshold: float = 0.2,
    keypoint_threshold: float = 0.0,
) -> list[Pose]:
    """Return the people scoring ``>= score_threshold``, best first, in frame pixels.

    ``output`` is ``[1, P, 56]``: 17 * (y, x, score) normalised to the model input, then
    the person box (ymin, xmin, ymax, xmax) and the person score. Keypoints and boxes are
    mapped back through ``letterbox`` and clipped to the frame, so a keypoint guessed in
    the padding lands on the frame edge rather than outside the image. A keypoint scoring
    below ``keypoint_threshold`` keeps its position but gets score 0.0, so rules that
    ignore zero-score keypoints treat it as not seen while every pose still has all 17.
    """
    require_shape(
        output.ndim == 3 and output.shape[0] == 1 and output.shape[2] == _ROW_LENGTH,
        "MoveNet MultiPose",
        output,
        f"[1, P, {_ROW_LENGTH}]",
    )
    people = output[0].astype(np.float64)
    person_scores = people[:, -1]
    order = np.argsort(-person_scores, kind="stable")
    order = order[person_scores[order] >= score_threshold]
    if not order.size:
        return []
    input_width, input_height = letterbox.input_size
    frame_limits = np.array(letterbox.frame_size, dtype=np.float64)
    keypoints = people[order, :_KEYPOINT_VALUES].reshape(-1, len(COCO_KEYPOINTS), 3)
    input_xy = np.stack(
        [keypoints[..., 1] * input_width, keypoints[..., 0] * input_height], axis=-1
    )
    frame_xy = np.clip(letterbox.points_to_frame(input_xy), 0.0, frame_limits)
    keypoint_scores = np.where(keypoints[..., 2] >= keypoint_threshold, keypoints[..., 2], 0.0)
    y_min, x_min, y_max, x_max = people[order, _KEYPOINT_VALUES : _KEYPOINT_VALUES + 4].T
    input_boxes = np.stack(
        [x_min * input_width, y_min * input_height, x_max * input_width, y_max * input_height],
        axis=1,
    )
    frame_boxes = letterbox.boxes_to_frame(input_boxes)
    poses: list[Pose] = []
    for xy, kp_scores, box, score in zip(
        frame_xy, keypoint_scores, float_rows(frame_boxes), person_scores[order], strict=True
    ):
        points: tuple[Keypoint, ...] = tuple(
            (x, y, s) for (x, y), s in zip(float_rows(xy), kp_scores.tolist(), strict=True)
        )
        poses.append(
            Pose(keypoints=points, score=float(score), box=(box[0], box[1], box[2], box[3]))
        )
    return poses
