"""Weapon rule: weapon-model classes, weak COCO cues and the chip-bag case."""

from __future__ import annotations

import datetime as dt

import pytest

from detectors.errors import ConfigError
from detectors.rules.base import Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.weapon import WeaponRule
from detectors.schedule import parse_schedules
from detectors.types import Detection

from .synthetic import frame, person, standing_pose

PERSON_BOX = (400.0, 200.0, 500.0, 600.0)  # 100 x 400 px; wrists near (372/528, 400)
POSE = standing_pose(PERSON_BOX)
IN_HAND = (500.0, 380.0, 560.0, 420.0)  # touches the left wrist at (528, 400)
ON_FLOOR = (800.0, 900.0, 860.0, 930.0)


def engine(options: dict[str, object] | None = None, zones: tuple[Zone, ...] = ()) -> RuleEngine:
    return RuleEngine("cam-1", {"weapon": options or {}}, zones, (), parse_schedules({}), tz=dt.UTC)


def run(
    rule_engine: RuleEngine, detections_per_frame: list[list[Detection]], with_pose: bool = True
) -> list[tuple[int, AlertTransition]]:
    transitions: list[tuple[int, AlertTransition]] = []
    for index, detections in enumerate(detections_per_frame):
        track = person(1, PERSON_BOX, pose=POSE if with_pose else None)
        transitions.extend(
            (index, t)
            for t in rule_engine.process(
                frame(
                    index * 0.2,
                    tracks=[track],
                    detections=detections,
                    poses=[POSE] if with_pose else [],
                )
            )
        )
    return transitions


def pistol(score: float, box: tuple[float, float, float, float] = IN_HAND) -> Detection:
    return Detection("pistol", score, box)


def knife(score: float, box: tuple[float, float, float, float] = IN_HAND) -> Detection:
    return Detection("knife", score, box)


def test_weapon_class_confirmed_on_third_of_five_frames() -> None:
    frames = [[pistol(0.8)], [], [pistol(0.7)], [pistol(0.9)], [pistol(0.9)]]
    events = run(engine(), frames)
    assert [(i, t.state) for i, t in events] == [(3, "started")]
    started = events[0][1]
    assert started.scores == (0.8, 0.7, 0.9)
    assert started.confidence == pytest.approx(0.8)
    assert started.boxes == (IN_HAND,)
    assert started.zone is None


def test_weapon_below_min_score_never_starts() -> None:
    assert run(engine(), [[pistol(0.59)]] * 20) == []


def test_chip_bag_weak_cue_in_hand_at_low_score_never_starts() -> None:
    # COCO says "knife" at 0.55 for a shiny snack bag held in a hand: below min_score.
    assert run(engine(), [[knife(0.55)]] * 30) == []


def test_confident_weak_cue_away_from_any_hand_never_starts() -> None:
    assert run(engine(), [[knife(0.95, ON_FLOOR)]] * 30) == []


def test_confident_weak_cue_in_hand_starts() -> None:
    events = run(engine(), [[knife(0.8)]] * 3)
    assert [(i, t.state, t.scores) for i, t in events] == [(2, "started", (0.8, 0.8, 0.8))]


def test_weak_cue_observation_scores_half_away_from_hands() -> None:
    rule = WeaponRule({}, {}, {})
    away = rule.evaluate(
        frame(0.0, tracks=[person(1, PERSON_BOX, pose=POSE)], detections=[knife(0.9, ON_FLOOR)])
    )
    assert [(o.active, o.score, dict(o.detail)) for o in away] == [
        (False, 0.45, {"label": "knife", "detector_score": 0.9, "weak_cue": True})
    ]
    too_weak = rule.evaluate(frame(0.0, detections=[knife(0.49, IN_HAND)]))
    assert [(o.active, o.score) for o in too_weak] == [(False, 0.0)]


def test_without_pose_the_upper_body_counts_as_the_hand() -> None:
    rule = WeaponRule({}, {}, {})
    upper = (420.0, 330.0, 480.0, 380.0)  # chest height
    feet = (420.0, 560.0, 480.0, 600.0)  # by the shoes
    track = person(1, PERSON_BOX)
    assert [
        o.score for o in rule.evaluate(frame(0.0, tracks=[track], detections=[knife(0.8, upper)]))
    ] == [0.8]
    assert [
        o.score for o in rule.evaluate(frame(0.0, tracks=[track], detections=[knife(0.8, feet)]))
    ] == [0.4]
    # A plain person detection (no tracker yet) serves as a holder too.
    plain = Detection("person", 0.9, PERSON_BOX)
    assert [o.score for o in rule.evaluate(frame(0.0, detections=[plain, knife(0.8, upper)]))] == [
        0.8
    ]


def test_zones_use_the_holders_feet() -> None:
    door = Zone("door", ((0.3, 0.5), (0.6, 0.5), (0.6, 0.7), (0.3, 0.7)))  # holds feet (0.45, 0.6)
    far = Zone("far", ((0.0, 0.0), (0.2, 0.0), (0.2, 0.2), (0.0, 0.2)))
    rule = WeaponRule({"zones": ["door", "far"]}, {"door": door, "far": far}, {})
    observations = rule.evaluate(
        frame(0.0, tracks=[person(1, PERSON_BOX, pose=POSE)], detections=[pistol(0.9)])
    )
    assert [(o.zone, o.active, o.score) for o in observations] == [
        ("door", True, 0.9),
        ("far", False, 0.0),
    ]


def test_label_in_both_lists_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"rules\.weapon: .*\['knife'\] are in both"):
        WeaponRule({"weapon_labels": ["pistol", "knife"]}, {}, {})


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"rules\.weapon\.zones: unknown zone 'gym'"):
        WeaponRule({"zones": ["gym"]}, {}, {})


def test_thresholds_report_defaults() -> None:
    thresholds = WeaponRule({}, {}, {}).thresholds()
    assert thresholds["min_score"] == 0.6
    assert thresholds["confirm_k"] == 3
    assert thresholds["confirm_m"] == 5
    assert thresholds["weak_cue_labels"] == "knife,baseball bat"
    assert thresholds["zones"] == "whole frame"
