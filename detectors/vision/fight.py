"""The fight clip classifier: 16 crops around a group of people in, P(fight) out.

Preprocessing follows the model's own ``Fight_utils.py`` (albumentations): each frame is
resized to 128x171 (height x width, bilinear) and centre-cropped to 112x112; the RGB
normalisation and the layout change live in the graph (:mod:`detectors.zoo.mc3`), so a
prepared frame stays uint8 BGR (37 kB) until OpenVINO reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.errors import ModelFormatError
from detectors.inference import CompiledRunner
from detectors.types import BoxXYXY
from detectors.vision.detector import self_test_frame
from detectors.zoo.catalog import ModelEntry


@dataclass(frozen=True, slots=True)
class ClipVerdict:
    """What the classifier said about one clip: P(fight) and the raw logits."""

    fight: float
    logits: tuple[float, ...]


def fight_probability(logits: NDArray[Any], fight_index: int) -> float:
    """Softmax of ``logits`` (shape ``[1, classes]``) at ``fight_index``, computed stably."""
    row = np.asarray(logits, dtype=np.float64).reshape(-1)
    shifted = np.exp(row - row.max())
    return float(shifted[fight_index] / shifted.sum())


def prepare_clip_frame(
    image: NDArray[np.uint8], window: BoxXYXY, resize: tuple[int, int], crop: int
) -> NDArray[np.uint8]:
    """Cut ``window`` out of a BGR frame, resize to ``resize`` (h, w), centre-crop ``crop``.

    Bilinear resize and ``(size - crop) // 2`` offsets, as albumentations' ``Resize`` and
    ``CenterCrop`` do in the model's own preprocessing.
    """
    x1, y1, x2, y2 = (round(v) for v in window)
    patch = image[max(0, y1) : y2, max(0, x1) : x2]
    if patch.size == 0:
        raise ValueError(f"crop window {window} is outside the frame {image.shape[:2]}")
    height, width = resize
    resized = cv2.resize(patch, (width, height), interpolation=cv2.INTER_LINEAR)
    top, left = (height - crop) // 2, (width - crop) // 2
    return np.ascontiguousarray(resized[top : top + crop, left : left + crop])


class FightClassifier:
    """Runs the fight model on clips of prepared frames; one verdict per clip."""

    def __init__(self, entry: ModelEntry, runner: CompiledRunner) -> None:
        """Check the compiled model takes ``[1, T, S, S, 3]`` and gives ``[1, classes]``."""
        self.entry = entry
        self.runner = runner
        self.clip_length = int(entry.options["clip_length"])
        self.clip_fps = float(entry.options["clip_fps"])
        self.fight_index = int(entry.options["fight_index"])
        self.crop = int(entry.input_size[0])
        height, width = entry.options["resize"]
        self.resize = (int(height), int(width))
        expected = (1, self.clip_length, self.crop, self.crop, 3)
        if runner.input_shape != expected:
            raise ModelFormatError(f"{entry.name}: input {runner.input_shape}, expected {expected}")
        shapes = list(runner.output_shapes().values())
        if len(shapes) != 1 or shapes[0] != (1, len(entry.labels)):
            raise ModelFormatError(
                f"{entry.name}: expected one output [1, {len(entry.labels)}], got {shapes}"
            )

    @property
    def name(self) -> str:
        """The zoo name of the model."""
        return self.entry.name

    @property
    def clip_seconds(self) -> float:
        """How much time one clip spans at the model's frame rate (2 s for 16 at 8 fps)."""
        return self.clip_length / self.clip_fps

    def prepare_frame(self, image: NDArray[np.uint8], window: BoxXYXY) -> NDArray[np.uint8]:
        """Cut ``window`` out of a BGR frame, resize to 128x171, centre-crop 112x112."""
        return prepare_clip_frame(image, window, self.resize, self.crop)

    def _tensor(self, frames: list[NDArray[np.uint8]]) -> NDArray[np.uint8]:
        if len(frames) != self.clip_length:
            raise ValueError(f"a clip needs {self.clip_length} frames, got {len(frames)}")
        return np.stack(frames)[None]

    def _verdict(self, outputs: dict[str, NDArray[Any]]) -> ClipVerdict:
        logits = next(iter(outputs.values()))
        return ClipVerdict(
            fight=fight_probability(logits, self.fight_index),
            logits=tuple(float(v) for v in logits.reshape(-1)),
        )

    def classify(self, frames: list[NDArray[np.uint8]]) -> ClipVerdict:
        """Classify one clip of prepared frames on the calling thread (tools, ``analyze``)."""
        return self._verdict(self.runner.infer(self._tensor(frames)))

    async def classify_async(self, frames: list[NDArray[np.uint8]]) -> ClipVerdict:
        """Classify one clip through the shared async infer queue (the engine)."""
        return self._verdict(await self.runner.infer_async(self._tensor(frames)))

    def self_test(self) -> None:
        """Refuse a model whose logits on a fixed synthetic clip are not finite."""
        frame = self_test_frame()
        height, width = frame.shape[:2]
        frames = [
            self.prepare_frame(np.roll(frame, 8 * index, axis=1), (0.0, 0.0, width, height))
            for index in range(self.clip_length)
        ]
        verdict = self.classify(frames)
        if not all(np.isfinite(verdict.logits)) or not 0.0 <= verdict.fight <= 1.0:
            raise ModelFormatError(f"{self.entry.name}: self-test logits {verdict.logits} unusable")
