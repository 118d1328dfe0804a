"""The report's totals: counts, the false-alarm share and response times, drills apart.

Why every number has a ``real`` and a ``drill`` side and no combined one: a term of drills
answered in twenty seconds would hide a real incident answered in five minutes, and drill
alerts are dismissed on purpose. The reader sees both, side by side, never a blend.

Percentiles are nearest-rank (the value below which at least that share of the times
fall, always one of the measured times), so a principal can find the number in the
timelines; the median is the usual middle value (the mean of the two middle ones).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final, Literal

from detectors.report.source import Incident
from detectors.report.timeline import ResponseTimes, response_times

type Kind = Literal["real", "drill"]
KINDS: Final[tuple[Kind, ...]] = ("real", "drill")
TIMES: Final = ("first_page", "decision", "lockdown")
"""The response times reported: to the first page, to confirm or dismiss, to doors locked."""


def kind_of(incident: Incident) -> Kind:
    """Whether the alert was a drill."""
    return "drill" if incident.record.drill else "real"


def nearest_rank(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in (0, 1]) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Spread:
    """How many times were measured, their median and 90th percentile (None: none)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values``."""
        if not values:
            return cls(0, None, None)
        return cls(len(values), statistics.median(values), nearest_rank(values, 0.9))


@dataclass(frozen=True, slots=True)
class Share:
    """Dismissed alerts out of all alerts of one kind (None: there were none)."""

    dismissed: int
    total: int

    @property
    def share(self) -> float | None:
        """``dismissed / total``."""
        return None if self.total == 0 else self.dismissed / self.total


@dataclass(frozen=True, slots=True)
class Totals:
    """Everything the report counts, each split into real and drill."""

    incidents: dict[Kind, int]
    by_rule: dict[str, dict[Kind, int]]
    by_camera: dict[str, dict[Kind, int]]
    by_hour: dict[int, dict[Kind, int]]
    false_alarms: dict[Kind, Share]
    times: dict[str, dict[Kind, Spread]]


def _count(
    incidents: Iterable[Incident], key: Callable[[Incident], object]
) -> dict[object, dict[Kind, int]]:
    counts: dict[object, dict[Kind, int]] = {}
    for incident in incidents:
        row = counts.setdefault(key(incident), {"real": 0, "drill": 0})
        row[kind_of(incident)] += 1
    return dict(sorted(counts.items(), key=lambda item: str(item[0])))


def totals(incidents: Sequence[Incident], zone: tzinfo) -> Totals:
    """Count and time ``incidents``; hours are local hours of ``zone``."""
    timed: list[tuple[Kind, ResponseTimes]] = [
        (kind_of(i), response_times(i.record)) for i in incidents
    ]
    by_hour: dict[int, dict[Kind, int]] = {hour: {"real": 0, "drill": 0} for hour in range(24)}
    for incident in incidents:
        hour = datetime.fromtimestamp(incident.record.started_at, zone).hour
        by_hour[hour][kind_of(incident)] += 1
    return Totals(
        incidents={k: sum(1 for i in incidents if kind_of(i) == k) for k in KINDS},
        by_rule={str(k): v for k, v in _count(incidents, lambda i: i.record.rule).items()},
        by_camera={str(k): v for k, v in _count(incidents, lambda i: i.record.camera_name).items()},
        by_hour=by_hour,
        false_alarms={
            k: Share(
                sum(1 for i in incidents if kind_of(i) == k and i.record.dismissed),
                sum(1 for i in incidents if kind_of(i) == k),
            )
            for k in KINDS
        },
        times={
            name: {
                k: Spread.of(
                    [v for kind, t in timed if kind == k and (v := getattr(t, name)) is not None]
                )
                for k in KINDS
            }
            for name in TIMES
        },
    )
