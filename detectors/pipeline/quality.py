"""Frame quality for the tamper rule: blacked out, blurred (sprayed, defocused) or moved.

Brightness and sharpness are simple statistics of a downscaled grey frame. The view
shift compares ORB features of the current frame with a reference view learned slowly
from the camera's own frames (a running average, so passers-by fade out of it): when the
camera is turned, the features still match but under a large transform; when it is
covered, they do not match at all. Measuring every few seconds is enough for tampering
and keeps the cost negligible.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.types import FrameQuality


class FrameQualityMeter:
    """Per-camera quality meter (not thread-safe: one per camera).

    ``shift_for_full`` is the mean corner displacement, as a fraction of the frame
    diagonal, that counts as a completely moved view (``view_shift`` 1.0). A view that
    stays moved for ``relearn_after_s`` becomes the new reference, so a camera that was
    re-aimed on purpose stops looking tampered with.
    """

    def __init__(
        self,
        interval_s: float = 5.0,
        *,
        downscale_width: int = 320,
        reference_rate: float = 0.1,
        min_matches: int = 12,
        shift_for_full: float = 0.25,
        learn_below_shift: float = 0.1,
        relearn_after_s: float = 600.0,
    ) -> None:
        self.interval_s = interval_s
        self.downscale_width = downscale_width
        self.reference_rate = reference_rate
        self.min_matches = min_matches
        self.shift_for_full = shift_for_full
        self.learn_below_shift = learn_below_shift
        self.relearn_after_s = relearn_after_s
        self._orb = cv2.ORB.create(nfeatures=500)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._reference: NDArray[np.float32] | None = None
        self._moved_since: float | None = None
        self._last: FrameQuality | None = None
        self._last_at: float | None = None

    @property
    def last(self) -> FrameQuality | None:
        """Return the most recent measurement."""
        return self._last

    def reset_reference(self) -> None:
        """Forget the learned view (after the camera was re-aimed on purpose)."""
        self._reference = None
        self._moved_since = None

    def due(self, timestamp: float) -> bool:
        """Whether :meth:`measure` at ``timestamp`` will compute (tens of ms: ORB features)."""
        last_at = self._last_at
        return not (
            self._last is not None
            and last_at is not None
            and 0.0 <= timestamp - last_at < self.interval_s
        )

    def measure(self, frame: NDArray[np.uint8], timestamp: float) -> FrameQuality:
        """Return the frame's quality, measured at most every ``interval_s`` seconds.

        Between measurements the previous value is returned unchanged.
        """
        if not self.due(timestamp):
            assert self._last is not None
            return self._last
        quality = self.compute(frame, timestamp)
        self._last = quality
        self._last_at = timestamp
        return quality

    def compute(self, frame: NDArray[np.uint8], timestamp: float = 0.0) -> FrameQuality:
        """Measure ``frame`` now and update the reference view."""
        grey = self._grey(frame)
        brightness = float(grey.mean())
        sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        if self._reference is None or self._reference.shape != grey.shape:
            self._reference = grey.astype(np.float32)
            return FrameQuality(brightness, sharpness, 0.0)
        shift = self._view_shift(grey, self._reference)
        self._learn(grey, shift, timestamp)
        return FrameQuality(brightness, sharpness, shift)

    def _grey(self, frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
        height, width = frame.shape[:2]
        if width > self.downscale_width:
            size = (self.downscale_width, max(1, round(height * self.downscale_width / width)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        grey: NDArray[np.uint8] = (
            cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        )
        return grey

    def _view_shift(self, grey: NDArray[np.uint8], reference: NDArray[np.float32]) -> float:
        """Return 0 for the reference view, 1 for a view moved or hidden entirely."""
        ref_points, ref_desc = self._orb.detectAndCompute(cv2.convertScaleAbs(reference), None)
        cur_points, cur_desc = self._orb.detectAndCompute(grey, None)
        if ref_desc is None or len(ref_points) < self.min_matches:
            return 0.0  # a featureless reference (blank wall) cannot show movement
        if cur_desc is None or len(cur_points) < self.min_matches:
            return 1.0
        good = []
        for pair in self._matcher.knnMatch(ref_desc, cur_desc, k=2):
            if len(pair) == 2 and pair[0].distance < 0.75 * pair[1].distance:
                good.append(pair[0])
        if len(good) < self.min_matches:
            return 1.0
        src = np.array([ref_points[m.queryIdx].pt for m in good], dtype=np.float32)
        dst = np.array([cur_points[m.trainIdx].pt for m in good], dtype=np.float32)
        transform, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0
        )
        if transform is None or inliers is None or int(inliers.sum()) < self.min_matches:
            return 1.0
        height, width = grey.shape[:2]
        corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
        moved = corners @ transform[:, :2].T + transform[:, 2]
        displacement = float(np.linalg.norm(moved - corners, axis=1).mean())
        return min(1.0, displacement / (self.shift_for_full * math.hypot(width, height)))

    def _learn(self, grey: NDArray[np.uint8], shift: float, timestamp: float) -> None:
        reference = self._reference
        if reference is None:
            return
        if shift < self.learn_below_shift:
            self._moved_since = None
            cv2.accumulateWeighted(grey, reference, self.reference_rate)
            return
        if self._moved_since is None:
            self._moved_since = timestamp
        elif timestamp - self._moved_since >= self.relearn_after_s:
            self._reference = grey.astype(np.float32)
            self._moved_since = None
