"""Intrusion rule: zones under a schedule, zone edges and directional tripwires."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from detectors.errors import ConfigError
from detectors.rules.base import Line, Zone
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.intrusion import IntrusionRule
from detectors.schedule import SCHEDULE_SCHEMA, parse_schedules
from detectors.types import BoxXYXY

from .synthetic import frame, person

CHICAGO = ZoneInfo("America/Chicago")
OFFICE = Zone("office", ((0.1, 0.5), (0.4, 0.5), (0.4, 0.9), (0.1, 0.9)))
DOORWAY = Line("doorway", (0.2, 0.5), (0.8, 0.5), "a_to_b")
SCHEDULES = parse_schedules(
    {"after_hours": SCHEDULE_SCHEMA([{"days": "weekdays", "from": "17:00", "to": "07:00"}])}
)


def feet_at(x: float, y: float) -> BoxXYXY:
    """A 100 x 300 px person box whose feet are at normalised (x, y)."""
    return (x * 1000 - 50, y * 1000 - 300, x * 1000 + 50, y * 1000)


def engine(options: dict[str, object], tz: dt.tzinfo = dt.UTC) -> RuleEngine:
    return RuleEngine("cam-1", {"intrusion": options}, (OFFICE,), (DOORWAY,), SCHEDULES, tz=tz)


def local(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CHICAGO).timestamp()


def test_person_in_zone_starts_only_once_the_schedule_is_active() -> None:
    rule_engine = engine({"zones": ["office"], "schedule": "after_hours"}, CHICAGO)
    inside = person(1, feet_at(0.25, 0.7))
    events: list[tuple[int, AlertTransition]] = []
    for second in range(-3, 4):  # Friday 16:59:57 .. 17:00:03
        ts = local(2025, 1, 17, 17, 0) + second
        events.extend((second, t) for t in rule_engine.process(frame(ts, tracks=[inside])))
    assert [(s, t.state, t.zone) for s, t in events] == [(1, "started", "office")]


def test_open_alert_ends_at_quiet_pace_when_the_schedule_turns_off() -> None:
    rule_engine = engine({"zones": ["office"], "schedule": "after_hours"}, CHICAGO)
    inside = person(1, feet_at(0.25, 0.7))
    events: list[tuple[int, AlertTransition]] = []
    for second in range(-5, 41):  # Saturday 06:59:55 .. 07:00:40, person still there
        ts = local(2025, 1, 18, 7, 0) + second
        events.extend((second, t) for t in rule_engine.process(frame(ts, tracks=[inside])))
    # Started at 06:59:56; last evaluated at 06:59:59; quiet 30 s later it ends.
    assert [(s, t.state) for s, t in events] == [(-4, "started"), (29, "ended")]


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [
        (0.1, 0.7, True),
        (0.4, 0.9, True),
        (0.25, 0.5, True),
        (0.0999, 0.7, False),
        (0.25, 0.91, False),
    ],
)
def test_zone_edges_count_as_inside(x: float, y: float, inside: bool) -> None:
    rule = IntrusionRule({"zones": ["office"]}, {"office": OFFICE}, {})
    [observation] = rule.evaluate(frame(0.0, tracks=[person(1, feet_at(x, y))]))
    assert observation.active is inside


def test_low_score_person_is_ignored() -> None:
    rule = IntrusionRule({"zones": ["office"]}, {"office": OFFICE}, {})
    [observation] = rule.evaluate(frame(0.0, tracks=[person(1, feet_at(0.25, 0.7), score=0.4)]))
    assert (observation.active, observation.score) == (False, 0.0)


def walk(
    rule_engine: RuleEngine, ys: list[float], x: float = 0.5
) -> list[tuple[int, AlertTransition]]:
    out: list[tuple[int, AlertTransition]] = []
    for index, y in enumerate(ys):
        tracks = [person(5, feet_at(x, y))]
        out.extend((index, t) for t in rule_engine.process(frame(index * 0.25, tracks=tracks)))
    return out


DOWN = [0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70]


def test_crossing_in_the_configured_direction_starts() -> None:
    events = walk(engine({"lines": ["doorway"], "quiet_seconds": 1.0}), DOWN + [0.7] * 20)
    # Side -1 at y=0.45, on the line at 0.50, side +1 at 0.55 (frame 3): active from
    # frame 3 (t=0.75); 2 of 3 confirmed at frame 4; the 2 s hold keeps it active up to
    # frame 11 (t=2.75); quiet 1 s later it ends at frame 15.
    assert [(i, t.state, t.zone) for i, t in events] == [
        (4, "started", "doorway"),
        (15, "ended", "doorway"),
    ]
    assert events[0][1].track_ids == (5,)
    assert events[0][1].detail == {"kind": "line", "direction": "a_to_b", "crossings": 1}


def test_crossing_against_the_direction_does_not_start() -> None:
    assert walk(engine({"lines": ["doorway"]}), list(reversed(DOWN))) == []


def test_walking_past_the_end_of_the_line_is_no_crossing() -> None:
    assert walk(engine({"lines": ["doorway"]}), DOWN, x=0.9) == []


def test_lines_only_means_no_whole_frame_zone() -> None:
    rule = IntrusionRule({"lines": ["doorway"]}, {}, {"doorway": DOORWAY})
    observations = rule.evaluate(frame(0.0, tracks=[person(1, feet_at(0.25, 0.7))]))
    assert [(o.zone, o.active) for o in observations] == [("doorway", False)]
    whole = IntrusionRule({}, {}, {})
    assert [
        (o.zone, o.active)
        for o in whole.evaluate(frame(0.0, tracks=[person(1, feet_at(0.25, 0.7))]))
    ] == [(None, True)]


def test_unknown_line_and_name_clash_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"rules\.intrusion\.lines: unknown line 'gate'"):
        IntrusionRule({"lines": ["gate"]}, {}, {"doorway": DOORWAY})
    clash = Zone("doorway", OFFICE.polygon)
    with pytest.raises(ConfigError, match="name both a zone and a line"):
        IntrusionRule(
            {"zones": ["doorway"], "lines": ["doorway"]}, {"doorway": clash}, {"doorway": DOORWAY}
        )
