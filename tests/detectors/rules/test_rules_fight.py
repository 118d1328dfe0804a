"""Fight rule: agitated pairs start it; calm walkers and lone wavers do not."""

from __future__ import annotations

import datetime as dt

from detectors.rules.base import Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.fight import FightRule
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


def run(rule_engine: RuleEngine, count: int, **kwargs: float) -> list[tuple[int, AlertTransition]]:
    out: list[tuple[int, AlertTransition]] = []
    for step in range(count):
        out.extend((step, t) for t in rule_engine.process(scene(step, **kwargs)))
    return out


def test_two_people_close_with_fast_limbs_start_on_the_fourth_speed_frame() -> None:
    # Wrists jump 300 px between frames 0.2 s apart: 3.75 body heights per second.
    events = run(engine(), 12, swing_left=150.0, swing_right=150.0)
    assert [(i, t.state) for i, t in events] == [(4, "started")]
    started = events[0][1]
    assert started.track_ids == (1, 2)
    assert started.scores == (0.8, 0.8, 0.8, 0.8)
    assert started.detail == {"people": 2, "limb_speeds": [3.75, 3.75]}


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
