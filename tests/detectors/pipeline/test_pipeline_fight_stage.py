"""The fight model as the second stage: clips cut while the gate is open, judged, dropped after.

Real models throughout (CPU, f32); the engine path runs a real file camera through the
real reader, worker, shared async infer queues and sampler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.inference import InferenceRuntime
from detectors.pipeline.fight_clips import crop_window
from detectors.pipeline.fight_stage import FightStage, fight_stage_for
from detectors.pipeline.processor import FrameProcessor, Models
from detectors.pipeline.reader import CameraReader
from detectors.pipeline.sources import FileSource
from detectors.pipeline.worker import CameraWorker
from detectors.rules.engine import RuleEngine
from detectors.rules.fight import FIGHT_CLIP_KEY, FightGate, FightRule
from detectors.vision import FightClassifier, ObjectDetector, PoseEstimator, load_fight_classifier
from detectors.zoo.catalog import FIGHT_MC3_18
from detectors.zoo.store import ModelStore

from .fight_score_report import WIDE_GATE, processor
from .nonfight_clips import CLIPS

PAIR = ((500.0, 150.0, 560.0, 330.0), (570.0, 160.0, 630.0, 335.0))


@pytest.fixture(scope="module")
def fight_model(runtime: InferenceRuntime, model_store: ModelStore) -> FightClassifier:
    return load_fight_classifier(FIGHT_MC3_18, runtime, model_store)


def pair_frames(samples_dir: Path, count: int) -> list[NDArray[np.uint8]]:
    frames = []
    for image, _t in CLIPS[0].build(samples_dir):
        frames.append(image)
        if len(frames) == count:
            break
    return frames


def test_a_clip_is_judged_on_the_frames_the_gate_saw_and_dropped_when_it_shuts(
    fight_model: FightClassifier, samples_dir: Path
) -> None:
    rule = FightRule({}, {}, {})
    stage = FightStage(fight_model, rule, "yard")
    frames = pair_frames(samples_dir, 24)
    assert stage.extra() == {FIGHT_CLIP_KEY: None}
    for index, image in enumerate(frames):  # exactly the model's 8 fps: every frame kept
        t = index / 8.0
        rule.gate = FightGate(t, PAIR, (1, 2))
        stage.after_rules(image, t, blocking=True)
        if index == 15:
            first = stage.verdict
    window = crop_window(PAIR, (768, 576))
    expected = fight_model.classify([fight_model.prepare_frame(f, window) for f in frames[:16]])
    assert first is not None
    assert first.fight == expected.fight, "the stage judged frames 0-15 in order"
    assert (first.window, first.started_at, first.ended_at) == (window, 0.0, 15 / 8)
    assert first.valid_until == 15 / 8 + 2.0
    latest = stage.verdict
    assert latest is not None and latest is not first and latest.ended_at == 23 / 8, (
        "next clip after 8 new frames"
    )
    assert stage.stats.clips == 2 and stage.stats.gate_frames == 24
    # The gate shuts: the clip is finished while held for 3 s, then everything is dropped.
    rule.gate = None
    stage.after_rules(frames[0], 23 / 8 + 2.9, blocking=True)
    assert stage.buffering
    stage.after_rules(frames[0], 23 / 8 + 3.01, blocking=True)
    assert not stage.buffering and stage.extra() == {FIGHT_CLIP_KEY: None}


def test_the_clip_restarts_when_the_group_leaves_its_window(
    fight_model: FightClassifier, samples_dir: Path
) -> None:
    rule = FightRule({}, {}, {})
    stage = FightStage(fight_model, rule, "yard")
    image = pair_frames(samples_dir, 1)[0]
    rule.gate = FightGate(0.0, PAIR, (1, 2))
    stage.after_rules(image, 0.0, blocking=True)
    moved = tuple((x1 - 400.0, y1, x2 - 400.0, y2) for x1, y1, x2, y2 in PAIR)
    rule.gate = FightGate(0.125, moved, (1, 2))
    stage.after_rules(image, 0.125, blocking=True)
    assert stage._buffer is not None and stage._buffer.window == crop_window(moved, (768, 576))
    assert len(stage._buffer) == 1


def test_no_stage_without_a_model_or_for_the_pose_method(
    fight_model: FightClassifier,
) -> None:
    def rules(options: dict[str, object]) -> RuleEngine:
        return RuleEngine("cam", {"fight": options}, (), (), {}, tz=dt.UTC)

    assert fight_stage_for(None, rules({}), "cam") is None
    assert fight_stage_for(fight_model, rules({"method": "pose"}), "cam") is None
    assert fight_stage_for(fight_model, rules({"enabled": False}), "cam") is None
    assert isinstance(fight_stage_for(fight_model, rules({"method": "model"}), "cam"), FightStage)


def test_engine_path_samples_between_analysed_frames_and_judges_through_the_shared_queue(
    detector: ObjectDetector,
    pose_estimator: PoseEstimator,
    fight_model: FightClassifier,
    samples_dir: Path,
    tmp_path: Path,
) -> None:
    video = tmp_path / "pair.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (768, 576))
    for image, _t in CLIPS[0].build(samples_dir):
        writer.write(image)
    writer.release()
    models = Models(detector, pose_estimator, fight=fight_model)

    async def scenario() -> tuple[FrameProcessor, CameraWorker, list[str], set[str]]:
        proc = processor(models, WIDE_GATE)  # the gate opens on the walking pair
        reader = CameraReader("yard", FileSource(video, loop=True, realtime=True), timeout_s=2.0)
        alarms: list[str] = []
        worker = CameraWorker(
            reader,
            proc,
            detect_fps=5.0,
            on_result=lambda r: alarms.extend(t.state for t in r.transitions if t.rule == "fight"),
        )
        await worker.start()
        stage = proc.fight
        assert stage is not None
        deadline = asyncio.get_running_loop().time() + 120.0
        while stage.stats.clips < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        await worker.stop()
        proc.close(0.0)
        await asyncio.sleep(0)
        names = {t.get_name() for t in asyncio.all_tasks() if not t.done()}
        return proc, worker, alarms, names

    proc, worker, alarms, names = asyncio.run(scenario())
    stage = proc.fight
    assert stage is not None
    assert stage.stats.clips >= 2, stage.stats
    assert stage.stats.sampled_frames > 0, "the sampler added frames between analysed ones"
    assert stage.stats.gate_frames <= worker.stats.analysed
    assert alarms == [], "people walking together are not a fight"
    assert not {n for n in names if n.startswith("fight-")}, "no stage task outlives the camera"
    assert not stage.buffering
