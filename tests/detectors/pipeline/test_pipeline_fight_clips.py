"""The fight clip buffer: windows around the group, an 8 fps grid whatever the camera's rate."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.pipeline.fight_clips import (
    WINDOW_ASPECT,
    ClipBuffer,
    crop_window,
    union_box,
    window_holds,
)
from detectors.types import BoxXYXY

FRAME = np.zeros((576, 768, 3), np.uint8)


def stamp(image: NDArray[np.uint8], window: BoxXYXY) -> NDArray[np.uint8]:
    """A 'prepared frame' that only remembers which frame it came from (its first pixel)."""
    return np.array([image[0, 0, 0]], np.uint8)


def frame_no(index: int) -> NDArray[np.uint8]:
    image = FRAME.copy()
    image[0, 0, 0] = index % 256
    return image


def buffer(fps: float = 8.0, length: int = 16, stride: int = 8) -> ClipBuffer:
    return ClipBuffer(
        (0.0, 0.0, 768.0, 576.0), length=length, fps=fps, stride=stride, prepare=stamp
    )


def kept_times(source_fps: float, seconds: float) -> list[float]:
    clip = buffer()
    kept = []
    for index in range(round(seconds * source_fps)):
        t = index / source_fps
        if clip.offer(frame_no(index), t):
            kept.append(round(t, 3))
    return kept


@pytest.mark.parametrize("source_fps", [10.0, 12.5, 25.0, 30.0])
def test_frames_are_kept_at_about_eight_a_second_whatever_the_source(source_fps: float) -> None:
    kept = kept_times(source_fps, 10.0)
    assert 78 <= len(kept) <= 82, (source_fps, len(kept))
    assert np.diff(kept).max() <= 0.2 + 1e-9
    drift = [abs(t - k / 8.0) for k, t in enumerate(kept)]
    assert max(drift) <= 1.0 / source_fps + 1e-9, "the grid does not drift from 8 fps"


def test_a_slow_camera_gives_every_frame_and_a_gap_restarts_the_clip() -> None:
    clip = buffer()
    assert all(clip.offer(frame_no(i), i * 0.2) for i in range(10)), "5 fps: all kept"
    assert len(clip) == 10 and clip.breaks == 0
    assert clip.offer(frame_no(10), 2.5), "0.7 s after the last frame: frames were lost"
    assert len(clip) == 1 and clip.breaks == 1
    assert not clip.offer(frame_no(11), 2.5), "the same time twice is one frame"
    assert not clip.offer(frame_no(12), 2.4), "older than the newest: ignored"


def test_a_clip_is_ready_when_full_and_again_after_stride_new_frames() -> None:
    clip = buffer(fps=10.0, length=4, stride=2)
    for index in range(3):
        clip.offer(frame_no(index), index / 10.0)
    assert not clip.ready
    clip.offer(frame_no(3), 0.3)
    assert clip.ready
    frames, first, last = clip.take()
    assert [int(f[0]) for f in frames] == [0, 1, 2, 3] and (first, last) == (0.0, 0.3)
    assert not clip.ready
    with pytest.raises(RuntimeError):
        clip.take()
    clip.offer(frame_no(4), 0.4)
    assert not clip.ready, "one new frame is less than the stride"
    clip.offer(frame_no(5), 0.5)
    frames, first, last = clip.take()
    assert [int(f[0]) for f in frames] == [2, 3, 4, 5] and (first, last) == (0.2, 0.5)


def test_bad_geometry_is_refused() -> None:
    with pytest.raises(ValueError, match="stride"):
        buffer(stride=17)
    with pytest.raises(ValueError, match="fps"):
        buffer(fps=0.0)


def test_the_window_holds_the_pair_with_margin_at_the_models_aspect() -> None:
    pair = [(300.0, 200.0, 360.0, 360.0), (370.0, 210.0, 430.0, 370.0)]  # 160 px people
    x1, y1, x2, y2 = crop_window(pair, (768, 576))
    assert (x2 - x1) / (y2 - y1) == pytest.approx(WINDOW_ASPECT, abs=0.01)
    assert y2 - y1 == pytest.approx(160 + 10 + 2 * 80, abs=0.2), "half a person each side"
    assert window_holds((x1, y1, x2, y2), pair, share=1.0)
    cx = (x1 + x2) / 2
    assert cx == pytest.approx((300 + 430) / 2, abs=0.2)


def test_the_window_shifts_to_stay_inside_the_frame_and_never_exceeds_it() -> None:
    corner = [(0.0, 0.0, 40.0, 100.0), (30.0, 5.0, 70.0, 105.0)]
    x1, y1, x2, y2 = crop_window(corner, (768, 576))
    assert (x1, y1) == (0.0, 0.0) and x2 <= 768 and y2 <= 576
    assert window_holds((x1, y1, x2, y2), corner, share=1.0)
    huge = [(0.0, 0.0, 700.0, 560.0), (100.0, 10.0, 760.0, 570.0)]
    assert crop_window(huge, (768, 576)) == (0.0, 0.0, 768.0, 576.0)
    tiny = [(400.0, 300.0, 405.0, 310.0), (406.0, 300.0, 411.0, 310.0)]
    _tx1, ty1, _tx2, ty2 = crop_window(tiny, (768, 576))
    assert ty2 - ty1 >= 112 - 0.1, "never below the model's input size"


def test_window_holds_measures_the_share_of_the_group_inside() -> None:
    window = (100.0, 100.0, 300.0, 250.0)
    assert window_holds(window, [(120.0, 120.0, 200.0, 240.0)])
    assert not window_holds(window, [(250.0, 120.0, 350.0, 240.0)]), "half outside"
    assert union_box([(1.0, 5.0, 2.0, 6.0), (0.0, 7.0, 3.0, 9.0)]) == (0.0, 5.0, 3.0, 9.0)
