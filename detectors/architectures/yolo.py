"""YOLO heads exported without post-processing (v5/v7 and v8/YOLO11 layouts)."""

from __future__ import annotations

from detectors.architectures.base import DetectionArchitecture, Outputs
from detectors.decoders.raw import RawDetections
from detectors.decoders.yolo import decode_yolo


class Yolo(DetectionArchitecture):
    """One output, letterboxed RGB input scaled to 0-1; the layout is told by its shape."""

    name = "yolo"

    def decode(
        self, outputs: Outputs, *, input_size: tuple[int, int], classes: int, score_floor: float
    ) -> RawDetections:
        """Decode the first output as YOLOv5 or YOLOv8, with the label count to settle it."""
        return decode_yolo(self.first(outputs), score_floor, num_classes=classes)
