"""Alert rules, K-of-M confirmation and the per-camera rule engine.

:data:`RULES` maps each rule's configuration name to its class and
:data:`RULE_SCHEMAS` to its option schema, for the configuration loader.
"""

from __future__ import annotations

import voluptuous as vol

from detectors.rules.base import Line, Observation, Rule, Zone
from detectors.rules.confirmation import AlertTransition, Confirmer
from detectors.rules.crowd import CrowdRule
from detectors.rules.fight import FightRule
from detectors.rules.intrusion import IntrusionRule
from detectors.rules.loitering import LoiteringRule
from detectors.rules.person_down import PersonDownRule
from detectors.rules.tamper import TamperRule
from detectors.rules.weapon import WeaponRule

RULES: dict[str, type[Rule]] = {
    rule.name: rule
    for rule in (
        WeaponRule,
        FightRule,
        PersonDownRule,
        IntrusionRule,
        LoiteringRule,
        CrowdRule,
        TamperRule,
    )
}
RULE_SCHEMAS: dict[str, vol.Schema] = {name: cls.CONFIG_SCHEMA for name, cls in RULES.items()}

__all__ = [
    "RULES",
    "RULE_SCHEMAS",
    "AlertTransition",
    "Confirmer",
    "Line",
    "Observation",
    "Rule",
    "Zone",
]
