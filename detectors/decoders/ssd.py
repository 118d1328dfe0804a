"""Decoder for the SSD ``DetectionOutput`` layout used by OpenVINO Open Model Zoo models."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.raw import RawDetections
from detectors.decoders.shapes import finite_rows, require_shape


def decode_ssd(
    output: NDArray[np.float32], input_size: tuple[int, int], score_threshold: float
) -> RawDetections:
    """Decode ``[1, 1, N, 7]`` rows ``(image_id, label, conf, x1, y1, x2, y2)``.

    Coordinates are normalised to 0-1 and scaled here to model-input pixels. The list is
    padded to a fixed N; the first row with ``image_id < 0`` marks its end, and nothing
    after it is read even if it looks like a detection. ``class_ids`` are the raw labels,
    so a labels file for such a model lists the background class at index 0.
    """
    require_shape(
        output.ndim == 4 and output.shape[:2] == (1, 1) and output.shape[3] == 7,
        "SSD",
        output,
        "[1, 1, N, 7]",
    )
    rows = output[0, 0]
    end_markers = np.flatnonzero(rows[:, 0] < 0)
    if end_markers.size:
        rows = rows[: end_markers[0]]
    rows = rows[(rows[:, 2] >= score_threshold) & finite_rows(rows)]
    input_width, input_height = input_size
    scale = np.array([input_width, input_height, input_width, input_height], dtype=np.float64)
    boxes = rows[:, 3:7].astype(np.float64) * scale
    return RawDetections.from_arrays(boxes, rows[:, 2], np.rint(rows[:, 1]).astype(np.int64))
