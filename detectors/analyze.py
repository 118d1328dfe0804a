"""``school-guard analyze``: run the detectors over a video or an image.

The same models, tracker, rules and confirmation as the engine, one JSON object per
analysed frame so results can be diffed, graphed or fed to other tools.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from detectors.media import iter_media
from detectors.pipeline.processor import FrameProcessor
from detectors.rules.confirmation import AlertTransition
from detectors.types import Detection, Pose


def transition_json(transition: AlertTransition) -> dict[str, object]:
    """The ``events`` entry of an analyze line: one alert lifecycle step."""
    return {
        "rule": transition.rule,
        "state": transition.state,
        "camera": transition.camera_id,
        "zone": transition.zone,
        "confidence": round(transition.confidence, 3),
        "event_id": transition.alert_id,
        "drill": transition.drill,
    }


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the models saw in one frame, and the alert steps it caused."""

    frame: int
    time: float
    detections: tuple[Detection, ...]
    poses: tuple[Pose, ...]
    events: tuple[AlertTransition, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The documented JSON line of ``analyze --json``."""
        return {
            "frame": self.frame,
            "time": round(self.time, 3),
            "detections": [d.to_json() for d in self.detections],
            "poses": [p.to_json() for p in self.poses],
            "events": [transition_json(t) for t in self.events],
        }


class FrameAnalyzer:
    """Runs a camera's :class:`FrameProcessor` over a file, frame by frame.

    The processor is the engine's own, so tracking, rules and K-of-M confirmation behave
    exactly as on a live camera; media time stands in for the capture clock. Alerts still
    open at the end of the file are ended on the last line.
    """

    def __init__(self, processor: FrameProcessor) -> None:
        """Analyse with ``processor`` (models, tracker and rules of one camera)."""
        self.processor = processor

    def run(self, path: Path, every: int = 1) -> Iterator[FrameResult]:
        """Analyse every ``every``-th frame of ``path``."""
        previous: FrameResult | None = None
        for media in iter_media(path, every):
            processed = self.processor.process(media.image, media.time)
            if previous is not None:
                yield previous
            previous = FrameResult(
                media.index,
                media.time,
                processed.analysis.detections,
                processed.analysis.poses,
                processed.transitions,
            )
        if previous is not None:
            closing = self.processor.close(previous.time)
            yield replace(previous, events=previous.events + closing)


@dataclass(slots=True)
class Summary:
    """Readable totals for ``analyze`` without ``--json``."""

    frames: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    max_persons: int = 0
    person_frames: int = 0
    poses: int = 0
    alerts: Counter[str] = field(default_factory=Counter)

    def add(self, result: FrameResult) -> None:
        """Count one frame's results."""
        self.frames += 1
        persons = sum(d.label == "person" for d in result.detections)
        self.labels.update(d.label for d in result.detections)
        self.max_persons = max(self.max_persons, persons)
        self.person_frames += persons > 0
        self.poses += len(result.poses)
        self.alerts.update(e.rule for e in result.events if e.state == "started")

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
        out.write(f"alerts started: {sum(self.alerts.values())}\n")
        for rule, count in self.alerts.most_common():
            out.write(f"  {rule}: {count}\n")


def write_json_line(result: FrameResult, out: TextIO) -> None:
    """One compact JSON object per line, flushed so pipes see it at once."""
    out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
    out.flush()
