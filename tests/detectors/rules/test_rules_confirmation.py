"""K-of-M confirmation: exact start, updates, quiet end, cooldown and drills."""

from __future__ import annotations

import pytest

from detectors.rules.base import Observation
from detectors.rules.confirmation import AlertTransition, Confirmer

CAMERA = "cam-1"


def obs(active: bool, score: float = 0.0, *, tracks: tuple[int, ...] = ()) -> Observation:
    boxes = tuple((10.0 * t, 0.0, 10.0 * t + 5.0, 5.0) for t in tracks)
    return Observation("weapon", "hall", active, score, boxes=boxes, track_ids=tracks)


def feed(
    confirmer: Confirmer,
    pattern: str,
    *,
    start: float = 0.0,
    step: float = 1.0,
    score: float = 0.8,
    drill: bool = False,
) -> list[tuple[int, AlertTransition]]:
    """Feed "A"ctive/"I"nactive frames; return (frame index, transition) pairs."""
    out: list[tuple[int, AlertTransition]] = []
    for index, char in enumerate(pattern):
        transition = confirmer.observe(
            obs(char == "A", score if char == "A" else 0.1), start + index * step, CAMERA, drill
        )
        if transition is not None:
            out.append((index, transition))
    return out


@pytest.mark.parametrize(
    ("pattern", "started_at_frame"),
    [
        ("AAA", 2),
        ("AA", None),  # k-1 of m never starts
        ("AIAIA", 4),
        ("AIIIAIA", None),  # at most 2 active in any 5 consecutive frames
        ("AAIIIAIIIA", None),
        ("IIIIAAA", 6),
    ],
)
def test_starts_exactly_when_k_of_last_m_are_active(
    pattern: str, started_at_frame: int | None
) -> None:
    confirmer = Confirmer(3, 5, quiet_seconds=100.0, cooldown_seconds=0.0)
    starts = [index for index, t in feed(confirmer, pattern) if t.state == "started"]
    assert starts == ([] if started_at_frame is None else [started_at_frame])


def test_started_carries_confirming_scores_and_mean_confidence() -> None:
    confirmer = Confirmer(3, 5, quiet_seconds=10.0, cooldown_seconds=0.0)
    assert confirmer.observe(obs(True, 0.6), 0.0, CAMERA) is None
    assert confirmer.observe(obs(False, 0.2), 1.0, CAMERA) is None
    assert confirmer.observe(obs(True, 0.7), 2.0, CAMERA) is None
    started = confirmer.observe(obs(True, 0.9, tracks=(4,)), 3.0, CAMERA)
    assert started is not None
    assert started.state == "started"
    assert started.scores == (0.6, 0.7, 0.9)
    assert started.confidence == pytest.approx(0.7333333333)
    assert (started.camera_id, started.rule, started.zone) == (CAMERA, "weapon", "hall")
    assert (started.timestamp, started.started_at) == (3.0, 3.0)
    assert started.track_ids == (4,)
    assert started.boxes == ((40.0, 0.0, 45.0, 5.0),)
    assert len(started.alert_id) == 32
    assert started.drill is False


def test_update_on_confidence_rise_is_rate_limited() -> None:
    confirmer = Confirmer(2, 3, quiet_seconds=10.0, cooldown_seconds=0.0)
    confirmer.observe(obs(True, 0.6), 0.0, CAMERA)
    started = confirmer.observe(obs(True, 0.6), 1.0, CAMERA)
    assert started is not None
    # Confidence rises at once, but updates wait 5 s after the last report.
    assert confirmer.observe(obs(True, 0.9), 2.0, CAMERA) is None
    assert confirmer.observe(obs(True, 0.9), 5.9, CAMERA) is None
    updated = confirmer.observe(obs(True, 0.9), 6.0, CAMERA)
    assert updated is not None
    assert updated.state == "updated"
    assert updated.alert_id == started.alert_id
    assert updated.scores == (0.9, 0.9, 0.9)  # at most m, newest last
    assert updated.confidence == pytest.approx(0.9)
    # Same confidence later: nothing new to say.
    assert confirmer.observe(obs(True, 0.9), 20.0, CAMERA) is None


def test_small_confidence_rise_is_not_news_but_a_new_track_is() -> None:
    confirmer = Confirmer(1, 1, quiet_seconds=10.0, cooldown_seconds=0.0)
    started = confirmer.observe(obs(True, 0.8, tracks=(1,)), 0.0, CAMERA)
    assert started is not None
    assert confirmer.observe(obs(True, 0.84, tracks=(1,)), 6.0, CAMERA) is None
    updated = confirmer.observe(obs(True, 0.84, tracks=(1, 2)), 7.0, CAMERA)
    assert updated is not None
    assert (updated.state, updated.track_ids) == ("updated", (1, 2))
    # Track 2 leaving and coming back is not new any more.
    assert confirmer.observe(obs(True, 0.84, tracks=(1,)), 13.0, CAMERA) is None
    assert confirmer.observe(obs(True, 0.84, tracks=(1, 2)), 19.0, CAMERA) is None


def test_ends_after_quiet_seconds_without_an_active_frame() -> None:
    confirmer = Confirmer(2, 3, quiet_seconds=5.0, cooldown_seconds=0.0)
    events = feed(confirmer, "AA" + "I" * 4 + "A" + "I" * 6)
    assert [(index, t.state) for index, t in events] == [(1, "started"), (11, "ended")]
    ended = events[1][1]
    assert ended.alert_id == events[0][1].alert_id
    assert ended.timestamp == 11.0
    assert ended.started_at == 1.0
    assert ended.scores == (0.8, 0.8, 0.8)


def test_cooldown_blocks_a_new_alert_then_allows_it() -> None:
    confirmer = Confirmer(2, 3, quiet_seconds=2.0, cooldown_seconds=10.0)
    first = feed(confirmer, "AAII")
    assert [(i, t.state) for i, t in first] == [(1, "started"), (3, "ended")]
    # Ended at t=3; active again from t=4 to t=12: blocked until t=13.
    second = feed(confirmer, "A" * 10, start=4.0)
    assert [(i, t.state, t.timestamp) for i, t in second] == [(9, "started", 13.0)]
    assert second[0][1].alert_id != first[0][1].alert_id


def test_drill_flag_is_fixed_when_the_alert_starts() -> None:
    confirmer = Confirmer(2, 3, quiet_seconds=2.0, cooldown_seconds=0.0)
    events = feed(confirmer, "AA", drill=True)
    assert [t.drill for _i, t in events] == [True]
    # A real frame during the drill alert does not turn it into a real alert.
    ended = feed(confirmer, "III", start=2.0, drill=False)
    assert [(t.state, t.drill) for _i, t in ended] == [("ended", True)]


def test_close_ends_an_open_alert_once() -> None:
    confirmer = Confirmer(1, 1, quiet_seconds=60.0, cooldown_seconds=0.0)
    started = confirmer.observe(obs(True, 0.7), 0.0, CAMERA)
    assert started is not None
    closed = confirmer.close(3.0)
    assert closed is not None
    assert (closed.state, closed.alert_id, closed.timestamp) == ("ended", started.alert_id, 3.0)
    assert confirmer.close(4.0) is None
    assert confirmer.is_open is False


def test_bad_window_is_refused() -> None:
    with pytest.raises(ValueError, match="k <= m"):
        Confirmer(4, 3, 1.0, 1.0)
