"""Crowd rule: count of person tracks against max_people."""

from __future__ import annotations

import datetime as dt

from detectors.rules.base import Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.crowd import CrowdRule
from detectors.rules.engine import RuleEngine
from detectors.schedule import parse_schedules
from detectors.types import Track

from .synthetic import frame, person

HALL = Zone("hall", ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)))


def people_in_hall(count: int, score: float = 0.8) -> list[Track]:
    return [
        person(i + 1, (10.0 + 20 * i, 500.0, 30.0 + 20 * i, 600.0), score=score)
        for i in range(count)
    ]


def test_twenty_people_start_nineteen_do_not() -> None:
    rule = CrowdRule({"zones": ["hall"]}, {"hall": HALL}, {})
    [nineteen] = rule.evaluate(frame(0.0, tracks=people_in_hall(19)))
    [twenty] = rule.evaluate(frame(0.0, tracks=people_in_hall(20)))
    assert (nineteen.active, nineteen.boxes, dict(nineteen.detail)) == (
        False,
        (),
        {"people": 19, "max_people": 20},
    )
    assert (twenty.active, len(twenty.track_ids), twenty.score) == (True, 20, 0.8)


def test_people_outside_the_zone_and_weak_tracks_do_not_count() -> None:
    rule = CrowdRule({"zones": ["hall"], "max_people": 3}, {"hall": HALL}, {})
    outside = [person(50 + i, (700.0, 500.0, 720.0, 600.0)) for i in range(5)]
    [observation] = rule.evaluate(frame(0.0, tracks=people_in_hall(2) + outside))
    assert observation.active is False
    [observation] = rule.evaluate(frame(0.0, tracks=people_in_hall(5, score=0.3)))
    assert observation.active is False


def test_crowd_alert_through_the_engine() -> None:
    rule_engine = RuleEngine(
        "cam-1", {"crowd": {"max_people": 4}}, (), (), parse_schedules({}), tz=dt.UTC
    )
    counts = [5, 3, 5, 5, 2, 2]
    events: list[tuple[int, AlertTransition]] = []
    for index, count in enumerate(counts):
        events.extend(
            (index, t)
            for t in rule_engine.process(frame(float(index), tracks=people_in_hall(count)))
        )
    assert [(i, t.state, t.scores) for i, t in events] == [(3, "started", (0.8, 0.8, 0.8))]
