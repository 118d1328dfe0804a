"""Tamper rule: the camera is blacked out, blurred, turned away, or its stream is lost.

The whole view is affected, so the rule has no zones (``zones`` must stay null) and
masks do not apply. A condition must hold continuously for ``seconds`` before frames
count, so a light switched off for a moment or a truck passing close to the lens does
not count; a single good frame restarts the clock.

Scores say how clear the evidence is: 1.0 for a lost stream; otherwise 0.5 at the
threshold rising to 1.0 for a fully black, fully flat or fully changed view.

Defaults, and why: ``dark_level`` 12 (mean grey of a covered lens; a dim corridor at
night stays above ~20); ``blur_level`` 15 (Laplacian variance of a smeared or sprayed
lens; ordinary scenes give hundreds); ``shift_level`` 0.6 (most of the learned view
gone); ``seconds`` 3; ``confirm`` 2 of 3; ``cooldown_seconds`` 60.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import voluptuous as vol

from detectors.rules.base import Line, Observation, Rule, Zone, number, rule_schema, seconds
from detectors.types import FrameAnalysis


class TamperRule(Rule):
    """Raise when the view is unusable for ``seconds``."""

    name: ClassVar[str] = "tamper"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = rule_schema(
        k=2,
        m=3,
        min_score=0.5,
        quiet_seconds=10.0,
        cooldown_seconds=60.0,
        zones_allowed=False,
        specific={
            vol.Optional("dark_level", default=12.0): number(),
            vol.Optional("blur_level", default=15.0): number(),
            vol.Optional("shift_level", default=0.6): vol.All(
                vol.Coerce(float), vol.Range(min=0.0, max=1.0, min_included=False)
            ),
            vol.Optional("seconds", default=3.0): seconds(),
        },
    )

    def __init__(
        self, options: Mapping[str, Any], zones: Mapping[str, Zone], lines: Mapping[str, Line]
    ) -> None:
        """Start with no condition held."""
        super().__init__(options, zones, lines)
        self._since: float | None = None

    def reset(self) -> None:
        """Restart the hold timer."""
        self._since = None

    def conditions(self, frame: FrameAnalysis) -> dict[str, float]:
        """Return each tamper condition present in ``frame`` with its score."""
        found: dict[str, float] = {}
        if not frame.stream_ok:
            found["stream_lost"] = 1.0
        quality = frame.quality
        if quality is None:
            return found
        dark = float(self.options["dark_level"])
        blur = float(self.options["blur_level"])
        shift = float(self.options["shift_level"])
        if quality.brightness < dark:
            found["blackout"] = 0.5 + 0.5 * (1.0 - max(0.0, quality.brightness) / dark)
        if quality.sharpness < blur:
            found["blur"] = 0.5 + 0.5 * (1.0 - max(0.0, quality.sharpness) / blur)
        if quality.view_shift > shift:
            found["view_moved"] = 0.5 + 0.5 * min(1.0, (quality.view_shift - shift) / (1 - shift))
        return found

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Report the strongest tamper condition once it has held ``seconds``."""
        found = self.conditions(frame)
        if not found:
            self._since = None
            return [Observation(self.name, None, False, 0.0)]
        if self._since is None or self._since > frame.timestamp:
            self._since = frame.timestamp
        held = frame.timestamp - self._since
        reason, score = max(found.items(), key=lambda item: item[1])
        return [
            Observation(
                rule=self.name,
                zone=None,
                active=held >= self.options["seconds"] and score >= self.min_score,
                score=round(score, 4),
                detail={"reason": reason, "conditions": sorted(found), "held_seconds": held},
            )
        ]
