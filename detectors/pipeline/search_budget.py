"""How often one camera's lying-person search may run a view: its share of the device.

A camera runs at most one search view per analysed frame, at most one every
``interval_seconds``, and on average at most ``budget`` views per analysed frame (a token
bucket), so the search grows with the camera's own activity and never takes more than
that share of what the camera gets. A still scene (the motion gate passes a frame every
2 s) would starve it, so one view every ``still_interval_seconds`` is always allowed. When
the device is saturated on a good share of recent frames the search yields (the caller
still runs urgent checks), and so does the fall model, which has its own interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BURST_VIEWS = 3.0
"""Views the token bucket can save up (a fall after a quiet spell is checked at once)."""
BUSY_SMOOTHING = 0.2
BUSY_YIELD = 0.25
"""The device counts as saturated while this share of recent frames found it so (an
exponential average with weight ``BUSY_SMOOTHING``): a queue that is full most of the time
often has a request free for an instant, and a search taking every such instant would
still take its whole budget from a loaded engine."""


@dataclass(slots=True)
class SearchBudget:
    """The token bucket, the intervals and the device's recent business for one camera."""

    interval_seconds: float
    still_interval_seconds: float
    views_per_frame: float
    fall_model_seconds: float
    _tokens: float = field(default=1.0, init=False)
    _busy: float = field(default=0.0, init=False)
    _last_view: float = field(default=float("-inf"), init=False)
    _last_fall: float = field(default=float("-inf"), init=False)

    def tick(self, timestamp: float, saturated: bool) -> None:
        """One analysed frame: refill the bucket and note whether the device was full."""
        if timestamp < self._last_view:  # the clock went back (file looped): start over
            self._last_view = self._last_fall = float("-inf")
        self._tokens = min(BURST_VIEWS, self._tokens + self.views_per_frame)
        self._busy += BUSY_SMOOTHING * (float(saturated) - self._busy)

    @property
    def saturated(self) -> bool:
        """Whether the device was full on a good share of recent frames."""
        return self._busy >= BUSY_YIELD

    def floor(self, timestamp: float) -> bool:
        """The still-scene floor: a view is allowed whatever the bucket holds."""
        return timestamp - self._last_view >= self.still_interval_seconds

    def due(self, timestamp: float) -> bool:
        """The interval has passed and the bucket holds a view."""
        return timestamp - self._last_view >= self.interval_seconds and self._tokens >= 1.0

    def spend(self, timestamp: float) -> None:
        """A view was planned now."""
        self._tokens = max(0.0, self._tokens - 1.0)
        self._last_view = timestamp

    def take_fall_model(self, timestamp: float) -> bool:
        """Whether the fall model runs now (its interval passed, the device is not full)."""
        if timestamp - self._last_fall < self.fall_model_seconds or self.saturated:
            return False
        self._last_fall = timestamp
        return True
