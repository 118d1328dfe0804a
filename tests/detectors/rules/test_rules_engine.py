"""RuleEngine: masks, drills, schedules, shutdown, thresholds and config errors."""

from __future__ import annotations

import datetime as dt

import pytest

from detectors.errors import ConfigError
from detectors.rules import RULE_SCHEMAS, RULES
from detectors.rules.base import Zone
from detectors.rules.engine import RuleEngine
from detectors.schedule import SCHEDULE_SCHEMA, parse_schedules
from detectors.types import BoxXYXY, Detection

from .synthetic import frame, person

BUILTINS = parse_schedules({})
NEAR_DOOR: BoxXYXY = (100.0, 400.0, 200.0, 700.0)  # feet (0.15, 0.7)
CENTRE: BoxXYXY = (450.0, 400.0, 550.0, 700.0)  # feet (0.5, 0.7)
LEFT_STRIP = ((0.0, 0.0), (0.3, 0.0), (0.3, 1.0), (0.0, 1.0))


def test_registry_has_all_seven_rules() -> None:
    assert sorted(RULES) == [
        "crowd", "fight", "intrusion", "loitering", "person_down", "tamper", "weapon",
    ]  # fmt: skip
    assert RULE_SCHEMAS["weapon"] is RULES["weapon"].CONFIG_SCHEMA


def test_schemas_fill_defaults_and_are_idempotent() -> None:
    for name, schema in RULE_SCHEMAS.items():
        filled = schema({})
        assert schema(filled) == filled, name
        assert filled["schedule"] == "always"
        assert filled["enabled"] is True


def test_masked_tracks_and_detections_never_reach_the_rules() -> None:
    rule_engine = RuleEngine(
        "cam-1",
        {"intrusion": {"confirm": {"k": 1, "m": 1}}, "weapon": {"confirm": {"k": 1, "m": 1}}},
        (),
        (),
        BUILTINS,
        masks=[LEFT_STRIP],
        tz=dt.UTC,
    )
    masked_person = person(1, NEAR_DOOR)
    masked_gun = Detection("pistol", 0.95, (120.0, 600.0, 160.0, 640.0))  # bottom (0.14, 0.64)
    assert rule_engine.process(frame(0.0, tracks=[masked_person], detections=[masked_gun])) == []
    visible = rule_engine.process(frame(1.0, tracks=[masked_person, person(2, CENTRE)]))
    assert [(t.rule, t.state, t.track_ids) for t in visible] == [("intrusion", "started", (2,))]


def test_drill_flag_reaches_the_alert() -> None:
    rule_engine = RuleEngine("cam-1", {"intrusion": {}}, (), (), BUILTINS, tz=dt.UTC)
    events = [
        t
        for second in range(3)
        for t in rule_engine.process(frame(float(second), tracks=[person(2, CENTRE)], drill=True))
    ]
    assert [(t.state, t.drill, t.camera_id) for t in events] == [("started", True, "cam-1")]


def test_close_all_ends_every_open_alert() -> None:
    zones = (
        Zone("left", LEFT_STRIP),
        Zone("right", ((0.3, 0.0), (1.0, 0.0), (1.0, 1.0), (0.3, 1.0))),
    )
    rule_engine = RuleEngine(
        "cam-1", {"intrusion": {"zones": ["left", "right"]}}, zones, (), BUILTINS, tz=dt.UTC
    )
    tracks = [person(1, NEAR_DOOR), person(2, CENTRE)]
    started = [t for s in range(2) for t in rule_engine.process(frame(float(s), tracks=tracks))]
    assert sorted((t.zone, t.state) for t in started) == [("left", "started"), ("right", "started")]
    ended = rule_engine.close_all(5.0)
    assert sorted((t.zone, t.state, t.timestamp) for t in ended) == [
        ("left", "ended", 5.0),
        ("right", "ended", 5.0),
    ]
    assert {t.alert_id for t in ended} == {t.alert_id for t in started}
    assert rule_engine.close_all(6.0) == []


def test_disabled_rule_and_never_schedule_do_not_run() -> None:
    rule_engine = RuleEngine(
        "cam-1",
        {"intrusion": {"enabled": False}, "crowd": {"max_people": 1, "schedule": "never"}},
        (),
        (),
        BUILTINS,
        tz=dt.UTC,
    )
    assert [rule.name for rule in rule_engine.rules] == ["crowd"]
    assert [
        t
        for s in range(10)
        for t in rule_engine.process(frame(float(s), tracks=[person(1, CENTRE)]))
    ] == []


def test_schedule_off_resets_rule_state() -> None:
    schedules = parse_schedules(
        {"first_minute": SCHEDULE_SCHEMA([{"days": "daily", "from": "00:00", "to": "00:01"}])}
    )
    rule_engine = RuleEngine(
        "cam-1",
        {
            "tamper": {
                "schedule": "first_minute",
                "confirm": {"k": 1, "m": 1},
                "cooldown_seconds": 0,
                "quiet_seconds": 5,
            }
        },
        (),
        (),
        schedules,
        tz=dt.UTC,
    )
    midnight = dt.datetime(2025, 1, 15, tzinfo=dt.UTC).timestamp()
    lost: list[tuple[float, str]] = []
    # The stream is lost all along; the rule runs only in the first minute of each day.
    for second in [*range(0, 60, 2), *range(60, 80, 2), *range(86400, 86410, 2)]:
        lost.extend(
            (second, t.state)
            for t in rule_engine.process(frame(midnight + second, stream_ok=False))
        )
    # Day 1: held 3 s at t=4. Off from 00:01: ends 5 s after the last active frame (58).
    # Day 2: the hold timer starts from zero again instead of carrying day 1's.
    assert lost == [(4, "started"), (64, "ended"), (86404, "started")]


def test_frames_before_a_schedule_pause_do_not_count_after_it() -> None:
    schedules = parse_schedules(
        {"first_minute": SCHEDULE_SCHEMA([{"days": "daily", "from": "00:00", "to": "00:01"}])}
    )
    rule_engine = RuleEngine(
        "cam-1", {"weapon": {"schedule": "first_minute"}}, (), (), schedules, tz=dt.UTC
    )
    midnight = dt.datetime(2025, 1, 15, tzinfo=dt.UTC).timestamp()
    gun = [Detection("pistol", 0.9, (400.0, 400.0, 450.0, 430.0))]
    events: list[tuple[float, str]] = []
    for second in [56, 58, 60, 62, 86400, 86402, 86404]:
        events.extend(
            (second, t.state) for t in rule_engine.process(frame(midnight + second, detections=gun))
        )
    # Two frames before 00:01 and one after midnight are not 3 of 5: the third
    # agreeing frame of the new day starts it.
    assert events == [(86404, "started")]


def test_thresholds_per_rule() -> None:
    rule_engine = RuleEngine(
        "cam-1", {"weapon": {}, "person_down": {"seconds": 20}}, (), (), BUILTINS, tz=dt.UTC
    )
    thresholds = rule_engine.thresholds()
    assert sorted(thresholds) == ["person_down", "weapon"]
    assert thresholds["person_down"]["seconds"] == 20.0
    assert thresholds["person_down"]["suppress_zones"] == "none"
    assert thresholds["weapon"]["min_score"] == 0.6


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"gunshot": {}}, r"cameras\.cam-1\.rules: unknown rule 'gunshot'"),
        ({"weapon": {"schedule": "lunch"}}, r"rules\.weapon\.schedule: unknown schedule 'lunch'"),
        ({"weapon": {"zones": ["gym"]}}, r"rules\.weapon\.zones: unknown zone 'gym'"),
        ({"weapon": {"min_score": 2}}, r"rules\.weapon: value must be at most 1"),
        ({"person_down": {"suppress_zones": ["gym"]}}, r"suppress_zones: unknown zone 'gym'"),
    ],
)
def test_bad_references_raise_config_error(
    rules: dict[str, dict[str, object]], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RuleEngine("cam-1", rules, (), (), BUILTINS, tz=dt.UTC)


def test_duplicate_zone_names_are_refused() -> None:
    zone = Zone("hall", LEFT_STRIP)
    with pytest.raises(ConfigError, match=r"cameras\.cam-1\.zones: 'hall' is defined twice"):
        RuleEngine("cam-1", {}, (zone, zone), (), BUILTINS, tz=dt.UTC)
