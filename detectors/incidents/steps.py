"""A response step or a notification, checked before it joins an alert's timeline.

Playbooks and people report what they did (doors locked, PA played, mode set...) through
``POST /events/{id}/actions``; every field is checked here, with a message naming it, so
the log stores only steps an after-action report can order and count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from detectors.errors import IncidentLogError
from detectors.incidents.changes import named
from detectors.incidents.records import (
    MAX_RECIPIENTS,
    MAX_STEP_TARGETS,
    MAX_TARGET_LENGTH,
    RESPONSE_STEPS,
    Notification,
    ResponseAction,
    ResponseStepKind,
)

MAX_STEP_ID_LENGTH = 64


def response_action(
    step_id: str,
    step: str,
    targets: Sequence[str],
    confirmed: Mapping[str, bool] | None,
    *,
    by: str,
    note: str,
    at: float,
) -> ResponseAction:
    """The step as stored; :class:`IncidentLogError` naming the first bad field."""
    key = named(step_id, "step_id")
    if len(key) > MAX_STEP_ID_LENGTH:
        raise IncidentLogError(f"step_id: at most {MAX_STEP_ID_LENGTH} characters, got {len(key)}")
    if step not in RESPONSE_STEPS:
        raise IncidentLogError(f"step: unknown step {step!r} (known: {', '.join(RESPONSE_STEPS)})")
    aimed = tuple(named(t, "target") for t in targets)
    if len(aimed) > MAX_STEP_TARGETS or len(set(aimed)) != len(aimed):
        raise IncidentLogError(
            f"targets: at most {MAX_STEP_TARGETS} different names, got {len(aimed)}"
        )
    if any(len(t) > MAX_TARGET_LENGTH for t in aimed):
        raise IncidentLogError(f"targets: at most {MAX_TARGET_LENGTH} characters each")
    answers = dict(confirmed or {})
    strangers = sorted(set(answers) - set(aimed))
    if strangers:
        raise IncidentLogError(f"confirmed: not among the targets: {', '.join(strangers)}")
    if not all(isinstance(v, bool) for v in answers.values()):
        raise IncidentLogError("confirmed: each value must be true or false")
    person = named(by, "by")
    kind = cast("ResponseStepKind", step)  # checked against RESPONSE_STEPS above
    return ResponseAction(key, kind, aimed, answers, person, note.strip(), at)


def notification(recipients: Sequence[str], channel: str, by: str, *, at: float) -> Notification:
    """Who was told, through what, by whom; :class:`IncidentLogError` naming a bad field."""
    names = tuple(named(r, "recipient") for r in recipients)
    if not 1 <= len(names) <= MAX_RECIPIENTS:
        raise IncidentLogError(
            f"recipients: between 1 and {MAX_RECIPIENTS} names, got {len(names)}"
        )
    return Notification(names, named(channel, "channel"), named(by, "by"), at)
