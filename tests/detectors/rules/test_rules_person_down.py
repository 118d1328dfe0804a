"""Person-down rule: lying held for N seconds; standing, bending and gyms never fire."""

from __future__ import annotations

import datetime as dt

from detectors.rules.base import Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.person_down import PersonDownRule
from detectors.schedule import parse_schedules
from detectors.types import BoxXYXY, Track

from .synthetic import frame, lying_pose, person, pose_from, standing_pose

LYING: BoxXYXY = (300.0, 600.0, 700.0, 700.0)  # 400 x 100 px, feet anchor (0.5, 0.7)
STANDING: BoxXYXY = (450.0, 300.0, 550.0, 700.0)
GYM = Zone("gym", ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)))


def engine(options: dict[str, object] | None = None) -> RuleEngine:
    return RuleEngine(
        "cam-1", {"person_down": options or {}}, (GYM,), (), parse_schedules({}), tz=dt.UTC
    )


def run(
    rule_engine: RuleEngine, tracks_at: list[list[Track]], start: int = 0
) -> list[tuple[int, AlertTransition]]:
    out: list[tuple[int, AlertTransition]] = []
    for offset, tracks in enumerate(tracks_at):
        second = start + offset
        out.extend((second, t) for t in rule_engine.process(frame(float(second), tracks=tracks)))
    return out


def lying_track(score: float = 0.9) -> Track:
    return person(7, LYING, score=score, pose=lying_pose(LYING))


def test_lying_held_ten_seconds_then_confirmed_three_of_five() -> None:
    events = run(engine(), [[lying_track()]] * 15)
    # Held >= 10 s from t=10; three active frames: t=10, 11, 12.
    assert [(i, t.state) for i, t in events] == [(12, "started")]
    started = events[0][1]
    assert started.track_ids == (7,)
    assert started.scores == (0.9, 0.9, 0.9)
    assert started.detail == {"held_seconds": 12.0, "method": "pose", "methods": ["pose"]}


def test_getting_up_ends_the_alert_after_quiet_seconds() -> None:
    rule_engine = engine({"quiet_seconds": 5.0})
    run(rule_engine, [[lying_track()]] * 13)
    standing = person(7, STANDING, pose=standing_pose(STANDING))
    events = run(rule_engine, [[standing]] * 10, start=13)
    assert [(i, t.state) for i, t in events] == [(17, "ended")]


def test_person_standing_still_never_raises() -> None:
    still = person(3, STANDING, pose=standing_pose(STANDING))
    assert run(engine(), [[still]] * 120) == []
    # Box-only too: a tall box is not lying.
    assert run(engine(), [[person(3, STANDING)]] * 120) == []


def test_bending_over_tilts_the_torso_but_keeps_the_box_tall() -> None:
    box = (450.0, 400.0, 570.0, 700.0)
    bending = pose_from(
        {
            "left_shoulder": (560.0, 450.0),
            "right_shoulder": (550.0, 460.0),
            "left_hip": (470.0, 520.0),
            "right_hip": (465.0, 530.0),
        },
        box,
    )
    assert run(engine(), [[person(4, box, pose=bending)]] * 30) == []


def test_suppress_zone_never_fires() -> None:
    assert run(engine({"suppress_zones": ["gym"]}), [[lying_track()]] * 30) == []


def test_box_only_fallback_needs_a_confident_detection() -> None:
    confident = person(7, LYING, score=0.9)  # 0.9 x 0.35 = 0.315 >= 0.3
    unsure = person(8, LYING, score=0.8)  # 0.8 x 0.35 = 0.28 < 0.3
    events = run(engine(), [[confident]] * 13)
    assert [(i, t.state, t.scores) for i, t in events] == [(12, "started", (0.315, 0.315, 0.315))]
    assert run(engine(), [[unsure]] * 30) == []


def test_pose_flicker_under_a_second_keeps_the_timer() -> None:
    rule = PersonDownRule({"seconds": 3.0}, {}, {})
    box_only_wide_no_torso = person(7, LYING, pose=pose_from({"nose": (310.0, 650.0)}, LYING))
    assert rule.evaluate(frame(0.0, tracks=[lying_track()]))[0].active is False
    assert (
        rule.evaluate(frame(0.5, tracks=[person(7, STANDING, pose=standing_pose(STANDING))]))[
            0
        ].active
        is False
    )
    assert rule.evaluate(frame(1.0, tracks=[box_only_wide_no_torso]))[0].active is False
    assert rule.evaluate(frame(2.0, tracks=[lying_track()]))[0].active is False
    observation = rule.evaluate(frame(3.0, tracks=[lying_track()]))[0]
    assert (observation.active, observation.score, dict(observation.detail)) == (
        True,
        0.9,
        {"held_seconds": 3.0, "method": "pose", "methods": ["box", "pose"]},
    )


def test_a_gap_longer_than_the_grace_restarts_the_timer() -> None:
    rule = PersonDownRule({"seconds": 2.0}, {}, {})
    rule.evaluate(frame(0.0, tracks=[lying_track()]))
    standing = person(7, STANDING, pose=standing_pose(STANDING))
    rule.evaluate(frame(1.0, tracks=[standing]))
    rule.evaluate(frame(1.5, tracks=[standing]))
    # Last lying at t=0, lying again at t=2: more than 1 s apart, so the clock restarts.
    assert rule.evaluate(frame(2.0, tracks=[lying_track()]))[0].active is False
    assert rule.evaluate(frame(3.0, tracks=[lying_track()]))[0].active is False
    assert rule.evaluate(frame(4.0, tracks=[lying_track()]))[0].active is True


def test_lying_timers_are_per_track_and_pruned() -> None:
    rule = PersonDownRule({"seconds": 2.0}, {}, {})
    rule.evaluate(frame(0.0, tracks=[lying_track()]))
    # Track 7 vanished; track 9 lying in the same spot starts its own clock.
    other = person(9, LYING, pose=lying_pose(LYING))
    assert rule.evaluate(frame(1.0, tracks=[other]))[0].active is False
    assert rule.evaluate(frame(2.0, tracks=[other]))[0].active is False
    assert rule.evaluate(frame(3.0, tracks=[other]))[0].active is True
    rule.evaluate(frame(20.0))
    assert len(rule._lying) == 0


def test_a_person_found_only_in_a_turned_view_counts_in_full_when_wide() -> None:
    rotated = person(7, LYING, score=0.62, evidence=("rotated_sweep",))
    events = run(engine(), [[rotated]] * 13)
    assert [(i, t.state, t.scores) for i, t in events] == [(12, "started", (0.62, 0.62, 0.62))]
    assert events[0][1].detail == {
        "held_seconds": 12.0,
        "method": "rotated_sweep",
        "methods": ["rotated_sweep"],
    }
    # The same evidence on a tall box is not lying (a box turned back the wrong way).
    assert run(engine(), [[person(7, STANDING, score=0.9, evidence=("rotated_sweep",))]] * 30) == []


def test_every_method_that_agreed_is_named_with_the_one_that_showed_the_posture() -> None:
    seen = person(7, LYING, score=0.8, evidence=("fall_model", "fall_transition", "rotated_sweep"))
    [(_, started)] = run(engine(), [[seen]] * 13)
    assert started.detail["method"] == "rotated_sweep"
    assert started.detail["methods"] == ["fall_model", "fall_transition", "rotated_sweep"]


def test_upright_then_wide_is_a_fall_and_box_only_evidence_counts_in_full() -> None:
    rule_engine = engine()
    walking = [[person(7, STANDING, score=0.8)]] * 3
    down = [[person(7, LYING, score=0.8)]] * 13  # no pose: box-only, 0.8 x 0.35 alone is too weak
    events = run(rule_engine, walking + down)
    assert [(i, t.state) for i, t in events] == [(15, "started")]
    assert events[0][1].scores == (0.8, 0.8, 0.8)
    assert events[0][1].detail["methods"] == ["box", "fall_transition"]
    # Without the upright start, the same box stays too weak to alert.
    assert run(engine(), down * 2) == []


def test_lying_down_long_after_standing_is_not_a_fall() -> None:
    standing = [[person(7, STANDING, score=0.8)]]
    gap = [[]] * 6  # gone from view for 6 s (more than TRANSITION_SECONDS)
    down = [[person(7, LYING, score=0.8)]] * 15
    assert run(engine(), standing + gap + down) == []


def test_search_options_are_validated_and_default_on() -> None:
    rule = PersonDownRule({}, {}, {})
    assert rule.search_options == {
        "enabled": True,
        "interval_seconds": 0.5,
        "budget": 0.25,
        "still_interval_seconds": 4.0,
        "fall_model_seconds": 2.0,
        "methods": ["rotated_sweep", "fall_transition", "fall_model"],
    }
    assert rule.thresholds()["search_budget"] == 0.25
    assert rule.thresholds()["search_methods"] == "rotated_sweep,fall_transition,fall_model"
    off = PersonDownRule({"search": {"enabled": False, "methods": ["fall_model"]}}, {}, {})
    assert off.search_options["enabled"] is False
