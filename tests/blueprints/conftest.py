"""The real engine fixtures of the integration tests, reused for the playbooks.

The blueprints are exercised against the same real engine (real models, looped sample
video) that the integration's own tests use; these imports make its fixtures visible here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from tests.components.school_guard.conftest import (
    RunningEngine,
    auto_enable_custom_integrations,
    config_entry,
    running_engine,
)

from .playbook import School, school, stop_playbooks

__all__ = ["auto_enable_custom_integrations", "config_entry", "running_engine"]


@pytest.fixture
async def lincoln(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    tmp_path: Path,
) -> AsyncIterator[School]:
    """The school around the running engine; waiting playbook runs are stopped at the end."""
    built = await school(hass, config_entry, tmp_path / "config")
    yield built
    await stop_playbooks(hass)
