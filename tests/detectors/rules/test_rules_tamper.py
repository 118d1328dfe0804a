"""Tamper rule: blackout, blur, moved view and lost stream held for N seconds."""

from __future__ import annotations

import datetime as dt

import pytest

from detectors.errors import ConfigError
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.rules.tamper import TamperRule
from detectors.schedule import parse_schedules
from detectors.types import FrameQuality

from .synthetic import frame

GOOD = FrameQuality(brightness=120.0, sharpness=300.0, view_shift=0.05)
DARK = FrameQuality(brightness=3.0, sharpness=10.0, view_shift=0.1)
BLURRED = FrameQuality(brightness=100.0, sharpness=7.5, view_shift=0.1)
MOVED = FrameQuality(brightness=100.0, sharpness=200.0, view_shift=0.8)


def test_blackout_held_three_seconds_then_two_of_three() -> None:
    rule_engine = RuleEngine("cam-1", {"tamper": {}}, (), (), parse_schedules({}), tz=dt.UTC)
    qualities = [GOOD] * 2 + [DARK] * 8 + [GOOD] * 14
    events: list[tuple[int, AlertTransition]] = []
    for second, quality in enumerate(qualities):
        events.extend(
            (second, t) for t in rule_engine.process(frame(float(second), quality=quality))
        )
    # Dark from t=2; held 3 s at t=5; second active frame t=6; good from t=10: quiet 10 s
    # after the last dark frame (t=9) it ends at t=19.
    assert [(s, t.state) for s, t in events] == [(6, "started"), (19, "ended")]
    started = events[0][1]
    assert started.scores == (0.875, 0.875)
    assert started.detail["reason"] == "blackout"
    assert started.detail["conditions"] == ["blackout", "blur"]


@pytest.mark.parametrize(
    ("quality", "stream_ok", "reason", "score"),
    [
        (BLURRED, True, "blur", 0.75),
        (MOVED, True, "view_moved", 0.75),
        (None, False, "stream_lost", 1.0),
        (GOOD, False, "stream_lost", 1.0),
    ],
)
def test_each_condition_scores(
    quality: FrameQuality | None, stream_ok: bool, reason: str, score: float
) -> None:
    rule = TamperRule({}, {}, {})
    first = rule.evaluate(frame(0.0, quality=quality, stream_ok=stream_ok))[0]
    held = rule.evaluate(frame(3.0, quality=quality, stream_ok=stream_ok))[0]
    assert (first.active, held.active, held.score, held.detail["reason"]) == (
        False,
        True,
        score,
        reason,
    )


def test_one_good_frame_restarts_the_hold() -> None:
    rule = TamperRule({}, {}, {})
    rule.evaluate(frame(0.0, quality=DARK))
    rule.evaluate(frame(2.0, quality=GOOD))
    assert rule.evaluate(frame(3.0, quality=DARK))[0].active is False
    assert rule.evaluate(frame(5.9, quality=DARK))[0].active is False
    assert rule.evaluate(frame(6.0, quality=DARK))[0].active is True


def test_no_quality_and_a_live_stream_is_fine() -> None:
    rule = TamperRule({}, {}, {})
    assert rule.evaluate(frame(0.0))[0] == rule.evaluate(frame(9.0))[0]
    assert rule.evaluate(frame(9.0))[0].active is False


def test_zones_are_refused() -> None:
    with pytest.raises(ConfigError, match="watches the whole view; zones must be null"):
        TamperRule({"zones": ["hall"]}, {}, {})
