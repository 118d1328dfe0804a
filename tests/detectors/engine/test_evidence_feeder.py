"""The ring feeder keeps at most ``evidence.clip_fps`` frames a second, and nothing else."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from detectors.engine.evidence_clips import RingFeeder
from detectors.pipeline.frame_ring import FrameRing

FRAME = np.full((48, 64, 3), 128, np.uint8)


def _fed(timestamps: list[float], max_fps: float) -> tuple[list[float], RingFeeder]:
    ring = FrameRing(seconds=60.0, max_bytes=64 * 1024 * 1024)
    with ThreadPoolExecutor(1) as executor:
        feeder = RingFeeder(ring, executor, max_fps)
        for timestamp in timestamps:
            feeder.offer(FRAME, timestamp)
            executor.submit(lambda: None).result()  # one encode at a time: none skipped
    return [frame.timestamp for frame in ring], feeder


def test_a_fast_camera_is_thinned_to_clip_fps() -> None:
    offered = [i / 15 for i in range(30)]  # 2 s at 15 fps
    kept, feeder = _fed(offered, max_fps=5.0)
    assert len(kept) == 10
    assert feeder.thinned == 20
    assert feeder.skipped == 0
    gaps = np.diff(kept)
    assert gaps.min() >= 0.16, "never closer than about 1 / clip_fps"


def test_frames_at_clip_fps_with_jitter_are_all_kept() -> None:
    offered = [i * 0.2 + (0.01 if i % 2 else -0.01) for i in range(1, 26)]
    kept, feeder = _fed(offered, max_fps=5.0)
    assert kept == offered
    assert feeder.thinned == 0


def test_a_clock_that_goes_back_starts_over() -> None:
    kept, _ = _fed([10.0, 10.4, 0.0, 0.4], max_fps=5.0)
    assert sorted(kept) == [0.0, 0.4, 10.0, 10.4]
