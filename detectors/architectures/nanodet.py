"""NanoDet-m (the default detector): three class/box output pairs, GFL box decoding."""

from __future__ import annotations

from collections.abc import Mapping

from detectors.architectures.base import DetectionArchitecture, Normalisation, Outputs, Shapes
from detectors.decoders.nanodet import decode_nanodet
from detectors.decoders.raw import RawDetections
from detectors.errors import ModelFormatError

# The box outputs carry 4 sides x (reg_max + 1) bins; NanoDet-m has reg_max = 10.
BOX_CHANNELS = 44

# NanoDet was trained on BGR images normalised with these ImageNet statistics (NOTES.md).
NANODET_MEAN = (103.53, 116.28, 123.675)
NANODET_STD = (57.375, 57.12, 58.395)


class NanoDet(DetectionArchitecture):
    """NanoDet's exported TF.js graph: sigmoid class scores and box-bin logits per stride.

    It was trained on stretched (not letterboxed) images: stretching scores a clear
    person at 0.74 where letterboxing gives 0.44 (person.jpg, docs/models.md).
    """

    name = "nanodet"
    user_models = False
    stretch = True

    def normalisation(self, options: Mapping[str, object]) -> Normalisation:
        """BGR, ImageNet mean and std, NCHW: what the zoo's graph was trained with."""
        return Normalisation(layout="NCHW", rgb=False, mean=NANODET_MEAN, scale=NANODET_STD)

    def check_outputs(self, model: str, shapes: Shapes, classes: int) -> None:
        """Three class outputs ``[1, N, C]`` and three box outputs ``[1, N, 44]``."""
        cls = [s for s in shapes.values() if len(s) == 3 and s[2] == classes]
        reg = [s for s in shapes.values() if len(s) == 3 and s[2] == BOX_CHANNELS]
        if len(cls) != 3 or len(reg) != 3:
            raise ModelFormatError(
                f"{model}: expected 3 class outputs [1,N,{classes}] and "
                f"3 box outputs [1,N,{BOX_CHANNELS}], got {sorted(shapes.values())}"
            )

    def decode(
        self, outputs: Outputs, *, input_size: tuple[int, int], classes: int, score_floor: float
    ) -> RawDetections:
        """Pair class and box outputs by level (largest grid first) and decode them."""
        arrays = list(outputs.values())
        cls = sorted((a for a in arrays if a.shape[2] != BOX_CHANNELS), key=lambda a: -a.shape[1])
        reg = sorted((a for a in arrays if a.shape[2] == BOX_CHANNELS), key=lambda a: -a.shape[1])
        return decode_nanodet(
            list(zip(cls, reg, strict=True)), input_size=input_size, score_threshold=score_floor
        )

    def check_self_test(self, model: str, outputs: Outputs) -> None:
        """Class outputs are sigmoids: anything outside 0-1 is a damaged or foreign graph."""
        for name, array in outputs.items():
            if array.shape[2] != BOX_CHANNELS and (array.min() < 0.0 or array.max() > 1.0):
                raise ModelFormatError(f"{model}: self-test class scores in {name} leave 0-1")
