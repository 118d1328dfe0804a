"""Decoder for NanoDet-m's GFL head (one class/box output pair per stride).

Each level is a grid of cells of ``stride`` pixels. Every cell predicts sigmoid class
scores and, for each side (left, top, right, bottom), logits over ``reg_max + 1`` bins;
the distance from the cell centre to that side is the expectation of the softmax over
the bins, times the stride (Generalised Focal Loss). The distributions are softmaxed
only for cells that pass the score threshold, which is a few dozen out of ~3500.

Two facts about the default ``nanodet-m-416`` model were checked rather than assumed: its
TF.js graph has Sigmoid nodes on the class outputs but no Softmax, so the box outputs are
logits and the softmax belongs here; and cell centres sit at ``(x + 0.5) * stride``
(``center_offset=0.5``, the original NanoDet GFL head): decoding ``person.jpg`` and
``astronaut.png`` and their mirror images agrees within ~4 px with 0.5, but is off by
~stride with 0.0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.raw import RawDetections
from detectors.decoders.shapes import finite_rows, require_shape
from detectors.errors import ModelFormatError


def decode_nanodet(  # noqa: PLR0917 - positional signature agreed with the model wrappers
    levels: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]],
    input_size: tuple[int, int] = (416, 416),
    strides: Sequence[int] = (8, 16, 32),
    score_threshold: float = 0.35,
    reg_max: int = 10,
    center_offset: float = 0.5,
) -> RawDetections:
    """Return every cell whose best class score is ``>= score_threshold``, before NMS.

    ``levels[i]`` is ``(cls [1, N_i, C], reg [1, N_i, 4 * (reg_max + 1)])`` for
    ``strides[i]``, with ``N_i = ceil(H / s) * ceil(W / s)`` cells in row-major order.
    Boxes are in model-input pixels and not clipped (the letterbox clips to the frame).
    """
    if len(levels) != len(strides):
        msg = f"NanoDet has {len(levels)} output levels but {len(strides)} strides {tuple(strides)}"
        raise ModelFormatError(msg)
    input_width, input_height = input_size
    bins = reg_max + 1
    num_classes: int | None = None
    boxes: list[NDArray[np.float64]] = []
    scores: list[NDArray[np.float32]] = []
    class_ids: list[NDArray[np.int64]] = []
    for (cls, reg), stride in zip(levels, strides, strict=True):
        columns = math.ceil(input_width / stride)
        cells = columns * math.ceil(input_height / stride)
        if num_classes is None:
            num_classes = cls.shape[2] if cls.ndim == 3 else 0
        require_shape(
            cls.shape == (1, cells, num_classes) and num_classes >= 1,
            f"NanoDet stride {stride} class",
            cls,
            f"[1, {cells}, C] with the same C on every level",
        )
        require_shape(
            reg.shape == (1, cells, 4 * bins),
            f"NanoDet stride {stride} box",
            reg,
            f"[1, {cells}, {4 * bins}]",
        )
        level_boxes, level_scores, level_ids = _decode_level(
            cls[0],
            reg[0],
            stride=stride,
            columns=columns,
            bins=bins,
            score_threshold=score_threshold,
            center_offset=center_offset,
        )
        boxes.append(level_boxes)
        scores.append(level_scores)
        class_ids.append(level_ids)
    if not boxes:
        return RawDetections.empty()
    return RawDetections.from_arrays(
        np.concatenate(boxes), np.concatenate(scores), np.concatenate(class_ids)
    )


def _decode_level(
    cls: NDArray[np.float32],
    reg: NDArray[np.float32],
    *,
    stride: int,
    columns: int,
    bins: int,
    score_threshold: float,
    center_offset: float,
) -> tuple[NDArray[np.float64], NDArray[np.float32], NDArray[np.int64]]:
    # One flat comparison over every score finds the cells with any class over the
    # threshold (the cells whose best score passes); max and argmax then run only over
    # those few dozen. A per-row max over [cells, 80] took 2.6x as long (docs/benchmarks.md).
    cells = np.unique(np.flatnonzero(cls.ravel() >= score_threshold) // cls.shape[1])
    candidates = cls[cells]
    best_class = candidates.argmax(axis=1)
    best_score = candidates[np.arange(cells.size), best_class]
    distances = _distribution_expectation(reg[cells].reshape(-1, 4, bins)) * stride
    centre_x = (cells % columns + center_offset) * stride
    centre_y = (cells // columns + center_offset) * stride
    boxes = np.stack(
        [
            centre_x - distances[:, 0],
            centre_y - distances[:, 1],
            centre_x + distances[:, 2],
            centre_y + distances[:, 3],
        ],
        axis=1,
    )
    valid = finite_rows(boxes) & np.isfinite(best_score)
    return (
        boxes[valid],
        best_score[valid].astype(np.float32),
        best_class[valid].astype(np.int64),
    )


def _distribution_expectation(logits: NDArray[np.float32]) -> NDArray[np.float64]:
    """Return ``sum(softmax(logits) * bin_index)`` over the last axis, computed stably."""
    values = logits.astype(np.float64)
    values -= values.max(axis=-1, keepdims=True)
    weights = np.exp(values)
    weights /= weights.sum(axis=-1, keepdims=True)
    result: NDArray[np.float64] = weights @ np.arange(values.shape[-1], dtype=np.float64)
    return result
