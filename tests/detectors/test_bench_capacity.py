"""The capacity benchmark's arithmetic: the machine's limit and the ramp's first step."""

from __future__ import annotations

import pytest

from detectors.bench_capacity import _schedule, machine_limit


def test_a_shared_cpu_limit_adds_each_cameras_costs() -> None:
    # 90 cameras' worth of decoding or 15 of inference on the same two cores: a camera
    # takes 2/90 + 2/15 cores, so 12.86 cameras fill them, not min(90, 15) = 15.
    assert machine_limit(90.0, 15.0, shared=True) == pytest.approx(1 / (1 / 90 + 1 / 15))
    assert machine_limit(90.0, 15.0, shared=True) == pytest.approx(12.857, abs=0.001)


def test_separate_devices_are_limited_by_the_scarcer_one() -> None:
    assert machine_limit(90.0, 15.0, shared=False) == 15.0
    assert machine_limit(10.0, 15.0, shared=False) == 10.0


def test_a_missing_baseline_gives_no_limit() -> None:
    assert machine_limit(0.0, 15.0, shared=True) == 0.0
    assert machine_limit(90.0, 0.0, shared=False) == 0.0


def test_the_ramp_starts_at_six_tenths_of_the_limit_unless_told() -> None:
    assert _schedule(14.2, 40) == (8, 1)
    assert _schedule(14.2, 6) == (6, 1)  # never above --max-cameras
    assert _schedule(14.2, 40, start=11) == (11, 1)  # --start-cameras
    assert _schedule(14.2, 9, start=11) == (9, 1)
    assert _schedule(30.0, 40) == (18, 3)
