"""Motion gate on real footage and on a still, noisy scene; square crops."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.pipeline.motion import MotionGate, crop_squares, merge_boxes


def _vtest_frames(vtest_path: Path, count: int) -> list[NDArray[np.uint8]]:
    capture = cv2.VideoCapture(str(vtest_path))
    frames = []
    for _ in range(count):
        ok, frame = capture.read()
        assert ok
        frames.append(frame)
    capture.release()
    return frames


def test_ingest_motion_walking_people_trigger_most_frames(vtest_path: Path) -> None:
    gate = MotionGate()
    frames = _vtest_frames(vtest_path, 150)
    results = [gate.check(frame, index / 10) for index, frame in enumerate(frames)]
    reasons = Counter(result.reason for result in results)
    assert results[0].reason == "first"
    assert reasons["motion"] >= 140  # people walk through the whole clip
    height, width = frames[0].shape[:2]
    for result in results[1:]:
        assert (result.reason == "motion") == bool(result.regions)
        for x1, y1, x2, y2 in result.regions:
            assert 0 <= x1 < x2 <= width
            assert 0 <= y1 < y2 <= height
        assert 0.0 <= result.score <= 1.0


def test_ingest_motion_still_scene_is_skipped_but_refreshed_on_schedule(vtest_path: Path) -> None:
    base = cv2.resize(_vtest_frames(vtest_path, 1)[0], (384, 288), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(7)
    gate = MotionGate(refresh_seconds=2.0)
    results = []
    for index in range(100):  # 10 s at 10 fps
        noise = rng.normal(0.0, 3.0, base.shape)
        frame = np.clip(base + noise, 0, 255).astype(np.uint8)
        results.append((index / 10, gate.check(frame, index / 10)))
    skipped = sum(not result.needs_inference for _, result in results)
    refreshes = [t for t, result in results if result.reason == "refresh"]
    assert skipped >= 90
    assert refreshes == [2.0, 4.0, 6.0, 8.0]
    assert [r.reason for _, r in results].count("motion") == 0


def test_ingest_motion_new_object_is_found_where_it_appears() -> None:
    still = np.full((480, 640, 3), 90, np.uint8)
    gate = MotionGate()
    assert gate.check(still, 0.0).reason == "first"
    assert gate.check(still, 0.1).reason == "still"
    moved = still.copy()
    moved[200:320, 400:460] = 230  # a bright "person" appears
    result = gate.check(moved, 0.2)
    assert result.reason == "motion"
    assert len(result.regions) == 1
    x1, y1, x2, y2 = result.regions[0]
    # the region covers the object (dilation widens it by a few downscaled pixels)
    assert 370 <= x1 <= 400
    assert 460 <= x2 <= 490
    assert 170 <= y1 <= 200
    assert 320 <= y2 <= 350


def test_ingest_merge_boxes_joins_touching_boxes_only() -> None:
    boxes = [(0.0, 0.0, 10.0, 10.0), (11.0, 0.0, 20.0, 10.0), (50.0, 50.0, 60.0, 60.0)]
    assert merge_boxes(boxes, gap=2.0) == [(0.0, 0.0, 20.0, 10.0), (50.0, 50.0, 60.0, 60.0)]
    assert merge_boxes(boxes, gap=0.0) == sorted(boxes, key=lambda b: (b[1], b[0]))


def test_ingest_crop_squares_grow_shift_and_merge() -> None:
    frame = (1920, 1080)
    # a small person near the right edge: square of min_side, moved inside the frame
    assert crop_squares([(1900.0, 500.0, 1915.0, 560.0)], frame, 416) == [
        (1504.0, 322.0, 1920.0, 738.0)
    ]
    # a region bigger than min_side keeps its larger side
    assert crop_squares([(100.0, 100.0, 700.0, 300.0)], frame, 416) == [(100.0, 0.0, 700.0, 600.0)]
    # two people close together share one crop; a far one keeps its own
    crops = crop_squares(
        [
            (500.0, 500.0, 540.0, 600.0),
            (560.0, 520.0, 600.0, 610.0),
            (1500.0, 100.0, 1540.0, 200.0),
        ],
        frame,
        416,
    )
    assert crops == [(1312.0, 0.0, 1728.0, 416.0), (342.0, 347.0, 758.0, 763.0)]


def test_ingest_crop_squares_clip_when_frame_is_smaller() -> None:
    assert crop_squares([(10.0, 10.0, 20.0, 20.0)], (320, 240), 416) == [(0.0, 0.0, 320.0, 240.0)]


@pytest.mark.parametrize("min_side", [64, 416])
def test_ingest_crop_squares_are_square_inside_large_frames(min_side: int) -> None:
    regions = [
        (float(x), float(y), x + 30.0, y + 80.0) for x, y in [(0, 0), (1800, 1000), (900, 500)]
    ]
    for x1, y1, x2, y2 in crop_squares(regions, (1920, 1080), min_side):
        assert x2 - x1 == pytest.approx(y2 - y1)
        assert x2 - x1 >= min_side
        assert x1 >= 0
        assert y1 >= 0
        assert x2 <= 1920
        assert y2 <= 1080
