"""Fight rule: agitated pairs start it; calm walkers and lone wavers do not; with a model,
the model's verdict on a clip of the same people must agree."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from detectors.errors import ConfigError
from detectors.rules.base import Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.fight import FIGHT_CLIP_KEY, FightClipScore, FightGate, FightRule
from detectors.schedule import parse_schedules
from detectors.types import BoxXYXY, FrameAnalysis

from .synthetic import frame, person, shifted, standing_pose

DT = 0.2
LEFT: BoxXYXY = (400.0, 300.0, 500.0, 700.0)  # 400 px tall
RIGHT: BoxXYXY = (550.0, 300.0, 650.0, 700.0)  # centres 150 px = 0.375 heights apart


def engine(options: dict[str, object] | None = None, zones: tuple[Zone, ...] = ()) -> RuleEngine:
    return RuleEngine("cam-1", {"fight": options or {}}, zones, (), parse_schedules({}), tz=dt.UTC)


def scene(
    step: int, *, swing_left: float, swing_right: float, walk: float = 0.0, gap: float = 0.0
) -> FrameAnalysis:
    """Two people; wrists alternate by +-swing px each frame; bodies move walk px/frame."""
    sign = 1 if step % 2 == 0 else -1
    left = shifted(LEFT, walk * step)
    right = shifted(RIGHT, walk * step + gap)
    return frame(
        step * DT,
        tracks=[
            person(1, left, pose=standing_pose(left, wrist_dy=sign * swing_left)),
            person(2, right, pose=standing_pose(right, wrist_dy=sign * swing_right)),
        ],
    )


def run(
    rule_engine: RuleEngine,
    count: int,
    *,
    verdict: float | str | None = "absent",
    start: int = 0,
    **kwargs: float,
) -> list[tuple[int, AlertTransition]]:
    """Feed ``count`` scene frames; ``verdict`` is the fight model's P(fight) on every frame
    (a clip around both people, fresh), ``None`` before any clip, ``"absent"`` = no model."""
    out: list[tuple[int, AlertTransition]] = []
    for step in range(start, start + count):
        analysis = scene(step, **kwargs)
        if verdict != "absent":
            analysis = with_verdict(analysis, verdict)  # type: ignore[arg-type]
        out.extend((step, t) for t in rule_engine.process(analysis))
    return out


def with_verdict(
    analysis: FrameAnalysis, fight: float | None, window: BoxXYXY = (300.0, 200.0, 750.0, 800.0)
) -> FrameAnalysis:
    """``analysis`` with the fight stage's entry: a verdict on a clip that just ended."""
    score = None
    if fight is not None:
        t = analysis.timestamp
        score = FightClipScore(fight, window, t - 2.0, t, valid_until=t + 0.5)
    return dataclasses.replace(analysis, extra={FIGHT_CLIP_KEY: score})


def test_two_people_close_with_fast_limbs_start_on_the_fourth_speed_frame() -> None:
    # Wrists jump 300 px between frames 0.2 s apart: 3.75 body heights per second.
    events = run(engine(), 12, swing_left=150.0, swing_right=150.0)
    assert [(i, t.state) for i, t in events] == [(4, "started")]
    started = events[0][1]
    assert started.track_ids == (1, 2)
    assert started.scores == (0.8, 0.8, 0.8, 0.8)
    assert started.detail == {
        "method": "pose",
        "people": 2,
        "limb_speeds": [3.75, 3.75],
        "pose_score": 0.8,
        "model_score": None,
        "model_skipped": "fight model not installed",
    }


def test_two_people_walking_side_by_side_calmly_never_fight() -> None:
    # Walking 150 px/s with a gentle arm swing (40 px per frame: 0.5 heights/s).
    assert run(engine(), 60, swing_left=20.0, swing_right=20.0, walk=30.0) == []


def test_running_side_by_side_is_body_motion_not_limb_motion() -> None:
    # Bodies move 200 px per frame (1000 px/s); hands move with them.
    assert run(engine(), 30, swing_left=20.0, swing_right=20.0, walk=200.0) == []


def test_one_person_flailing_next_to_a_calm_one_is_not_a_fight() -> None:
    assert run(engine(), 30, swing_left=150.0, swing_right=10.0) == []


def test_agitated_people_far_apart_are_not_a_fight() -> None:
    # 600 px further: 2 heights apart with the default proximity of 1.0.
    assert run(engine(), 30, swing_left=150.0, swing_right=150.0, gap=600.0) == []
    assert [
        t.state
        for _i, t in run(
            engine({"proximity": 2.5}), 8, swing_left=150.0, swing_right=150.0, gap=600.0
        )
    ] == ["started"]


def test_speed_just_below_threshold_is_not_enough() -> None:
    # 198 px per 0.2 s on a 400 px person is 2.475 heights/s, just under 2.5.
    assert run(engine(), 30, swing_left=99.0, swing_right=99.0) == []


def test_fight_ends_after_quiet_period() -> None:
    rule_engine = engine({"quiet_seconds": 2.0})
    events = run(rule_engine, 8, swing_left=150.0, swing_right=150.0)
    assert [t.state for _i, t in events] == ["started"]
    calm: list[tuple[int, AlertTransition]] = []
    for step in range(8, 30):
        calm.extend(
            (step, t) for t in rule_engine.process(scene(step, swing_left=0.0, swing_right=0.0))
        )
    # Last active frame is step 7 (step 8's wrists moved only 150 px back to rest);
    # quiet 2 s = 10 frames later.
    assert [(i, t.state) for i, t in calm] == [(17, "ended")]


def test_limb_history_is_pruned_when_tracks_vanish() -> None:
    rule = FightRule({}, {}, {})
    for step in range(3):
        rule.evaluate(scene(step, swing_left=150.0, swing_right=150.0))
    assert len(rule._history) == 2
    rule.evaluate(frame(10.0))
    assert len(rule._history) == 0


def test_both_needs_the_model_to_agree_on_a_clip_of_the_same_people() -> None:
    assert run(engine(), 30, verdict=0.5, swing_left=150.0, swing_right=150.0) == []
    assert run(engine(), 30, verdict=None, swing_left=150.0, swing_right=150.0) == []
    assert run(engine(), 30, verdict=0.94, swing_left=150.0, swing_right=150.0) == []
    events = run(engine(), 12, verdict=0.96, swing_left=150.0, swing_right=150.0)
    assert [(i, t.state) for i, t in events] == [(4, "started")]
    started = events[0][1]
    assert started.scores == (0.96, 0.96, 0.96, 0.96), "confidence is the model's P(fight)"
    assert started.detail == {
        "method": "both",
        "people": 2,
        "limb_speeds": [3.75, 3.75],
        "pose_score": 0.8,
        "model_score": 0.96,
    }


def test_both_never_fires_on_the_model_alone() -> None:
    # Calm pair walking together, model convinced: the pose gate is shut, so no alarm.
    assert run(engine(), 60, verdict=0.99, swing_left=20.0, swing_right=20.0, walk=30.0) == []


def test_a_verdict_about_other_people_or_an_old_clip_does_not_count() -> None:
    rule_engine = engine()
    elsewhere = (0.0, 0.0, 200.0, 200.0)  # a clip cut around someone in the corner
    for step in range(12):
        analysis = with_verdict(scene(step, swing_left=150.0, swing_right=150.0), 0.99, elsewhere)
        assert rule_engine.process(analysis) == []
    stale = engine()
    for step in range(12):
        analysis = scene(step, swing_left=150.0, swing_right=150.0)
        old = FightClipScore(0.99, (300.0, 200.0, 750.0, 800.0), -3.0, -1.0, valid_until=0.5)
        assert stale.process(dataclasses.replace(analysis, extra={FIGHT_CLIP_KEY: old})) == []


def test_model_method_judges_while_the_gate_is_held_open() -> None:
    # Two agitated frames open the gate; then the limbs calm down but the model, judging
    # clips cut while the gate was open, keeps saying fight: frames count for 3 s.
    rule_engine = engine({"method": "model"})
    events = run(rule_engine, 3, verdict=0.97, swing_left=150.0, swing_right=150.0)
    events += run(rule_engine, 20, verdict=0.97, start=3, swing_left=0.0, swing_right=0.0)
    assert [(i, t.state) for i, t in events] == [(4, "started")]
    assert events[0][1].detail["method"] == "model"
    quiet = engine({"method": "model", "quiet_seconds": 1.0})
    late = run(quiet, 3, verdict=None, swing_left=150.0, swing_right=150.0)
    late += run(quiet, 30, verdict=0.97, start=3, swing_left=0.0, swing_right=0.0)
    # Last agitated frame: step 2 (t = 0.4 s). The model agrees from step 3 on, so steps
    # 3-6 start the alert; the gate is held to t = 3.4 s, so the last frame that counts is
    # step 16 (t = 3.2 s) and the alert ends 1 s later although the model still agrees.
    assert [(i, t.state) for i, t in late] == [(6, "started"), (21, "ended")]


def test_pose_method_ignores_the_model() -> None:
    events = run(engine({"method": "pose"}), 12, verdict=0.01, swing_left=150.0, swing_right=150.0)
    assert [(i, t.state) for i, t in events] == [(4, "started")]
    assert "model_skipped" not in events[0][1].detail


def test_the_gate_names_the_agitated_group_for_the_clip() -> None:
    rule = FightRule({}, {}, {})
    rule.evaluate(scene(0, swing_left=150.0, swing_right=150.0))
    assert rule.gate is None, "one frame gives no speed yet"
    rule.evaluate(scene(1, swing_left=150.0, swing_right=150.0))
    assert rule.gate == FightGate(0.2, (LEFT, RIGHT), (1, 2))
    rule.evaluate(scene(2, swing_left=0.0, swing_right=0.0))
    assert rule.gate is None
    rule.reset()
    assert rule.gate is None and len(rule._history) == 0


def test_method_and_model_score_are_validated() -> None:
    with pytest.raises(ConfigError, match="method"):
        FightRule({"method": "vibes"}, {}, {})
    with pytest.raises(ConfigError, match="model_score"):
        FightRule({"model_score": 1.5}, {}, {})
    assert FightRule({}, {}, {}).method == "both"
    assert FightRule({}, {}, {}).thresholds()["model_score"] == 0.95
