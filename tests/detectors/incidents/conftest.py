"""A real incident log on disk per test, with a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from detectors.incidents.log import IncidentLog


class FakeClock:
    """The time the log stamps changes with; tests set ``now``."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_000.0)


@pytest.fixture
def log(tmp_path: Path, clock: FakeClock) -> Iterator[IncidentLog]:
    """A new log (nothing to recover), closed after the test."""
    incident_log = IncidentLog(tmp_path / "data" / "incidents.sqlite3", clock=clock)
    assert incident_log.open() == []
    yield incident_log
    incident_log.close()
