"""``school-guard analyze``: run the detectors over a video or an image.

The same models and post-processing as the engine, one JSON object per analysed frame so
results can be diffed, graphed or fed to other tools.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from detectors.media import iter_media
from detectors.types import Detection, Pose
from detectors.vision import ObjectDetector, PoseEstimator


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the models saw in one frame."""

    frame: int
    time: float
    detections: tuple[Detection, ...]
    poses: tuple[Pose, ...]

    def to_json(self) -> dict[str, object]:
        """The documented JSON line of ``analyze --json``."""
        return {
            "frame": self.frame,
            "time": round(self.time, 3),
            "detections": [d.to_json() for d in self.detections],
            "poses": [p.to_json() for p in self.poses],
        }


class FrameAnalyzer:
    """Detector plus (optional) pose model; pose runs only on frames that contain people."""

    def __init__(self, detector: ObjectDetector, pose: PoseEstimator | None = None) -> None:
        """Use ``detector`` on every frame and ``pose`` where a person was found."""
        self.detector = detector
        self.pose = pose

    def analyze(self, image: NDArray[np.uint8]) -> tuple[list[Detection], list[Pose]]:
        """Detections and poses of one BGR frame."""
        detections = self.detector.detect(image)
        people = any(d.label == "person" for d in detections)
        poses = self.pose.estimate(image) if self.pose is not None and people else []
        return detections, poses

    def run(self, path: Path, every: int = 1) -> Iterator[FrameResult]:
        """Analyse every ``every``-th frame of ``path``."""
        for media in iter_media(path, every):
            detections, poses = self.analyze(media.image)
            yield FrameResult(media.index, media.time, tuple(detections), tuple(poses))


@dataclass(slots=True)
class Summary:
    """Readable totals for ``analyze`` without ``--json``."""

    frames: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    max_persons: int = 0
    person_frames: int = 0
    poses: int = 0

    def add(self, result: FrameResult) -> None:
        """Count one frame's results."""
        self.frames += 1
        persons = sum(d.label == "person" for d in result.detections)
        self.labels.update(d.label for d in result.detections)
        self.max_persons = max(self.max_persons, persons)
        self.person_frames += persons > 0
        self.poses += len(result.poses)

    def write(self, out: TextIO) -> None:
        """Print the totals."""
        out.write(f"frames analysed: {self.frames}\n")
        out.write(f"frames with people: {self.person_frames} (most at once: {self.max_persons})\n")
        if self.frames:
            mean = self.labels["person"] / self.frames
            out.write(f"mean persons per frame: {mean:.2f}\n")
        out.write(f"poses estimated: {self.poses}\n")
        for label, count in self.labels.most_common():
            out.write(f"  {label}: {count} detections\n")


def write_json_line(result: FrameResult, out: TextIO) -> None:
    """One compact JSON object per line, flushed so pipes see it at once."""
    out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
    out.flush()
