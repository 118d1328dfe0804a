"""The IoU + alpha-beta tracker on synthetic detection sequences."""

from __future__ import annotations

import pytest

from detectors.pipeline.tracker import Tracker
from detectors.types import BoxXYXY, Detection

from .synthetic import shifted, standing_pose

DT = 0.2  # 5 analysed frames per second


def det(box: BoxXYXY, label: str = "person", score: float = 0.9) -> Detection:
    return Detection(label=label, score=score, box=box)


def test_new_tracks_are_reported_after_min_hits() -> None:
    tracker = Tracker()
    a = (100.0, 100.0, 200.0, 400.0)
    b = (600.0, 100.0, 700.0, 400.0)
    assert tracker.update([det(a), det(b)], 0.0) == ()
    tracks = tracker.update([det(a), det(b)], DT)
    assert [(t.track_id, t.box, t.hits, t.first_seen, t.last_seen) for t in tracks] == [
        (1, a, 2, 0.0, DT),
        (2, b, 2, 0.0, DT),
    ]


def test_ids_stay_stable_and_velocity_is_pixels_per_second() -> None:
    tracker = Tracker()
    a = (100.0, 100.0, 200.0, 400.0)
    b = (600.0, 100.0, 700.0, 400.0)
    for step in range(8):
        # a walks right at 50 px per frame (250 px/s); b walks left at 25 px per frame.
        tracks = tracker.update(
            [det(shifted(b, -25 * step)), det(shifted(a, 50 * step))], step * DT
        )
    by_id = {t.track_id: t for t in tracks}
    assert sorted(by_id) == [1, 2]
    # Detection order swapped relative to creation: ids follow the objects, not the order.
    assert by_id[2].box == shifted(a, 350)
    assert by_id[1].box == shifted(b, -175)
    assert by_id[2].velocity == pytest.approx((250.0, 0.0))
    assert by_id[1].velocity == pytest.approx((-125.0, 0.0))
    assert by_id[2].first_seen == 0.0
    assert by_id[2].hits == 8


def test_single_spurious_detection_never_becomes_a_track() -> None:
    tracker = Tracker()
    person = (100.0, 100.0, 200.0, 400.0)
    assert tracker.update([det(person), det((800.0, 800.0, 850.0, 850.0), "knife")], 0.0) == ()
    tracks = tracker.update([det(person)], DT)
    assert [(t.track_id, t.label) for t in tracks] == [(1, "person")]
    # The knife reappearing later starts over as a new tentative track with a new id.
    assert [
        t.track_id
        for t in tracker.update([det(person), det((800.0, 800.0, 850.0, 850.0), "knife")], 2 * DT)
    ] == [1]
    tracks = tracker.update([det(person), det((800.0, 800.0, 850.0, 850.0), "knife")], 3 * DT)
    assert [(t.track_id, t.label) for t in tracks] == [(1, "person"), (3, "knife")]


def test_missed_track_keeps_its_id_within_max_age_and_loses_it_after() -> None:
    tracker = Tracker(max_age_seconds=2.0)
    box = (100.0, 100.0, 200.0, 400.0)
    tracker.update([det(box)], 0.0)
    tracker.update([det(box)], 0.2)
    assert tracker.update([], 0.4) == ()  # missed frames are not reported
    assert [t.track_id for t in tracker.update([det(box)], 2.2)] == [1]
    # Gone for more than 2 s: a new id (tentative first).
    assert tracker.update([det(box)], 4.5) == ()
    assert [t.track_id for t in tracker.update([det(box)], 4.7)] == [2]


def test_prediction_follows_a_fast_walker_through_a_missed_frame() -> None:
    tracker = Tracker()
    box = (100.0, 100.0, 200.0, 400.0)
    tracker.update([det(box)], 0.0)
    tracker.update([det(shifted(box, 40))], 0.2)  # 200 px/s
    # Frame at 0.4 missed; at 0.6 the box is 80 px further: IoU with the last box is
    # 20/180, below the threshold, but the predicted box matches exactly.
    tracks = tracker.update([det(shifted(box, 120))], 0.6)
    assert [(t.track_id, t.hits) for t in tracks] == [(1, 3)]
    assert tracks[0].velocity == pytest.approx((200.0, 0.0))


def test_labels_are_never_mixed_and_can_be_filtered() -> None:
    box = (100.0, 100.0, 200.0, 400.0)
    tracker = Tracker()
    tracker.update([det(box, "person")], 0.0)
    assert tracker.update([det(box, "chair")], 0.2) == ()  # a chair never continues a person
    only_people = Tracker(labels={"person"})
    only_people.update([det(box), det((500.0, 500.0, 600.0, 600.0), "chair")], 0.0)
    tracks = only_people.update([det(box), det((500.0, 500.0, 600.0, 600.0), "chair")], 0.2)
    assert [t.label for t in tracks] == ["person"]


def test_poses_attach_to_the_best_overlapping_person_only() -> None:
    tracker = Tracker()
    left = (100.0, 100.0, 200.0, 400.0)
    right = (400.0, 100.0, 500.0, 400.0)
    dog = (600.0, 300.0, 700.0, 400.0)
    pose_right = standing_pose((405.0, 110.0, 495.0, 395.0))
    pose_dogish = standing_pose((600.0, 300.0, 700.0, 400.0))
    detections = [det(left), det(right), det(dog, "dog")]
    tracker.update(detections, 0.0)
    tracks = tracker.update(detections, 0.2, poses=[pose_dogish, pose_right])
    assert [(t.track_id, t.label, t.pose) for t in tracks] == [
        (1, "person", None),
        (2, "person", pose_right),
        (3, "dog", None),
    ]


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="iou_threshold"):
        Tracker(iou_threshold=0.0)
    with pytest.raises(ValueError, match="min_hits"):
        Tracker(min_hits=0)
