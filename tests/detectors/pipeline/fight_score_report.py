"""The fight model's scores on footage without fights: the table in docs/models.md.

Run ``.venv/bin/python -m tests.detectors.pipeline.fight_score_report`` (a few minutes on
two cores). For vtest.avi and every clip of :mod:`nonfight_clips`, the whole pipeline runs
twice on every frame (CPU, f32):

* with the default rules (``fight`` with ``method: both``): how often the pose gate opened,
  how many clips the model judged, and how many fight alarms started (must be 0);
* with the pose gate opened wide (``limb_speed: 0.1``, ``proximity: 2.0``, so nearly any
  two people near each other count as agitated): the model then judges a clip around
  every such group each second, which gives its score distribution on the footage, and
  the alarms that ``both`` still raises (must be 0: the model has to disagree).

It also runs the model, without the pipeline, on whole frames (a 16-frame clip at 8 fps
every second): what the model says when it is not given a crop around people.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.artifacts.samples import SampleStore
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.media import iter_video
from detectors.pipeline.defaults import default_rule_options
from detectors.pipeline.fight_clips import ClipBuffer
from detectors.pipeline.processor import FrameProcessor, Models
from detectors.rules.engine import RuleEngine
from detectors.vision import (
    FightClassifier,
    load_detector,
    load_fight_classifier,
    load_pose_estimator,
)
from detectors.zoo.store import ModelStore

from .nonfight_clips import CLIPS, Frames

WIDE_GATE = {"limb_speed": 0.1, "proximity": 2.0}
"""Fight options that open the pose gate on nearly every pair of people near each other
(``bench --pipeline`` opens it wider still, on everybody, to measure cost, not judgement)."""


@dataclass
class FightRun:
    """What one pass of the pipeline over one clip gave."""

    frames: int = 0
    gate_frames: int = 0
    scores: list[float] = field(default_factory=list)
    alarms: int = 0


def processor(models: Models, fight_options: dict[str, Any] | None = None) -> FrameProcessor:
    """A processor with the default rules, the fight rule's options replaced as given."""
    options = default_rule_options()
    options["fight"] = {**options["fight"], **(fight_options or {})}
    rules = RuleEngine("nonfight", options, (), (), {}, tz=dt.UTC)
    return FrameProcessor("nonfight", models, rules)


def run(
    models: Models, frames: Iterable[tuple[NDArray[np.uint8], float]], **options: Any
) -> FightRun:
    """Every frame through the pipeline; the fight stage's verdicts and the alarms."""
    proc = processor(models, options)
    stage = proc.fight
    assert stage is not None, "the fight model must be loaded and the rule must use it"
    result = FightRun()
    last = None
    timestamp = 0.0
    for image, timestamp in frames:
        processed = proc.process(image, timestamp)
        result.frames += 1
        result.alarms += sum(
            t.rule == "fight" and t.state == "started" for t in processed.transitions
        )
        verdict = stage.verdict
        if verdict is not None and verdict is not last:
            result.scores.append(verdict.fight)
            last = verdict
    proc.close(timestamp)
    result.gate_frames = stage.stats.gate_frames
    return result


def whole_frame_scores(
    model: FightClassifier, frames: Iterable[tuple[NDArray[np.uint8], float]]
) -> list[float]:
    """P(fight) of whole-frame clips, 16 frames at the model's rate, one clip a second."""
    clip: ClipBuffer | None = None
    scores = []
    for image, timestamp in frames:
        if clip is None:
            height, width = image.shape[:2]
            clip = ClipBuffer(
                (0.0, 0.0, float(width), float(height)),
                length=model.clip_length,
                fps=model.clip_fps,
                stride=model.clip_length // 2,
                prepare=model.prepare_frame,
            )
        if clip.offer(image, timestamp) and clip.ready:
            scores.append(model.classify(clip.take()[0]).fight)
    return scores


def load_models() -> Models:
    """The default detector and pose model plus the fight model, CPU, f32."""
    runtime = InferenceRuntime(
        InferenceSettings(device="CPU", precision="f32", performance="latency")
    )
    store = ModelStore()
    return Models(
        load_detector(store.entry("nanodet-m-416"), runtime, store),
        load_pose_estimator(store.entry("movenet-multipose-lightning"), runtime, store),
        fight=load_fight_classifier(store.entry("fight-mc3-18"), runtime, store),
    )


def vtest_frames(samples: Path) -> Frames:
    """Every frame of vtest.avi with its media time."""
    return ((frame.image, frame.time) for frame in iter_video(samples / "vtest.avi"))


def _summary(scores: list[float]) -> dict[str, object]:
    if not scores:
        return {"clips": 0}
    values = np.asarray(scores)
    return {
        "clips": len(scores),
        "median": round(float(np.median(values)), 3),
        "p90": round(float(np.percentile(values, 90)), 3),
        "max": round(float(values.max()), 3),
        "over_0.5": int((values >= 0.5).sum()),
    }


def report(samples: Path) -> Iterator[dict[str, object]]:
    """One row per clip: default run and wide-gate run."""
    models = load_models()
    sources = [("vtest.avi", lambda: vtest_frames(samples))] + [
        (clip.name, lambda clip=clip: clip.build(samples)) for clip in CLIPS
    ]
    for name, frames in sources:
        default = run(models, frames())
        wide = run(models, frames(), **WIDE_GATE)
        assert models.fight is not None
        whole = whole_frame_scores(models.fight, frames())
        yield {
            "clip": name,
            "frames": default.frames,
            "default": {
                "gate_frames": default.gate_frames,
                "scores": _summary(default.scores),
                "alarms": default.alarms,
            },
            "wide_gate": {
                "gate_frames": wide.gate_frames,
                "scores": _summary(wide.scores),
                "alarms": wide.alarms,
                "all_scores": [round(s, 3) for s in wide.scores],
            },
            "whole_frame": _summary(whole),
        }


if __name__ == "__main__":
    for row in report(SampleStore().path("vtest.avi").parent):
        print(json.dumps(row), flush=True)
    sys.exit(0)
