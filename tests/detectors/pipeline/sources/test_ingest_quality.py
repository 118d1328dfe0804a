"""Frame quality: black, blurred, moved and normal views of real footage."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.pipeline.quality import FrameQualityMeter
from detectors.types import FrameQuality


@pytest.fixture(scope="module")
def frames(vtest_path: Path) -> list[NDArray[np.uint8]]:
    capture = cv2.VideoCapture(str(vtest_path))
    out = []
    for _ in range(320):
        ok, frame = capture.read()
        assert ok
        out.append(frame)
    capture.release()
    return out


def _learned(frames: list[NDArray[np.uint8]]) -> FrameQualityMeter:
    meter = FrameQualityMeter()
    for index in range(0, 100, 10):
        meter.compute(frames[index], index / 10)
    return meter


def test_ingest_quality_normal_frame(frames: list[NDArray[np.uint8]]) -> None:
    quality = _learned(frames).compute(frames[300], 30.0)
    assert 100 < quality.brightness < 140
    assert quality.sharpness > 500
    assert quality.view_shift < 0.05  # same view, other people in it


def test_ingest_quality_black_frame(frames: list[NDArray[np.uint8]]) -> None:
    quality = _learned(frames).compute(np.zeros_like(frames[0]), 30.0)
    assert quality == FrameQuality(brightness=0.0, sharpness=0.0, view_shift=1.0)


def test_ingest_quality_blurred_frame(frames: list[NDArray[np.uint8]]) -> None:
    meter = _learned(frames)
    sharp = meter.compute(frames[300], 30.0)
    blurred = meter.compute(cv2.GaussianBlur(frames[300], (31, 31), 0), 31.0)
    assert blurred.sharpness < sharp.sharpness / 20
    assert blurred.brightness == pytest.approx(sharp.brightness, abs=1.0)


@pytest.mark.parametrize(
    ("angle", "shift_x"),
    [(0.0, 80.0), (10.0, 60.0), (-15.0, 0.0)],
)
def test_ingest_quality_moved_view(
    frames: list[NDArray[np.uint8]], angle: float, shift_x: float
) -> None:
    height, width = frames[0].shape[:2]
    warp = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    warp[0, 2] += shift_x
    moved = cv2.warpAffine(frames[300], warp, (width, height))
    quality = _learned(frames).compute(moved, 30.0)
    assert quality.view_shift > 0.25


def test_ingest_quality_measures_at_most_every_interval(frames: list[NDArray[np.uint8]]) -> None:
    meter = FrameQualityMeter(interval_s=5.0)
    first = meter.measure(frames[0], 0.0)
    # a black frame inside the interval is not measured: the last value stands
    assert meter.measure(np.zeros_like(frames[0]), 4.9) == first
    assert meter.measure(np.zeros_like(frames[0]), 5.0).brightness == 0.0
    assert meter.last == FrameQuality(brightness=0.0, sharpness=0.0, view_shift=1.0)


def test_ingest_quality_relearns_a_view_that_stays_moved(frames: list[NDArray[np.uint8]]) -> None:
    meter = FrameQualityMeter(relearn_after_s=60.0)
    meter.compute(frames[0], 0.0)
    height, width = frames[0].shape[:2]
    moved = cv2.warpAffine(
        frames[10], np.array([[1, 0, 90], [0, 1, 0]], dtype=np.float32), (width, height)
    )
    assert meter.compute(moved, 10.0).view_shift > 0.25
    assert meter.compute(moved, 69.0).view_shift > 0.25
    meter.compute(moved, 70.0)  # moved for 60 s: this view is the reference now
    assert meter.compute(moved, 75.0).view_shift < 0.05
