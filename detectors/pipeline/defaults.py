"""The rule set used when a camera (or ``analyze``) names none.

Every rule that needs no site knowledge runs with its defaults: weapon, fight, person
down, loitering, crowd and tamper. ``intrusion`` is left out because it means nothing
without zones or lines and a restricted schedule: enabled on the whole frame at all hours
it would alert on every passer-by.
"""

from __future__ import annotations

from typing import Any

from detectors.rules import RULE_SCHEMAS
from detectors.rules.engine import RuleEngine

DEFAULT_RULES = ("weapon", "fight", "person_down", "loitering", "crowd", "tamper")


def default_rule_options() -> dict[str, dict[str, Any]]:
    """Validated default options of every rule in :data:`DEFAULT_RULES`."""
    return {name: dict(RULE_SCHEMAS[name]({})) for name in DEFAULT_RULES}


def default_rule_engine(camera_id: str) -> RuleEngine:
    """A rule engine for ``camera_id`` with the default rules, no zones, always on."""
    return RuleEngine(camera_id, default_rule_options(), zones=(), lines=(), schedules={})
