"""Decoder output before it is mapped back to the camera frame.

Every model decoder returns :class:`RawDetections` in model-input pixels so that NMS
runs in one coordinate system for all models; :func:`to_detections` is the single place
where boxes cross into frame pixels and become the engine's :class:`Detection` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.letterbox import Letterbox
from detectors.decoders.shapes import float_rows
from detectors.types import Detection


class RawDetections(NamedTuple):
    """Parallel arrays of candidate boxes in model-input pixels.

    ``boxes`` is ``[N, 4]`` float32 ``x1, y1, x2, y2``, ``scores`` ``[N]`` float32 and
    ``class_ids`` ``[N]`` int64; row ``i`` of each belongs to the same candidate.
    """

    boxes: NDArray[np.float32]
    scores: NDArray[np.float32]
    class_ids: NDArray[np.int64]

    @classmethod
    def empty(cls) -> RawDetections:
        """Return a result with no candidates (correct shapes and dtypes)."""
        return cls(
            np.zeros((0, 4), dtype=np.float32),
            np.zeros(0, dtype=np.float32),
            np.zeros(0, dtype=np.int64),
        )

    @classmethod
    def from_arrays(
        cls,
        boxes: NDArray[np.floating],
        scores: NDArray[np.floating],
        class_ids: NDArray[np.integer],
    ) -> RawDetections:
        """Build a result with the canonical dtypes, checking the arrays line up."""
        box_array = np.ascontiguousarray(boxes, dtype=np.float32).reshape(-1, 4)
        score_array = np.ascontiguousarray(scores, dtype=np.float32).reshape(-1)
        id_array = np.ascontiguousarray(class_ids, dtype=np.int64).reshape(-1)
        if not len(box_array) == len(score_array) == len(id_array):
            msg = (
                f"detection arrays differ in length: {len(box_array)} boxes, "
                f"{len(score_array)} scores, {len(id_array)} class ids"
            )
            raise ValueError(msg)
        return cls(box_array, score_array, id_array)

    def select(self, indices: NDArray[np.integer] | NDArray[np.bool_]) -> RawDetections:
        """Return the candidates picked by an index array or a boolean mask, in that order."""
        return RawDetections(self.boxes[indices], self.scores[indices], self.class_ids[indices])


def to_detections(
    det: RawDetections, letterbox: Letterbox, labels: Sequence[str]
) -> list[Detection]:
    """Map candidates to frame pixels and name them.

    Boxes are clipped to the frame; a box that lies entirely in the letterbox padding
    collapses to zero area there and is dropped, since it shows nothing of the scene.
    A class id outside ``labels`` is named ``class_<id>`` rather than raising: a labels
    file that does not match the model is a configuration mistake that the model's
    self-test reports, and it must not stop every frame from being analysed.
    """
    boxes = letterbox.boxes_to_frame(det.boxes)
    visible = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    detections: list[Detection] = []
    for box, score, raw_id in zip(
        float_rows(boxes[visible]), det.scores[visible], det.class_ids[visible], strict=True
    ):
        class_id = int(raw_id)
        label = labels[class_id] if 0 <= class_id < len(labels) else f"class_{class_id}"
        detections.append(
            Detection(
                label=label,
                score=float(score),
                box=(box[0], box[1], box[2], box[3]),
                class_id=class_id,
            )
        )
    return detections
