"""The rule engine of one camera: masks, schedules, rules and confirmation together.

Each analysed frame goes through the same steps: detections, poses and tracks whose
anchor lies in a privacy/nuisance mask are dropped; every enabled rule whose schedule is
active evaluates the frame; each observation feeds the :class:`Confirmer` of its
(rule, zone), which decides when alerts start, update and end.

A rule whose schedule turns off is not evaluated, and its open alerts end at the normal
quiet pace (as if every frame were inactive) rather than at once, so the end time in the
incident log is when the evidence stopped, and a schedule edge does not cut an alert short
the moment it began.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from detectors.errors import ConfigError
from detectors.geometry import anchor_point, point_in_polygon
from detectors.rules import RULES
from detectors.rules.base import Line, Observation, Rule, Zone
from detectors.rules.confirmation import AlertTransition, Confirmer
from detectors.schedule import ALWAYS_SCHEDULE, NEVER_SCHEDULE, Schedule, local_timezone
from detectors.types import BoxXYXY, FrameAnalysis

type Polygon = Sequence[tuple[float, float]]


class RuleEngine:
    """Evaluate one camera's rules frame by frame and emit alert transitions."""

    def __init__(
        self,
        camera_id: str,
        rules: Mapping[str, Mapping[str, Any]],
        zones: Sequence[Zone],
        lines: Sequence[Line],
        schedules: Mapping[str, Schedule],
        *,
        masks: Sequence[Polygon] = (),
        tz: dt.tzinfo | None = None,
    ) -> None:
        """Build the enabled rules; raise :class:`ConfigError` naming any bad reference."""
        self.camera_id = camera_id
        zone_map = _by_name(zones, f"cameras.{camera_id}.zones")
        line_map = _by_name(lines, f"cameras.{camera_id}.lines")
        self._schedules: dict[str, Schedule] = {
            ALWAYS_SCHEDULE.name: ALWAYS_SCHEDULE,
            NEVER_SCHEDULE.name: NEVER_SCHEDULE,
            **schedules,
        }
        self._rules: list[Rule] = []
        for name, options in rules.items():
            rule_class = RULES.get(name)
            if rule_class is None:
                raise ConfigError(
                    f"cameras.{camera_id}.rules: unknown rule '{name}' "
                    f"(rules: {', '.join(sorted(RULES))})"
                )
            rule = rule_class(options, zone_map, line_map)
            if not rule.enabled:
                continue
            if rule.schedule not in self._schedules:
                raise ConfigError(
                    f"cameras.{camera_id}.rules.{name}.schedule: unknown schedule "
                    f"'{rule.schedule}' (schedules: {', '.join(sorted(self._schedules))})"
                )
            self._rules.append(rule)
        self._masks = tuple(tuple(polygon) for polygon in masks)
        self._tz = tz if tz is not None else local_timezone()
        self._confirmers: dict[tuple[str, str | None], Confirmer] = {}
        self._scheduled: dict[str, bool] = {}

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The enabled rules, in configuration order."""
        return tuple(self._rules)

    def process(self, frame: FrameAnalysis) -> list[AlertTransition]:
        """Run every enabled rule on ``frame`` and return the alert transitions it causes."""
        visible = self._apply_masks(frame)
        transitions: list[AlertTransition] = []
        for rule in self._rules:
            on = self._schedules[rule.schedule].active(frame.timestamp, self._tz)
            if self._scheduled.get(rule.name, True) and not on:
                rule.reset()
                for (rule_name, _zone), confirmer in self._confirmers.items():
                    if rule_name == rule.name:
                        confirmer.forget_window()
            self._scheduled[rule.name] = on
            if on:
                observations = rule.evaluate(visible)
            else:
                observations = [
                    Observation(rule.name, zone, False, 0.0)
                    for (rule_name, zone), confirmer in self._confirmers.items()
                    if rule_name == rule.name and confirmer.is_open
                ]
            for obs in observations:
                confirmer = self._confirmer(rule, obs.zone)
                transition = confirmer.observe(obs, frame.timestamp, self.camera_id, frame.drill)
                if transition is not None:
                    transitions.append(transition)
        return transitions

    def close_all(self, timestamp: float) -> list[AlertTransition]:
        """End every open alert now (shutdown, camera removed)."""
        transitions: list[AlertTransition] = []
        for confirmer in self._confirmers.values():
            transition = confirmer.close(timestamp)
            if transition is not None:
                transitions.append(transition)
        return transitions

    def thresholds(self) -> dict[str, dict[str, object]]:
        """Return the options in force for every enabled rule (for the incident log)."""
        return {rule.name: dict(rule.thresholds()) for rule in self._rules}

    def _confirmer(self, rule: Rule, zone: str | None) -> Confirmer:
        key = (rule.name, zone)
        confirmer = self._confirmers.get(key)
        if confirmer is None:
            confirmer = Confirmer(
                rule.confirm_k, rule.confirm_m, rule.quiet_seconds, rule.cooldown_seconds
            )
            self._confirmers[key] = confirmer
        return confirmer

    def _masked(self, box: BoxXYXY, frame_size: tuple[int, int]) -> bool:
        x, y = anchor_point(box, frame_size)
        return any(point_in_polygon(x, y, polygon) for polygon in self._masks)

    def _apply_masks(self, frame: FrameAnalysis) -> FrameAnalysis:
        """Drop everything whose anchor lies in a mask polygon."""
        if not self._masks:
            return frame
        size = frame.frame_size
        return dataclasses.replace(
            frame,
            detections=tuple(d for d in frame.detections if not self._masked(d.box, size)),
            poses=tuple(p for p in frame.poses if not self._masked(p.box, size)),
            tracks=tuple(t for t in frame.tracks if not self._masked(t.box, size)),
        )


def _by_name[T: (Zone, Line)](items: Sequence[T], where: str) -> dict[str, T]:
    mapping: dict[str, T] = {}
    for item in items:
        if item.name in mapping:
            raise ConfigError(f"{where}: '{item.name}' is defined twice")
        mapping[item.name] = item
    return mapping
