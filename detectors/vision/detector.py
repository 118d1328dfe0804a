"""Object detectors (NanoDet, YOLO, SSD) behind one interface."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.architectures import architecture
from detectors.decoders import (
    Letterbox,
    RawDetections,
    class_aware_nms,
    letterbox,
    nms,
    to_detections,
)
from detectors.errors import ModelFormatError
from detectors.inference import CompiledRunner
from detectors.types import Detection
from detectors.zoo.catalog import ModelEntry


class ObjectDetector:
    """Runs one detection model on BGR frames and returns detections in frame pixels.

    ``score_threshold`` is the decoder's floor (kept low so rules can apply their own,
    stricter thresholds per rule); ``iou_threshold`` is for class-aware NMS. What differs
    between model families (outputs, resize, decoding) is the entry's architecture
    (``detectors.architectures``), looked up once here.
    """

    def __init__(
        self,
        entry: ModelEntry,
        runner: CompiledRunner,
        *,
        score_threshold: float = 0.4,
        iou_threshold: float = 0.5,
        duplicate_iou: float = 0.8,
        max_detections: int = 100,
    ) -> None:
        """Check the compiled model's outputs fit ``entry``'s decoder."""
        self.entry = entry
        self.runner = runner
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.duplicate_iou = duplicate_iou
        self.max_detections = max_detections
        self.labels: tuple[str, ...] = entry.labels
        self.architecture = architecture(entry.decoder)
        self.architecture.check_outputs(entry.name, runner.output_shapes(), len(self.labels))

    @property
    def name(self) -> str:
        """The zoo name of the model."""
        return self.entry.name

    def preprocess(self, frame: NDArray[np.uint8]) -> tuple[NDArray[Any], Letterbox]:
        """Resize the BGR frame to the model input; the graph does the rest.

        Type conversion, channel order, normalisation and layout are part of the compiled
        model (loader.embed_preprocessing), so this is one resize and no float arithmetic.
        """
        keep_ratio = not self.architecture.stretch
        image, geometry = letterbox(frame, self.entry.input_size, keep_ratio=keep_ratio)
        return np.ascontiguousarray(image)[None], geometry

    def decode(
        self, outputs: dict[str, NDArray[Any]], score_floor: float | None = None
    ) -> RawDetections:
        """Turn raw outputs into candidates in model-input pixels (before NMS).

        ``score_floor`` replaces ``score_threshold`` for this call (the lying-person search
        keeps weaker hits as proposals to check on a closer view).
        """
        floor = self.score_threshold if score_floor is None else score_floor
        return self.architecture.decode(
            outputs, input_size=self.entry.input_size, classes=len(self.labels), score_floor=floor
        )

    def postprocess(
        self,
        outputs: dict[str, NDArray[Any]],
        geometry: Letterbox,
        score_floor: float | None = None,
    ) -> list[Detection]:
        """Decode, suppress duplicates and map to frame pixels.

        Class-aware NMS first; then boxes of different classes that overlap almost entirely
        (IoU >= ``duplicate_iou``) are one object named twice (a horse also scored as a
        cow), and only the best-scoring name is kept.
        """
        raw = self.decode(outputs, score_floor)
        kept = class_aware_nms(raw, self.iou_threshold, self.max_detections)
        kept = kept.select(nms(kept.boxes, kept.scores, self.duplicate_iou))
        return to_detections(kept, geometry, self.labels)

    def detect(
        self, frame: NDArray[np.uint8], *, score_floor: float | None = None
    ) -> list[Detection]:
        """Detect objects in one BGR frame, synchronously (tools, tests)."""
        tensor, geometry = self.preprocess(frame)
        return self.postprocess(self.runner.infer(tensor), geometry, score_floor)

    async def detect_async(
        self, frame: NDArray[np.uint8], *, score_floor: float | None = None
    ) -> list[Detection]:
        """Detect through the shared async queue (the engine's path)."""
        outputs, geometry = await self.runner.infer_prepared(lambda: self.preprocess(frame))
        return self.postprocess(outputs, geometry, score_floor)

    def self_test(self) -> None:
        """Run a synthetic frame through the model; refuse it if outputs are not sane.

        Catches models that load but cannot work here: wrong output shapes, NaN or
        infinite outputs (a damaged file that still parses), class scores outside 0-1.
        """
        frame = self_test_frame()
        tensor, _ = self.preprocess(frame)
        outputs = self.runner.infer(tensor)
        for name, array in outputs.items():
            if not np.all(np.isfinite(array)):
                raise ModelFormatError(f"{self.entry.name}: self-test output {name} is not finite")
        self.architecture.check_self_test(self.entry.name, outputs)
        # Every candidate, however weak: a model exported without its final sigmoid gives
        # "scores" far outside 0-1, which no threshold in the rules would make sense of.
        scores = self.decode(outputs, score_floor=0.0).scores
        if scores.size and (scores.min() < 0.0 or scores.max() > 1.0):
            raise ModelFormatError(
                f"{self.entry.name}: self-test scores range {scores.min():.3g} to "
                f"{scores.max():.3g}, outside 0-1 (was the model exported without its sigmoid?)"
            )


def self_test_frame() -> NDArray[np.uint8]:
    """A fixed synthetic 640x480 frame: gradient plus seeded noise, same on every host."""
    rng = np.random.default_rng(1234)
    ramp = np.linspace(0, 255, 640, dtype=np.float32)[None, :, None]
    noise = rng.normal(0.0, 12.0, (480, 640, 3)).astype(np.float32)
    return np.clip(ramp + noise, 0, 255).astype(np.uint8)
