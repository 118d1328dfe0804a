"""Loitering rule: dwell time per track and zone, staying active while they stay."""

from __future__ import annotations

import datetime as dt

from detectors.rules.base import Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.loitering import LoiteringRule
from detectors.schedule import parse_schedules
from detectors.types import BoxXYXY

from .synthetic import frame, person

ENTRANCE = Zone("entrance", ((0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0)))
INSIDE: BoxXYXY = (200.0, 400.0, 300.0, 700.0)  # feet (0.25, 0.7)
OUTSIDE: BoxXYXY = (700.0, 400.0, 800.0, 700.0)  # feet (0.75, 0.7)


def test_dwell_over_limit_starts_stays_and_ends_after_leaving() -> None:
    rule_engine = RuleEngine(
        "cam-1",
        {"loitering": {"zones": ["entrance"], "seconds": 60, "quiet_seconds": 15}},
        (ENTRANCE,),
        (),
        parse_schedules({}),
        tz=dt.UTC,
    )
    events: list[tuple[int, AlertTransition]] = []
    for second in range(0, 200, 5):
        box = INSIDE if second < 150 else OUTSIDE
        tracks = [person(3, box)]
        events.extend((second, t) for t in rule_engine.process(frame(float(second), tracks=tracks)))
    # Dwell > 60 s first at t=65; 2 of 3 at t=70. Stays active until t=145; leaves at
    # t=150, quiet 15 s: ends at t=160.
    assert [(s, t.state) for s, t in events] == [(70, "started"), (160, "ended")]
    assert events[0][1].detail == {"dwell_seconds": 70.0}


def test_brief_step_out_keeps_the_clock_but_a_long_one_restarts_it() -> None:
    rule = LoiteringRule({"seconds": 10, "zones": ["entrance"]}, {"entrance": ENTRANCE}, {})
    rule.evaluate(frame(0.0, tracks=[person(3, INSIDE)]))
    rule.evaluate(frame(4.0, tracks=[person(3, OUTSIDE)]))
    [observation] = rule.evaluate(frame(11.0, tracks=[person(3, INSIDE)]))
    assert observation.active is False  # last inside at 0, back at 11: more than 5 s out
    rule.evaluate(frame(13.0, tracks=[person(3, INSIDE)]))
    rule.evaluate(frame(15.0, tracks=[person(3, OUTSIDE)]))
    [observation] = rule.evaluate(frame(18.0, tracks=[person(3, INSIDE)]))
    assert observation.active is False  # out for 5 s only: dwell 7 s since entering at 11
    [observation] = rule.evaluate(frame(21.5, tracks=[person(3, INSIDE)]))
    assert (observation.active, observation.track_ids, dict(observation.detail)) == (
        True,
        (3,),
        {"dwell_seconds": 10.5},
    )


def test_whole_frame_uses_the_same_track_not_just_anyone() -> None:
    rule = LoiteringRule({"seconds": 10}, {}, {})
    # Different people pass by one after another: nobody stays 10 s.
    for index in range(30):
        [observation] = rule.evaluate(
            frame(float(index), tracks=[person(100 + index // 5, INSIDE)])
        )
        assert observation.active is False
    # Only tracks seen within the last 5 s are remembered: 105 (now) and 104 (t=24).
    assert sorted(rule._dwell[None]) == [104, 105]
