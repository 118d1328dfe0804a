"""SSD models ending in OpenVINO's ``DetectionOutput`` (Open Model Zoo)."""

from __future__ import annotations

from detectors.architectures.base import DetectionArchitecture, Outputs
from detectors.decoders.raw import RawDetections
from detectors.decoders.ssd import decode_ssd


class Ssd(DetectionArchitecture):
    """One ``[1, 1, N, 7]`` output with normalised corner boxes."""

    name = "ssd"

    def decode(
        self, outputs: Outputs, *, input_size: tuple[int, int], classes: int, score_floor: float
    ) -> RawDetections:
        """Decode the detection list, scaled to model-input pixels."""
        return decode_ssd(self.first(outputs), input_size, score_floor)
