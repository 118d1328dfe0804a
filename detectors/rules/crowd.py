"""Crowd rule: too many people in a zone (or the frame) at once.

Only confirmed person tracks count, so a burst of duplicate detections on one frame
cannot inflate the count. The score is the mean track score of the people counted.

Defaults, and why: ``max_people`` 20 (a full class in a corridor; set it per camera from
the space's capacity); ``min_score`` 0.5 on each person track's score; ``confirm`` 3 of 5
(a crowd that matters lasts); ``quiet_seconds`` 30 and ``cooldown_seconds`` 120 because
counts hover around the threshold while a crowd forms and disperses.
"""

from __future__ import annotations

from typing import ClassVar

import voluptuous as vol

from detectors.rules.base import Observation, Rule, people, rule_schema
from detectors.types import FrameAnalysis


class CrowdRule(Rule):
    """Raise when at least ``max_people`` person tracks stand in a zone."""

    name: ClassVar[str] = "crowd"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = rule_schema(
        k=3,
        m=5,
        min_score=0.5,
        quiet_seconds=30.0,
        cooldown_seconds=120.0,
        specific={vol.Optional("max_people", default=20): vol.All(int, vol.Range(min=1))},
    )

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Count the people in each zone."""
        present = people(frame, self.min_score)
        limit = int(self.options["max_people"])
        observations: list[Observation] = []
        for zone in self.watched_zones():
            inside = [person for person in present if self.in_zone(zone, person.anchor)]
            crowded = len(inside) >= limit
            mean_score = sum(p.track.score for p in inside) / len(inside) if inside else 0.0
            observations.append(
                Observation(
                    rule=self.name,
                    zone=zone.name if zone is not None else None,
                    active=crowded,
                    score=round(mean_score, 4),
                    boxes=tuple(p.track.box for p in inside) if crowded else (),
                    track_ids=tuple(p.track.track_id for p in inside) if crowded else (),
                    detail={"people": len(inside), "max_people": limit},
                )
            )
        return observations
