"""K-of-M confirmation: turns per-frame observations into alerts with a lifecycle.

An alert starts only when K of the last M analysed frames of one (camera, rule, zone)
were active, so one mistaken frame never raises an alarm. It ends after ``quiet_seconds``
without an active frame (a person hidden behind a pillar for a second does not end and
restart an alert), and the same alert cannot start again for ``cooldown_seconds`` after
that (no flapping pages to the SRO). Every transition carries the scores of the frames
that confirmed it.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from detectors.rules.base import Observation
from detectors.types import BoxXYXY

UPDATE_MIN_INTERVAL_SECONDS = 5.0
"""At most one ``updated`` transition per alert in this many seconds."""

UPDATE_CONFIDENCE_STEP = 0.05
"""Confidence must rise at least this much over the last reported value to be news."""


@dataclass(frozen=True)
class AlertTransition:
    """One step of an alert's lifecycle: ``started``, ``updated`` or ``ended``.

    ``alert_id`` is the same for every step of one alert; ``confidence`` is the mean of
    ``scores``, the scores of the frames that confirmed it (newest last, at most M).
    ``drill`` is fixed when the alert starts: a real alert never turns into a drill.
    """

    alert_id: str
    camera_id: str
    rule: str
    zone: str | None
    state: Literal["started", "updated", "ended"]
    timestamp: float
    started_at: float
    confidence: float
    scores: tuple[float, ...]
    boxes: tuple[BoxXYXY, ...] = ()
    track_ids: tuple[int, ...] = ()
    drill: bool = False
    detail: Mapping[str, object] = field(default_factory=dict)
    score_times: tuple[float, ...] = ()
    """When each of ``scores`` was seen (same order): the frames of the keyframe strip."""


@dataclass
class _OpenAlert:
    """State of the alert currently open (internal)."""

    alert_id: str
    camera_id: str
    rule: str
    zone: str | None
    started_at: float
    drill: bool
    last_active: float
    scores: deque[float]
    score_times: deque[float]
    boxes: tuple[BoxXYXY, ...]
    track_ids: tuple[int, ...]
    detail: Mapping[str, object]
    reported_confidence: float
    reported_box_count: int
    reported_track_ids: frozenset[int]
    last_report: float

    @property
    def confidence(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0


class Confirmer:
    """Confirmation state of one (camera, rule, zone)."""

    def __init__(self, k: int, m: int, quiet_seconds: float, cooldown_seconds: float) -> None:
        """Start idle with an empty window of the last ``m`` frames."""
        if not 1 <= k <= m:
            raise ValueError(f"need 1 <= k <= m, got k={k}, m={m}")
        if quiet_seconds < 0 or cooldown_seconds < 0:
            raise ValueError("quiet_seconds and cooldown_seconds cannot be negative")
        self.k = k
        self.m = m
        self.quiet_seconds = quiet_seconds
        self.cooldown_seconds = cooldown_seconds
        self._window: deque[tuple[Observation, float]] = deque(maxlen=m)
        self._open: _OpenAlert | None = None
        self._cooldown_until = float("-inf")

    @property
    def is_open(self) -> bool:
        """Whether an alert is currently open."""
        return self._open is not None

    def observe(
        self,
        obs: Observation,
        timestamp: float,
        camera_id: str,
        drill: bool = False,
    ) -> AlertTransition | None:
        """Feed one frame's observation; return a transition when the alert changes."""
        self._window.append((obs, timestamp))
        if self._open is None:
            return self._maybe_start(obs, timestamp, camera_id, drill)
        alert = self._open
        if obs.active:
            alert.last_active = max(alert.last_active, timestamp)
            alert.scores.append(obs.score)
            alert.score_times.append(timestamp)
            alert.boxes = obs.boxes
            alert.track_ids = obs.track_ids
            alert.detail = obs.detail
            return self._maybe_update(alert, timestamp)
        if timestamp - alert.last_active >= self.quiet_seconds:
            return self._end(timestamp)
        return None

    def forget_window(self) -> None:
        """Drop the frames gathered towards a start (the rule stopped being evaluated).

        Frames from before a pause must not combine with frames after it: two glimpses at
        16:59 and one at 07:00 the next morning are not three agreeing frames.
        """
        if self._open is None:
            self._window.clear()

    def close(self, timestamp: float) -> AlertTransition | None:
        """End the open alert now, if any (engine shutdown, camera removed)."""
        if self._open is None:
            return None
        return self._end(timestamp)

    def _maybe_start(
        self, obs: Observation, timestamp: float, camera_id: str, drill: bool
    ) -> AlertTransition | None:
        active = [(frame, at) for frame, at in self._window if frame.active]
        if len(active) < self.k or timestamp < self._cooldown_until or not obs.active:
            return None
        scores: deque[float] = deque((frame.score for frame, _ in active), maxlen=self.m)
        score_times: deque[float] = deque((at for _, at in active), maxlen=self.m)
        alert = _OpenAlert(
            alert_id=uuid.uuid4().hex,
            camera_id=camera_id,
            rule=obs.rule,
            zone=obs.zone,
            started_at=timestamp,
            drill=drill,
            last_active=timestamp,
            scores=scores,
            score_times=score_times,
            boxes=obs.boxes,
            track_ids=obs.track_ids,
            detail=obs.detail,
            reported_confidence=0.0,
            reported_box_count=0,
            reported_track_ids=frozenset(),
            last_report=timestamp,
        )
        self._open = alert
        return self._report(alert, "started", timestamp)

    def _maybe_update(self, alert: _OpenAlert, timestamp: float) -> AlertTransition | None:
        if timestamp - alert.last_report < UPDATE_MIN_INTERVAL_SECONDS:
            return None
        risen = alert.confidence >= alert.reported_confidence + UPDATE_CONFIDENCE_STEP - 1e-9
        joined = len(alert.boxes) > alert.reported_box_count or not set(alert.track_ids).issubset(
            alert.reported_track_ids
        )
        if not (risen or joined):
            return None
        return self._report(alert, "updated", timestamp)

    def _end(self, timestamp: float) -> AlertTransition:
        alert = self._open
        assert alert is not None
        self._open = None
        self._window.clear()
        self._cooldown_until = timestamp + self.cooldown_seconds
        return self._transition(alert, "ended", timestamp)

    def _report(
        self,
        alert: _OpenAlert,
        state: Literal["started", "updated"],
        timestamp: float,
    ) -> AlertTransition:
        alert.reported_confidence = alert.confidence
        alert.reported_box_count = len(alert.boxes)
        alert.reported_track_ids = alert.reported_track_ids | frozenset(alert.track_ids)
        alert.last_report = timestamp
        return self._transition(alert, state, timestamp)

    @staticmethod
    def _transition(
        alert: _OpenAlert, state: Literal["started", "updated", "ended"], timestamp: float
    ) -> AlertTransition:
        return AlertTransition(
            alert_id=alert.alert_id,
            camera_id=alert.camera_id,
            rule=alert.rule,
            zone=alert.zone,
            state=state,
            timestamp=timestamp,
            started_at=alert.started_at,
            confidence=alert.confidence,
            scores=tuple(alert.scores),
            boxes=alert.boxes,
            track_ids=alert.track_ids,
            drill=alert.drill,
            detail=dict(alert.detail),
            score_times=tuple(alert.score_times),
        )
