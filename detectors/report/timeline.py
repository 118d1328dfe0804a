"""One incident in the order things happened: detected, paged, confirmed or dismissed, locked...

Every time is the engine's clock (the alert's, the log's stamp on each person's and each
playbook's record), so the seconds between steps are differences on one clock. Pages come
from the ``notified`` records (who was told); a ``paged`` response step is shown only for
an alert without them, so a playbook that records both is not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from detectors.incidents.records import EventRecord

type Outcome = Literal["confirmed", "dismissed", "unanswered"]

STEP_WORDS: Final = {
    "detected": "Detected",
    "paged": "Paged",
    "confirmed": "Confirmed",
    "dismissed": "Dismissed as a false alarm",
    "doors_locked": "Doors locked",
    "doors_unlocked": "Doors unlocked",
    "pa_played": "PA announcement",
    "mode_set": "Response mode set",
    "other": "Other step",
    "all_clear": "All clear",
    "ended": "Alert ended",
}
"""Each timeline step in words, in the order a response usually takes."""


@dataclass(frozen=True, slots=True)
class Milestone:
    """One line of a timeline: what, when (engine clock), seconds after detection, by whom."""

    step: str
    at: float
    seconds: float
    by: str
    detail: str


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """Seconds from detection to the first page, to the decision, to the doors locked."""

    first_page: float | None
    decision: float | None
    lockdown: float | None


def outcome(record: EventRecord) -> Outcome:
    """Confirmed (acknowledged), dismissed, or nobody answered."""
    if record.dismissed:
        return "dismissed"
    return "confirmed" if record.acknowledged else "unanswered"


def _pages(record: EventRecord) -> list[tuple[float, str, str]]:
    """(at, by, detail) of every page: the notifications, else the ``paged`` steps."""
    if record.notified:
        return [(n.at, n.by, f"{', '.join(n.recipients)} ({n.channel})") for n in record.notified]
    return [
        (a.at, a.by, f"{', '.join(a.targets)}{f' ({a.note})' if a.note else ''}")
        for a in record.actions
        if a.step == "paged"
    ]


def _step_detail(targets: tuple[str, ...], confirmed: dict[str, bool], note: str) -> str:
    parts = []
    if targets:
        said = [
            f"{t}{'' if t not in confirmed else (' ✓' if confirmed[t] else ' ✗')}" for t in targets
        ]
        parts.append(", ".join(said))
    if note:
        parts.append(note)
    return "; ".join(parts)


def timeline(record: EventRecord) -> list[Milestone]:
    """The incident's steps, oldest first (a tie keeps the order of :data:`STEP_WORDS`)."""
    start = record.started_at
    rows: list[tuple[float, str, str, str]] = [(start, "detected", "", record.camera_name)]
    rows += [(at, "paged", by, detail) for at, by, detail in _pages(record)]
    if record.acknowledged_at is not None:
        rows.append(
            (
                record.acknowledged_at,
                "confirmed",
                record.acknowledged_by or "",
                record.acknowledged_note or "",
            )
        )
    if record.dismissed_at is not None:
        rows.append(
            (
                record.dismissed_at,
                "dismissed",
                record.dismissed_by or "",
                record.dismissed_reason or "",
            )
        )
    for action in record.actions:
        if action.step != "paged":
            detail = _step_detail(action.targets, dict(action.confirmed), action.note)
            rows.append((action.at, action.step, action.by, detail))
    if record.ended_at is not None:
        rows.append((record.ended_at, "ended", "", record.end_reason or ""))
    order = list(STEP_WORDS)
    rows.sort(key=lambda row: (row[0], order.index(row[1])))
    return [Milestone(step, at, at - start, by, detail) for at, step, by, detail in rows]


def response_times(record: EventRecord) -> ResponseTimes:
    """How long the response took, from the incident's own record (None: never happened)."""
    start = record.started_at
    pages = [at for at, _, _ in _pages(record)]
    decided = [t for t in (record.acknowledged_at, record.dismissed_at) if t is not None]
    locked = [a.at for a in record.actions if a.step == "doors_locked"]
    return ResponseTimes(
        first_page=min(pages) - start if pages else None,
        decision=min(decided) - start if decided else None,
        lockdown=min(locked) - start if locked else None,
    )
