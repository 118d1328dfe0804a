"""The capacity benchmark's arithmetic: the machine's limit and the ramp's first step."""

from __future__ import annotations

import pytest

from detectors.bench_capacity import StepResult, _schedule, machine_limit, next_count


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


def _steps(*outcomes: tuple[int, bool]) -> list[StepResult]:
    return [
        StepResult(
            cameras=n,
            held=held,
            why=None if held else "missed slots",
            missed_share=0.0,
            analysed_fps_min=5.0,
            reconnects=0,
            frame_to_rules_ms={},
            frame_to_websocket_ms={},
            frame_to_mqtt_ms={},
            cores_used=1.0,
            rss_mb_per_camera=15.0,
            inferences_per_frame=1.0,
        )
        for n, held in outcomes
    ]


def test_the_ramp_climbs_then_narrows_to_the_largest_n_held() -> None:
    assert next_count(_steps((10, True)), 2) == 12
    assert next_count(_steps((10, True), (12, False)), 2) == 11  # never skipped
    assert next_count(_steps((10, True), (12, False), (11, True)), 2) is None
    assert next_count(_steps((10, True), (12, False), (11, False)), 2) is None
    assert next_count(_steps((10, True), (11, False)), 1) is None


def test_the_ramp_steps_down_until_one_holds() -> None:
    assert next_count(_steps((9, False)), 2) == 7
    assert next_count(_steps((9, False), (7, True)), 2) == 8
    assert next_count(_steps((9, False), (7, True), (8, True)), 2) is None
    assert next_count(_steps((1, False)), 1) is None
