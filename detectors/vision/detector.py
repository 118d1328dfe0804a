"""Object detectors (NanoDet, YOLO, SSD) behind one interface."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.decoders import (
    Letterbox,
    RawDetections,
    class_aware_nms,
    decode_nanodet,
    decode_ssd,
    decode_yolo,
    letterbox,
    nms,
    to_detections,
)
from detectors.errors import ModelFormatError
from detectors.inference import CompiledRunner
from detectors.types import Detection
from detectors.zoo.catalog import ModelEntry

# NanoDet was trained on BGR images normalised with these ImageNet statistics (NOTES.md);
# the loader builds them into the compiled graph (see loader.embed_preprocessing).
NANODET_MEAN = (103.53, 116.28, 123.675)
NANODET_STD = (57.375, 57.12, 58.395)


class ObjectDetector:
    """Runs one detection model on BGR frames and returns detections in frame pixels.

    ``score_threshold`` is the decoder's floor (kept low so rules can apply their own,
    stricter thresholds per rule); ``iou_threshold`` is for class-aware NMS.
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
        self._check_outputs()

    @property
    def name(self) -> str:
        """The zoo name of the model."""
        return self.entry.name

    def _check_outputs(self) -> None:
        shapes = self.runner.output_shapes()
        if self.entry.decoder == "nanodet":
            cls = [s for s in shapes.values() if len(s) == 3 and s[2] == len(self.labels)]
            reg = [s for s in shapes.values() if len(s) == 3 and s[2] == 44]
            if len(cls) != 3 or len(reg) != 3:
                raise ModelFormatError(
                    f"{self.entry.name}: expected 3 class outputs [1,N,{len(self.labels)}] and "
                    f"3 box outputs [1,N,44], got {sorted(shapes.values())}"
                )
        elif len(shapes) < 1:
            raise ModelFormatError(f"{self.entry.name}: the model has no outputs")

    def preprocess(self, frame: NDArray[np.uint8]) -> tuple[NDArray[Any], Letterbox]:
        """Resize the BGR frame to the model input; the graph does the rest.

        Type conversion, channel order, normalisation and layout are part of the compiled
        model (loader.embed_preprocessing), so this is one resize and no float arithmetic.
        """
        width, height = self.entry.input_size
        # NanoDet was trained on stretched (not letterboxed) images: stretching scores a
        # clear person at 0.74 where letterboxing gives 0.44 (person.jpg, docs/models.md).
        stretch = self.entry.decoder == "nanodet"
        image, geometry = letterbox(frame, (width, height), keep_ratio=not stretch)
        return np.ascontiguousarray(image)[None], geometry

    def decode(
        self, outputs: dict[str, NDArray[Any]], score_floor: float | None = None
    ) -> RawDetections:
        """Turn raw outputs into candidates in model-input pixels (before NMS).

        ``score_floor`` replaces ``score_threshold`` for this call (the lying-person search
        keeps weaker hits as proposals to check on a closer view).
        """
        floor = self.score_threshold if score_floor is None else score_floor
        if self.entry.decoder == "nanodet":
            arrays = list(outputs.values())
            cls = sorted((a for a in arrays if a.shape[2] != 44), key=lambda a: -a.shape[1])
            reg = sorted((a for a in arrays if a.shape[2] == 44), key=lambda a: -a.shape[1])
            return decode_nanodet(
                list(zip(cls, reg, strict=True)),
                input_size=self.entry.input_size,
                score_threshold=floor,
            )
        first = next(iter(outputs.values()))
        if self.entry.decoder == "ssd":
            return decode_ssd(first, self.entry.input_size, floor)
        return decode_yolo(first, floor, num_classes=len(self.labels))

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
        if self.entry.decoder == "nanodet":
            for name, array in outputs.items():
                if array.shape[2] != 44 and (array.min() < 0.0 or array.max() > 1.0):
                    raise ModelFormatError(
                        f"{self.entry.name}: self-test class scores in {name} leave 0-1"
                    )
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
