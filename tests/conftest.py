"""Shared test set-up: where the sample media is (scripts/setup fetched and verified it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.artifacts.samples import SAMPLES, SampleStore
from detectors.errors import SampleError
from detectors.zoo.store import ModelStore


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The verified sample folder (vtest.avi, person.jpg, astronaut.png); required.

    The same folder the README's commands use (``$SCHOOL_GUARD_SAMPLES``, else
    ``~/.cache/school-guard/samples``): tests never fetch, so a missing sample fails here
    with the command that brings it.
    """
    store = SampleStore()
    try:
        paths = [store.path(name) for name in SAMPLES]
    except SampleError as err:
        pytest.fail(f"{err}", pytrace=False)
    return paths[0].parent


@pytest.fixture(scope="session")
def vtest_path(samples_dir: Path) -> Path:
    """The sample footage: 768x576, 10 fps, pedestrians seen from above."""
    return samples_dir / "vtest.avi"


@pytest.fixture(scope="session")
def model_store() -> ModelStore:
    """The model cache scripts/setup filled (read-only use in tests), mirror from the environment."""
    return ModelStore()
