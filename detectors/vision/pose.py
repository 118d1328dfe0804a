"""MoveNet MultiPose: up to six people with 17 COCO keypoints each."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.decoders import Letterbox, decode_movenet, letterbox
from detectors.errors import ModelFormatError
from detectors.inference import CompiledRunner
from detectors.types import Pose
from detectors.vision.detector import self_test_frame
from detectors.zoo.catalog import ModelEntry


class PoseEstimator:
    """Runs MoveNet MultiPose on BGR frames; poses come back in frame pixels."""

    def __init__(
        self, entry: ModelEntry, runner: CompiledRunner, *, score_threshold: float = 0.2
    ) -> None:
        """Check the compiled model has MoveNet's ``[1, 6, 56]`` output."""
        self.entry = entry
        self.runner = runner
        self.score_threshold = score_threshold
        shapes = list(runner.output_shapes().values())
        if len(shapes) != 1 or len(shapes[0]) != 3 or shapes[0][2] != 56:
            raise ModelFormatError(f"{entry.name}: expected one output [1,6,56], got {shapes}")

    @property
    def name(self) -> str:
        """The zoo name of the model."""
        return self.entry.name

    def preprocess(self, frame: NDArray[np.uint8]) -> tuple[NDArray[Any], Letterbox]:
        """Letterbox (black padding) to the input size, as uint8 RGB NHWC."""
        image, geometry = letterbox(frame, self.entry.input_size, keep_ratio=True, pad_value=0)
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)[None], geometry

    def postprocess(self, outputs: dict[str, NDArray[Any]], geometry: Letterbox) -> list[Pose]:
        """Decode people above the score threshold."""
        output = next(iter(outputs.values()))
        return decode_movenet(output, geometry, self.score_threshold)

    def estimate(self, frame: NDArray[np.uint8]) -> list[Pose]:
        """Estimate poses in one frame, synchronously."""
        tensor, geometry = self.preprocess(frame)
        return self.postprocess(self.runner.infer(tensor), geometry)

    async def estimate_async(self, frame: NDArray[np.uint8]) -> list[Pose]:
        """Estimate poses through the shared async queue."""
        outputs, geometry = await self.runner.infer_prepared(lambda: self.preprocess(frame))
        return self.postprocess(outputs, geometry)

    def self_test(self) -> None:
        """Refuse a model whose output on a synthetic frame is not finite and in range."""
        tensor, _ = self.preprocess(self_test_frame())
        output = next(iter(self.runner.infer(tensor).values()))
        if not np.all(np.isfinite(output)):
            raise ModelFormatError(f"{self.entry.name}: self-test output is not finite")
        coords = output[0, :, :51].reshape(-1, 17, 3)
        if coords[..., 2].min() < 0.0 or coords[..., 2].max() > 1.0:
            raise ModelFormatError(f"{self.entry.name}: self-test keypoint scores leave 0-1")
