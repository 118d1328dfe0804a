"""Load zoo models into OpenVINO: fetch, verify, reshape, compile, self-test."""

from __future__ import annotations

from collections.abc import Callable

import openvino as ov

from detectors.errors import ModelFormatError
from detectors.inference import InferenceRuntime
from detectors.vision.detector import ObjectDetector
from detectors.vision.pose import PoseEstimator
from detectors.zoo.catalog import ModelEntry
from detectors.zoo.store import ModelStore

type Progress = Callable[[str], None]


def _silent(_: str) -> None:
    """Progress sink for callers that want none."""


def _read(
    runtime: InferenceRuntime, store: ModelStore, entry: ModelEntry, progress: Progress
) -> ov.Model:
    prepared = store.prepare(entry, progress)
    try:
        return runtime.core.read_model(str(prepared.path))
    except RuntimeError as err:
        raise ModelFormatError(f"{prepared.path}: OpenVINO cannot read it: {err}") from err


def load_detector(
    entry: ModelEntry,
    runtime: InferenceRuntime,
    store: ModelStore,
    *,
    score_threshold: float = 0.4,
    progress: Progress = _silent,
) -> ObjectDetector:
    """A ready, self-tested object detector for ``entry``."""
    model = _read(runtime, store, entry, progress)
    shape = model.inputs[0].get_partial_shape()
    if shape.is_dynamic:
        width, height = entry.input_size
        layout = entry.options.get("input_layout", "NCHW")
        model.reshape([1, 3, height, width] if layout == "NCHW" else [1, height, width, 3])
    detector = ObjectDetector(
        entry, runtime.compile(model, entry.name), score_threshold=score_threshold
    )
    detector.self_test()
    return detector


def load_pose_estimator(
    entry: ModelEntry,
    runtime: InferenceRuntime,
    store: ModelStore,
    *,
    input_size: tuple[int, int] | None = None,
    progress: Progress = _silent,
) -> PoseEstimator:
    """A ready, self-tested MoveNet; ``input_size`` overrides the zoo's (multiples of 32)."""
    width, height = input_size or entry.input_size
    if width % 32 or height % 32:
        raise ModelFormatError(f"{entry.name}: input size {width}x{height} must be multiples of 32")
    model = _read(runtime, store, entry, progress)
    model.reshape([1, height, width, 3])
    if input_size is not None:
        from dataclasses import replace

        entry = replace(entry, input_size=(width, height))
    estimator = PoseEstimator(entry, runtime.compile(model, entry.name))
    estimator.self_test()
    return estimator
