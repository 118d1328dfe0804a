"""The report as one JSON document: what JSON output writes and what HTML renders.

The document holds no image bytes (an incident says whether its evidence snapshot exists);
the HTML embeds the snapshots the log kept, nothing else (docs/privacy.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from detectors import __version__
from detectors.report.numbers import KINDS, TIMES, Spread, Totals, kind_of, totals
from detectors.report.source import Incident
from detectors.report.timeline import STEP_WORDS, outcome, response_times, timeline


@dataclass(frozen=True, slots=True)
class Period:
    """What the report covers: alerts that started in ``[start, end)``, on these cameras/rules."""

    start: float
    end: float
    zone: tzinfo
    cameras: Sequence[str] = ()
    rules: Sequence[str] = ()


def _when(at: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(at, zone).isoformat(timespec="seconds")


def _spread(spread: Spread) -> dict[str, object]:
    return {"count": spread.count, "median": spread.median, "p90": spread.p90}


def incident_json(incident: Incident, zone: tzinfo) -> dict[str, Any]:
    """One incident: who, where, what decided, its timeline and response times."""
    record = incident.record
    times = response_times(record)
    return {
        "id": record.id,
        "kind": kind_of(incident),
        "camera_id": record.camera_id,
        "camera_name": record.camera_name,
        "location": record.location,
        "rule": record.rule,
        "zone": record.zone,
        "started_at": record.started_at,
        "started": _when(record.started_at, zone),
        "ended_at": record.ended_at,
        "end_reason": record.end_reason,
        "confidence": record.confidence,
        "outcome": outcome(record),
        "model": {
            "name": record.model.name,
            "version": record.model.version,
            "device": record.model.device,
            "precision": record.model.precision,
        },
        "thresholds": dict(record.thresholds),
        "snapshot": record.has_snapshot,
        "timeline": [
            {
                "step": m.step,
                "words": STEP_WORDS[m.step],
                "at": m.at,
                "seconds": m.seconds,
                "by": m.by,
                "detail": m.detail,
            }
            for m in timeline(record)
        ],
        "times": {name: getattr(times, name) for name in TIMES},
    }


def totals_json(counted: Totals) -> dict[str, Any]:
    """The totals, each split into ``real`` and ``drill``."""
    return {
        "incidents": dict(counted.incidents),
        "by_rule": counted.by_rule,
        "by_camera": counted.by_camera,
        "by_hour": {f"{hour:02d}": row for hour, row in counted.by_hour.items()},
        "false_alarms": {
            kind: {
                "dismissed": counted.false_alarms[kind].dismissed,
                "total": counted.false_alarms[kind].total,
                "share": counted.false_alarms[kind].share,
            }
            for kind in KINDS
        },
        "response_times": {
            name: {kind: _spread(counted.times[name][kind]) for kind in KINDS} for name in TIMES
        },
    }


def report_json(incidents: Sequence[Incident], period: Period) -> dict[str, Any]:
    """The whole report."""
    return {
        "report": "school_guard after-action report",
        "version": __version__,
        "generated": _when(time.time(), period.zone),
        "period": {
            "from": _when(period.start, period.zone),
            "to": _when(period.end, period.zone),
            "timezone": str(period.zone),
            "cameras": list(period.cameras),
            "rules": list(period.rules),
        },
        "totals": totals_json(totals(incidents, period.zone)),
        "coverage": {
            "known": False,
            "note": "The incident log does not record camera status, so this report cannot "
            "say how long cameras were offline; the engine's camera connectivity sensors in "
            "Home Assistant keep that history",
        },
        "incidents": [incident_json(i, period.zone) for i in incidents],
    }
