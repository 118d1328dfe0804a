"""The after-action report over the API: the summary Home Assistant's review sensors show.

The full report (every incident's timeline) is the report package's document; over the API
the engine answers the few numbers a dashboard shows, drills and real incidents apart, and
the HTML page for a person to download (``GET /report.html``).
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.protocol.schema import INTEGER, NUMBER, Field, JsonSchema, Shape, nullable
from detectors.report.numbers import Kind, Totals


def _per_kind(schema: JsonSchema) -> JsonSchema:
    return {
        "type": "object",
        "properties": {"real": schema, "drill": schema},
        "required": ["real", "drill"],
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """The last ``days`` days: counts, false-alarm shares and median response times."""

    days: int
    start: float
    end: float
    totals: Totals


def _kinds(value: dict[Kind, object]) -> dict[str, object]:
    return {"real": value["real"], "drill": value["drill"]}


_SECONDS = _per_kind(nullable(NUMBER))

SUMMARY = Shape[ReportSummary](
    "ReportSummary",
    [
        Field("days", INTEGER, lambda s: s.days),
        Field("from", NUMBER, lambda s: s.start),
        Field("to", NUMBER, lambda s: s.end),
        Field("incidents", _per_kind(INTEGER), lambda s: _kinds(dict(s.totals.incidents))),
        Field(
            "dismissed",
            _per_kind(INTEGER),
            lambda s: {k: s.totals.false_alarms[k].dismissed for k in ("real", "drill")},
        ),
        Field(
            "false_alarm_share",
            _per_kind(nullable(NUMBER)),
            lambda s: {k: s.totals.false_alarms[k].share for k in ("real", "drill")},
            description="dismissed / all alerts of that kind; null without alerts",
        ),
        Field(
            "median_seconds_to_first_page",
            _SECONDS,
            lambda s: {k: s.totals.times["first_page"][k].median for k in ("real", "drill")},
        ),
        Field(
            "median_seconds_to_decision",
            _SECONDS,
            lambda s: {k: s.totals.times["decision"][k].median for k in ("real", "drill")},
            description="to the acknowledgement (confirm) or dismissal",
        ),
        Field(
            "median_seconds_to_lockdown",
            _SECONDS,
            lambda s: {k: s.totals.times["lockdown"][k].median for k in ("real", "drill")},
        ),
    ],
    description="The after-action numbers of the last days, real incidents and drills apart.",
)
