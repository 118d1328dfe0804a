"""The frame ring: the last seconds of analysed frames, bounded by time and by bytes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.media import iter_video
from detectors.pipeline.frame_ring import FrameRing, RingFrame


def test_frames_older_than_the_window_behind_the_newest_go(vtest_path: Path) -> None:
    ring = FrameRing(seconds=2.0, max_bytes=50_000_000)
    for index, (frame, _) in enumerate(zip(iter_video(vtest_path), range(30), strict=False)):
        ring.add_image(frame.image, 100.0 + index * 0.2)
    times = [f.timestamp for f in ring]
    assert times[0] >= times[-1] - 2.0 and times[-1] == pytest.approx(105.8)
    assert len(ring) == 11
    assert ring.bytes == sum(len(f.jpeg) for f in ring)
    assert all(f.jpeg[:2] == b"\xff\xd8" for f in ring), "JPEG in memory"
    assert [f.timestamp for f in ring.between(104.0, 105.0)] == pytest.approx(
        [104.0, 104.2, 104.4, 104.6, 104.8, 105.0]
    )


def test_the_byte_budget_drops_the_oldest_first() -> None:
    ring = FrameRing(seconds=60.0, max_bytes=1_000)
    for index in range(10):
        ring.add(RingFrame(float(index), bytes(300)))
    assert ring.bytes <= 1_000
    assert [f.timestamp for f in ring] == [7.0, 8.0, 9.0]
    assert ring.dropped_for_budget == 7


def test_late_encodes_keep_the_ring_in_time_order() -> None:
    ring = FrameRing(seconds=10.0, max_bytes=10_000)
    for at in (1.0, 3.0, 2.0):
        ring.add(RingFrame(at, b"x"))
    assert [f.timestamp for f in ring] == [1.0, 2.0, 3.0]
    newest = ring.newest()
    assert newest is not None and newest.timestamp == 3.0


def test_a_ring_needs_positive_bounds() -> None:
    with pytest.raises(ValueError, match="positive"):
        FrameRing(seconds=0, max_bytes=1)


def test_frames_wider_than_the_ring_keeps_are_kept_smaller_with_their_scale() -> None:
    ring = FrameRing(seconds=10.0, max_bytes=50_000_000)
    wide = np.full((1440, 2560, 3), 90, dtype=np.uint8)
    kept = ring.add_image(wide, 1.0)
    image = cv2.imdecode(np.frombuffer(kept.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (720, 1280)
    assert kept.scale == 0.5
    assert ring.add_image(wide[:480, :640], 2.0).scale == 1.0
