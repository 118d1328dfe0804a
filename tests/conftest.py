"""Shared test set-up: where the sample media and models are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "artifacts"


def _samples_dir() -> Path:
    env = os.environ.get("SCHOOL_GUARD_SAMPLES")
    return Path(env) if env else SHARED / "media"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The sample media folder (vtest.avi, person.jpg, astronaut.png); required."""
    folder = _samples_dir()
    assert (folder / "vtest.avi").is_file(), f"sample media missing in {folder}"
    return folder
