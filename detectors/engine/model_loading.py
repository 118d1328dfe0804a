"""Loading the models a configuration names, each only with its licence accepted.

The configuration loader already refuses an opt-in model whose licence is not in
``models.accept_licences``; checking again here means no other way of building an
``EngineConfig`` can run one unacknowledged. An optional fight model that cannot be
loaded is skipped (the fight rule judges by pose alone) and said so in ``/info``.
"""

from __future__ import annotations

import logging

from detectors.config import ModelsSection
from detectors.errors import ModelError
from detectors.inference import InferenceRuntime
from detectors.pipeline.processor import Models
from detectors.vision import load_detector, load_optional_fight_classifier, load_pose_estimator
from detectors.zoo.catalog import ModelEntry, licence_problem
from detectors.zoo.store import ModelStore

_LOGGER = logging.getLogger(__name__)


def _entry(names: ModelsSection, store: ModelStore, name: str, key: str) -> ModelEntry:
    """The zoo entry ``models.<key>`` names, if the configuration accepts its licence."""
    entry = store.entry(name)
    problem = licence_problem(entry, names.accept_licences)
    if problem is not None:
        raise ModelError(f"models.{key}: {problem}")
    return entry


def load_models(
    names: ModelsSection,
    store: ModelStore,
    runtime: InferenceRuntime,
    skipped: dict[str, dict[str, str]],
) -> Models:
    """Every configured model, compiled on ``runtime``; ``skipped`` learns what was left out."""
    detector = load_detector(_entry(names, store, names.detector, "detector"), runtime, store)
    pose = None
    if names.pose is not None:
        pose = load_pose_estimator(_entry(names, store, names.pose, "pose"), runtime, store)
    weapon = None
    if names.weapon is not None:
        weapon = load_detector(_entry(names, store, names.weapon, "weapon"), runtime, store)
    if names.fight is not None:
        _entry(names, store, names.fight, "fight")  # the licence check; the loader may skip it
    fight, reason = load_optional_fight_classifier(
        names.fight, runtime, store, with_pose=pose is not None
    )
    if reason is not None and names.fight is not None:
        _LOGGER.warning(
            "fight model %s %s: the fight rule judges by pose alone", names.fight, reason
        )
        skipped["fight"] = {"name": names.fight, "reason": reason}
    fall = None
    if names.fall is not None:
        fall = load_detector(_entry(names, store, names.fall, "fall"), runtime, store)
    return Models(detector, pose, weapon, fight, fall)
