"""The lying-person search's decisions, driven with hand-made detections (no model).

The models' side is covered by test_pipeline_person_down_footage.py; here: the budget,
the order of views, how candidates are held, checked and vetoed, and what lost tracks and
a fall model propose.
"""

from __future__ import annotations

import itertools

import pytest

from detectors.pipeline.lying_search import (
    FALL_MODEL,
    FALL_TRANSITION,
    HOLD_SECONDS,
    ROTATED_SWEEP,
    LyingSearch,
    PlannedView,
    SearchSettings,
    second_opinion,
    upright_in_view,
)
from detectors.pipeline.turned import sweep_tiles
from detectors.types import BoxXYXY, Detection, Track
from tests.detectors.rules.synthetic import lying_pose, pose_from, standing_pose

SIZE = (768, 576)
LYING: BoxXYXY = (250.0, 400.0, 395.0, 468.0)
STANDING: BoxXYXY = (100.0, 200.0, 130.0, 290.0)


def search(**settings: object) -> LyingSearch:
    return LyingSearch(SearchSettings(**settings), model_side=416)  # type: ignore[arg-type]


def person(box: BoxXYXY, score: float = 0.7) -> Detection:
    return Detection("person", score, box)


def sweep_until_found(lying: LyingSearch, found: BoxXYXY, score: float = 0.7) -> float:
    """Plan frames at 5 fps, answering the first sweep with a person at ``found``."""
    t = 0.0
    while True:
        for planned in lying.plan(t, SIZE):
            lying.absorb(planned, [person(found, score)], [], t)
            return t
        t += 0.2


def test_the_budget_limits_views_to_a_share_of_the_analysed_frames() -> None:
    lying = search(interval_seconds=0.1, budget=0.25)
    times = []
    for frame in range(300):  # 60 s at 5 fps, nobody found
        t = frame / 5
        times += [t for _ in lying.plan(t, SIZE)]
    assert 74 <= len(times) <= 78, "a quarter of 300 frames, plus what the bucket held"
    assert lying.stats.frames == 300
    assert lying.stats.inferences == len(times) == lying.stats.views["sweep"]


def test_views_are_at_least_interval_seconds_apart_and_a_still_scene_still_gets_some() -> None:
    lying = search(interval_seconds=1.0, budget=1.0)
    times = [f / 10 for f in range(100) if lying.plan(f / 10, SIZE)]
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(times))
    assert len(times) == 10
    # The motion gate passes a still scene's frame every 2 s; a budget of 0.25 views per
    # frame would allow one view every 8 s, the floor allows one every 4 s.
    still = search(budget=0.25, still_interval_seconds=4.0)
    times = [t for t in range(0, 60, 2) if still.plan(float(t), SIZE)]
    assert times[:4] == [0, 4, 8, 12]


def test_a_saturated_device_gets_only_urgent_checks_and_the_still_floor() -> None:
    lying = LyingSearch(SearchSettings(), model_side=416, has_fall_model=True)
    times = [f / 5 for f in range(100) if lying.plan(f / 5, SIZE, saturated=True)]
    assert times == [0.0, 4.0, 8.0, 12.0, 16.0], "one view per still_interval_seconds"
    assert lying.stats.views["fall_model"] == 1, "once, before the device was seen busy"
    assert lying.stats.yielded > 50
    lying.note_tracks([_tall_track(4, WALKER)], 19.8, SIZE)
    lying.note_tracks([_tall_track(4, GOING_DOWN)], 20.0, SIZE)
    lying.note_tracks([], 20.6, SIZE)
    assert [p.reason for p in lying.plan(21.0, SIZE, saturated=True)] == ["proposal"], "urgent"


def test_sweeps_go_through_both_turns_of_every_strip() -> None:
    lying = search(interval_seconds=0.1, budget=1.0)
    views = [lying.plan(float(t), SIZE)[0].view for t in range(8)]
    tiles = sweep_tiles(SIZE)
    assert [(v.turn, v.region) for v in views if v is not None] == [
        (90, tiles[0]),
        (270, tiles[0]),
        (90, tiles[1]),
        (270, tiles[1]),
    ] * 2


def test_a_sweep_hit_becomes_a_held_candidate_that_replaces_its_weak_upright_box() -> None:
    lying = search()
    t = sweep_until_found(lying, LYING)
    weak_upright = person((252.0, 402.0, 390.0, 466.0), 0.42)  # the upright pass, barely
    walker = person(STANDING)
    people = lying.people([weak_upright, walker], t)
    assert [(d.box, d.evidence) for d in people] == [
        (STANDING, ()),
        (LYING, (ROTATED_SWEEP,)),
    ]
    assert lying.watching(), "someone may be lying: every frame is analysed"
    assert lying.people([], t + HOLD_SECONDS)[0].box == LYING, "held between checks"
    assert lying.people([], t + HOLD_SECONDS + 0.1) == [], "then dropped"
    assert not lying.watching()


def test_hits_that_are_tall_or_on_an_upright_person_are_not_candidates() -> None:
    lying = search(interval_seconds=0.1, budget=1.0)
    upright = [person(STANDING)]
    planned = lying.plan(0.0, SIZE)[0]
    lying.absorb(planned, [person(STANDING), person((0.0, 0.0, 50.0, 100.0))], upright, 0.0)
    assert lying.people([], 0.0) == []


def test_a_weak_sweep_hit_is_checked_closer_and_refuted_when_the_check_finds_nobody() -> None:
    lying = search(interval_seconds=0.1, budget=1.0)
    lying.absorb(lying.plan(0.0, SIZE)[0], [person(LYING, 0.3)], [], 0.0)
    assert lying.people([], 0.0) == [], "0.3 is a proposal, not a candidate"
    check = lying.plan(1.0, SIZE)[0]
    assert (check.reason, check.view) == ("proposal", check.view)
    assert check.view is not None and check.view.turn == 90
    assert check.view.region == (69, 68, 577, 576), "a square 3.5 lengths around it"
    lying.absorb(check, [], [], 1.0)
    # Refuted: the same weak hit is not proposed again for a while.
    lying.absorb(
        PlannedView("detector", "sweep", check.view, wide_view=True),
        [person(LYING, 0.3)],
        [],
        2.0,
    )
    assert [p.reason for p in lying.plan(3.0, SIZE)] == ["sweep"]


def test_someone_held_is_re_checked_before_they_would_be_dropped() -> None:
    lying = search(interval_seconds=0.1, budget=1.0)
    first = lying.plan(0.0, SIZE)[0]
    weak = person((500.0, 100.0, 560.0, 140.0), 0.3)
    lying.absorb(first, [person(LYING), weak], [], 0.0)  # one candidate, one proposal
    reasons = []
    for t in (1.0, 2.0, 2.5, 2.8):  # the candidate is not seen again in any of these views
        [planned] = lying.plan(t, SIZE)
        lying.absorb(planned, [], [], t)
        reasons.append(planned.reason)
    assert reasons == ["proposal", "sweep", "recheck", "sweep"], "checks and sweeps alternate"
    assert lying.plan(3.2, SIZE)[0].reason == "recheck", "unseen for 3 s: before any sweep"


def test_checks_and_sweeps_take_turns() -> None:
    lying = search(interval_seconds=0.1, budget=1.0)
    lying.absorb(
        lying.plan(0.0, SIZE)[0],
        [person(LYING, 0.3), person((*STANDING[:2], 260.0, 250.0), 0.3)],
        [],
        0.0,
    )
    reasons = [lying.plan(float(t), SIZE)[0].reason for t in range(1, 5)]
    assert reasons == ["proposal", "sweep", "proposal", "sweep"]


def _tall_track(track_id: int, box: BoxXYXY, hits: int = 10) -> Track:
    return Track(track_id, "person", 0.8, box, 0.0, 0.0, hits=hits)


WALKER: BoxXYXY = (300.0, 300.0, 345.0, 445.0)
GOING_DOWN: BoxXYXY = (270.0, 330.0, 355.0, 445.0)
"""The walker's box as they tip over: wider (h/w 1.35 against 3.2)."""


def test_an_upright_track_lost_while_going_down_proposes_an_urgent_check_of_both_turns() -> None:
    lying = search(interval_seconds=0.1, budget=1.0)
    lying.note_tracks([_tall_track(4, WALKER)], 0.0, SIZE)
    lying.note_tracks([_tall_track(4, GOING_DOWN)], 0.2, SIZE)
    lying.note_tracks([], 0.4, SIZE)
    assert not lying.watching(), "one missed frame is a flicker"
    lying.note_tracks([], 0.8, SIZE)
    assert lying.watching()
    checks = [lying.plan(1.0 + t, SIZE)[0] for t in range(2)]
    assert [(c.reason, c.view.turn if c.view else None) for c in checks] == [
        ("proposal", 90),
        ("proposal", 270),
    ], "urgent: no sweep in between"
    assert checks[0].evidence == (FALL_TRANSITION,)
    lying.absorb(checks[1], [person((260.0, 400.0, 400.0, 450.0))], [], 2.0)
    assert lying.people([], 2.0)[0].evidence == (FALL_TRANSITION, ROTATED_SWEEP)


@pytest.mark.parametrize(
    ("why", "last_seen"),
    [
        ("it kept its upright shape (a walker behind a post)", [_tall_track(4, WALKER)]),
        ("wider but head as high (a long stride)", [_tall_track(4, (275.0, 300.0, 370.0, 445.0))]),
        ("wider, lower, feet gone up (a crouch)", [_tall_track(4, (270.0, 330.0, 355.0, 400.0))]),
        ("seen only twice", [_tall_track(4, GOING_DOWN, hits=2)]),
        ("it walked out at the edge", [_tall_track(4, (0.0, 330.0, 85.0, 445.0))]),
        ("it was behind someone", [_tall_track(4, GOING_DOWN), _tall_track(5, WALKER)]),
    ],
)
def test_losing_a_track_proposes_nothing_when(why: str, last_seen: list[Track]) -> None:
    lying = search()
    lying.note_tracks(
        [_tall_track(4, WALKER), _tall_track(5, (600.0, 100.0, 630.0, 190.0))], 0.0, SIZE
    )
    lying.note_tracks(last_seen, 0.2, SIZE)
    lying.note_tracks([t for t in last_seen if t.track_id != 4], 0.8, SIZE)
    assert not lying.watching(), why


def test_fall_transition_and_sweeps_can_be_switched_off() -> None:
    lying = search(methods=frozenset({FALL_MODEL}))
    lying.note_tracks([_tall_track(4, WALKER)], 0.0, SIZE)
    lying.note_tracks([_tall_track(4, GOING_DOWN)], 0.2, SIZE)
    lying.note_tracks([], 0.8, SIZE)
    assert not lying.watching()
    assert lying.plan(1.0, SIZE) == [], "no sweeps, and no fall model loaded"


def test_a_fall_model_is_a_second_opinion_and_never_a_candidate_on_its_own() -> None:
    lying = LyingSearch(SearchSettings(), model_side=416, has_fall_model=True)
    first = lying.plan(0.0, SIZE)
    assert [p.model for p in first] == ["detector", "fall"]
    lying.absorb(first[0], [person(LYING, 0.6)], [], 0.0)
    lying.absorb(first[1], [Detection("fall", 0.5, (255.0, 398.0, 400.0, 470.0))], [], 0.0)
    [held] = lying.people([], 0.0)
    assert held.evidence == (FALL_MODEL, ROTATED_SWEEP)
    assert held.score == pytest.approx(second_opinion(0.6, 0.5)) == pytest.approx(0.8)
    # Alone (a yellow jacket on the lawn: "fall" at 0.5), it only asks for a check.
    jacket = (65.0, 495.0, 160.0, 528.0)
    fall_view = next(p for p in lying.plan(2.0, SIZE) if p.model == "fall")
    lying.absorb(fall_view, [Detection("fall", 0.5, jacket)], [], 2.0)
    assert [d.box for d in lying.people([], 2.0)] == [LYING]
    assert lying._urgent(2.0)


def test_the_fall_model_runs_at_its_own_interval() -> None:
    lying = LyingSearch(SearchSettings(fall_model_seconds=3.0), model_side=416, has_fall_model=True)
    runs = [f / 5 for f in range(50) if any(p.model == "fall" for p in lying.plan(f / 5, SIZE))]
    assert runs == [0.0, 3.0, 6.0, 9.0]


def test_upright_in_a_turned_view_means_lying_in_the_frame() -> None:
    box = (100.0, 100.0, 140.0, 250.0)
    assert upright_in_view(standing_pose(box)) is True
    assert upright_in_view(lying_pose(box)) is False, "lying in the view: upright in the frame"
    # Shoulders above hips, but the thighs point sideways: someone bending over.
    bending = pose_from(
        {
            "left_shoulder": (228, 193),
            "right_shoulder": (243, 191),
            "left_hip": (247, 226),
            "right_hip": (253, 226),
            "left_knee": (265, 215),
            "right_knee": (266, 219),
        },
        box,
    )
    assert upright_in_view(bending) is False
    assert upright_in_view(pose_from({"nose": (120, 110)}, box)) is None, "no verdict"


@pytest.mark.parametrize(("pose_upright", "kept"), [(True, True), (False, False)])
def test_a_new_candidate_gets_one_pose_check_that_can_veto_it(
    pose_upright: bool, kept: bool
) -> None:
    lying = LyingSearch(SearchSettings(budget=1.0), model_side=416, has_pose_model=True)
    t = sweep_until_found(lying, LYING)
    check = lying.plan(t + 0.6, SIZE)[0]
    assert (check.model, check.reason) == ("pose", "pose_check")
    assert check.view is not None and check.view.turn == 90
    in_view = check.view.box_to_view(LYING)
    assert check.view.box_to_frame(in_view) == pytest.approx(LYING)
    pose = standing_pose(in_view) if pose_upright else lying_pose(in_view)
    lying.absorb_poses(check, [pose], t + 0.6)
    assert [d.box for d in lying.people([], t + 0.6)] == ([LYING] if kept else [])
    assert lying.plan(t + 1.2, SIZE)[0].reason == "sweep", "one pose check per candidate"
